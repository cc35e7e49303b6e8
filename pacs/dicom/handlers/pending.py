"""Pending C-FIND responses sent as P-DATA directly. Thread-only; no trio here.

Every pending response of one C-FIND carries the same command set (the request's message ID,
SOP class, status Pending, a data set present); only the identifier changes. pynetdicom still
builds a DIMSE message object per response, setting and validating each command element
through pydicom, which after `identifier` and `commands` was the largest part of the SCP's
cost per match. While `PendingSender` is attached, a pending C-FIND response whose identifier
is already encoded goes out as the P-DATA primitives pynetdicom itself would queue (the
command fragment, then the identifier in fragments that fit the peer's maximum PDU), with the
command bytes encoded once per query. Every other message goes through pynetdicom as before.
"""

from __future__ import annotations

from typing import Any

from pynetdicom.dimse_messages import C_FIND_RSP
from pynetdicom.dimse_primitives import C_FIND
from pynetdicom.pdu_primitives import P_DATA

from pacs.dicom.commands import encode_command
from pacs.dicom.handlers.sendhook import SendHook

PENDING_STATUSES = frozenset({0xFF00, 0xFF01})
_COMMAND_LAST, _DATA_MORE, _DATA_LAST = b"\x03", b"\x00", b"\x02"
_PDV_OVERHEAD = 6  # PDV item length (4) + context ID (1) + message control header (1)


class PendingSender(SendHook):
    """Attached to one association's DIMSE provider for the span of one C-FIND answer."""

    def __init__(self, assoc: Any) -> None:
        super().__init__(assoc)
        self._commands: dict[tuple[int, str, int], bytes] = {}

    def send(self, primitive: Any, context_id: int) -> None:
        identifier = getattr(primitive, "Identifier", None)
        pending = isinstance(primitive, C_FIND) and primitive.Status in PENDING_STATUSES
        command = self._command(primitive) if pending and identifier is not None else None
        if command is None or identifier is None:
            self.forward(primitive, context_id)
            return
        for pdata in data_primitives(
            context_id, command, identifier.getvalue(), self._dimse.maximum_pdu_size
        ):
            self._dimse.dul.send_pdu(pdata)

    def _command(self, primitive: Any) -> bytes | None:
        key = (int(primitive.MessageIDBeingRespondedTo), str(primitive.AffectedSOPClassUID),
               int(primitive.Status))  # fmt: skip
        command = self._commands.get(key)
        if command is None:
            message = C_FIND_RSP()
            message.primitive_to_message(primitive)
            command = encode_command(message.command_set)
            if command is None:
                return None
            self._commands[key] = command
        return command


def data_primitives(context_id: int, command: bytes, data: bytes, max_pdu: int) -> list[Any]:
    """The P-DATA primitives of one message: the command in one fragment (a command set is
    far below any maximum PDU), then the data set, if any, in fragments of at most ``max_pdu``
    minus the PDV overhead (0: unlimited), the last one flagged as last."""
    out = [_pdata(context_id, _COMMAND_LAST + command)]
    size = max_pdu - _PDV_OVERHEAD if max_pdu else len(data)
    chunks = [data[start : start + size] for start in range(0, len(data), size)] if data else []
    for index, chunk in enumerate(chunks):
        flag = _DATA_LAST if index == len(chunks) - 1 else _DATA_MORE
        out.append(_pdata(context_id, flag + chunk))
    return out


def _pdata(context_id: int, value: bytes) -> Any:
    pdata = P_DATA()
    pdata.presentation_data_value_list.append((context_id, value))
    return pdata
