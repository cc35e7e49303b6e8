"""Routing one association's outgoing DIMSE messages through our code for a while. Thread-only.

pynetdicom's service classes send each response themselves, with no hook to change how.
`SendHook` puts `send` in front of the association's DIMSE provider (an instance attribute
shadowing its method) until `close`; `forward` is pynetdicom's own sending."""

from __future__ import annotations

from typing import Any


class SendHook:
    def __init__(self, assoc: Any) -> None:
        self._dimse = assoc.dimse
        self._dimse.send_msg = self.send

    def close(self) -> None:
        vars(self._dimse).pop("send_msg", None)

    def send(self, primitive: Any, context_id: int) -> None:
        self.forward(primitive, context_id)

    def forward(self, primitive: Any, context_id: int) -> None:
        type(self._dimse).send_msg(self._dimse, primitive, context_id)
