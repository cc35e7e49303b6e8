"""Pending C-FIND responses sent by pacs.dicom.handlers.pending must be the P-DATA pynetdicom
itself would queue for them."""

from __future__ import annotations

from io import BytesIO
from types import SimpleNamespace
from typing import Any

import pytest
from pynetdicom.dimse_messages import C_FIND_RSP
from pynetdicom.dimse_primitives import C_FIND

from pacs.dicom import commands
from pacs.dicom.handlers.pending import PendingSender, data_primitives

FIND = "1.2.840.10008.5.1.4.1.2.2.1"


def _pending(identifier: bytes, status: int = 0xFF00) -> Any:
    p = C_FIND()
    p.MessageIDBeingRespondedTo, p.AffectedSOPClassUID, p.Status = 3, FIND, status
    p.Identifier = BytesIO(identifier)
    return p


def _pynetdicom(primitive: Any, context_id: int, max_pdu: int) -> list[list[tuple[int, bytes]]]:
    commands.install()  # as the server runs
    message = C_FIND_RSP()
    message.primitive_to_message(primitive)
    return [p.presentation_data_value_list for p in message.encode_msg(context_id, max_pdu)]


@pytest.mark.parametrize("max_pdu", [16382, 0, 100])
@pytest.mark.parametrize("size", [0, 10, 94, 95, 400], ids=lambda n: f"{n}B")
def test_same_pdata_as_pynetdicom(max_pdu: int, size: int) -> None:
    identifier = bytes(range(256)) * 2
    primitive = _pending(identifier[:size])
    reference = _pynetdicom(primitive, 5, max_pdu)
    command = reference[0][0][1][1:]
    ours = data_primitives(5, command, identifier[:size], max_pdu)
    assert [p.presentation_data_value_list for p in ours] == reference


class _Dimse:
    """Stands for pynetdicom's DIMSE provider: records what would reach the DUL."""

    maximum_pdu_size = 16382

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.by_pynetdicom: list[Any] = []
        self.dul = SimpleNamespace(send_pdu=self.sent.append)

    def send_msg(self, primitive: Any, context_id: int) -> None:
        self.by_pynetdicom.append(primitive)


def test_sender_sends_pending_itself_and_leaves_the_rest_to_pynetdicom() -> None:
    dimse = _Dimse()
    sender = PendingSender(SimpleNamespace(dimse=dimse))
    for n in range(3):
        dimse.send_msg(_pending(b"\x08\x00\x50\x00\x02\x00A%d" % n), 1)
    final = C_FIND()
    final.MessageIDBeingRespondedTo, final.AffectedSOPClassUID, final.Status = 3, FIND, 0
    dimse.send_msg(final, 1)
    assert dimse.by_pynetdicom == [final]
    assert len(dimse.sent) == 6  # command + identifier per match
    expected = _pynetdicom(_pending(b"\x08\x00\x50\x00\x02\x00A2"), 1, 16382)
    assert [p.presentation_data_value_list for p in dimse.sent[4:]] == expected
    sender.close()
    dimse.send_msg(_pending(b""), 1)
    assert len(dimse.sent) == 6 and len(dimse.by_pynetdicom) == 2
