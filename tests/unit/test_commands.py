"""DIMSE command sets written by pacs.dicom.commands must be the bytes pydicom writes."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pynetdicom import dimse_messages, dimse_primitives, dsutils
from pynetdicom.dimse import _RQ_TO_MESSAGE, _RSP_TO_MESSAGE

from pacs.dicom import commands

CT = "1.2.840.10008.5.1.4.1.1.2"
FIND = "1.2.840.10008.5.1.4.1.2.2.1"


def _store_rq() -> Any:
    p = dimse_primitives.C_STORE()
    p.MessageID, p.AffectedSOPClassUID, p.AffectedSOPInstanceUID = 7, CT, "1.2.3.45"
    p.Priority, p.MoveOriginatorApplicationEntityTitle = 2, "MOVER"
    p.MoveOriginatorMessageID = 3
    p.DataSet = BytesIO(b"\x08\x00\x16\x00\x00\x00\x00\x00")
    return p


def _store_rsp() -> Any:
    p = dimse_primitives.C_STORE()
    p.MessageIDBeingRespondedTo, p.AffectedSOPClassUID = 7, CT
    p.AffectedSOPInstanceUID, p.Status = "1.2.3.456", 0x0000
    return p


def _find(pending: bool) -> Any:
    p = dimse_primitives.C_FIND()
    p.MessageIDBeingRespondedTo, p.AffectedSOPClassUID = 1, FIND
    p.Status = 0xFF00 if pending else 0x0000
    if pending:
        p.Identifier = BytesIO(b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY ")
    return p


def _move_rsp() -> Any:
    p = dimse_primitives.C_MOVE()
    p.MessageIDBeingRespondedTo, p.AffectedSOPClassUID = 2, FIND
    p.Status = 0xFF00
    p.NumberOfRemainingSuboperations, p.NumberOfCompletedSuboperations = 480, 20
    p.NumberOfFailedSuboperations, p.NumberOfWarningSuboperations = 0, 1
    return p


def _echo() -> Any:
    p = dimse_primitives.C_ECHO()
    p.MessageID = 65535
    p.AffectedSOPClassUID = "1.2.840.10008.1.1"
    return p


def _move_rq() -> Any:
    p = dimse_primitives.C_MOVE()
    p.MessageID, p.AffectedSOPClassUID, p.Priority = 9, FIND, 0
    p.MoveDestination = "STORESCP"
    p.Identifier = BytesIO(b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY ")
    return p


PRIMITIVES = {
    "store-rq": _store_rq,
    "store-rsp": _store_rsp,
    "find-pending": lambda: _find(True),
    "find-final": lambda: _find(False),
    "move-rsp": _move_rsp,
    "move-rq": _move_rq,
    "echo-rq": _echo,
}


def _command_set(primitive: Any) -> Dataset:
    table = _RQ_TO_MESSAGE if primitive.MessageIDBeingRespondedTo is None else _RSP_TO_MESSAGE
    message = table[primitive.__class__]()
    message.primitive_to_message(primitive)
    return message.command_set


@pytest.mark.parametrize("name", PRIMITIVES)
def test_same_bytes_as_pydicom(name: str) -> None:
    command = _command_set(PRIMITIVES[name]())
    assert commands.encode_command(command) == dsutils.encode(command, True, True)


def test_encoded_command_decodes_to_the_same_values() -> None:
    command = _command_set(_move_rsp())
    data = commands.encode_command(command)
    assert data is not None
    back = dsutils.decode(BytesIO(data), True, True)
    assert back.NumberOfRemainingSuboperations == 480
    assert back.CommandGroupLength == len(data) - 12  # group length counts what follows it


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("PatientName", "DOE"), ("AttributeIdentifierList", [0x00100010, 0x00100020])],
    ids=["not-a-command", "multi-valued-AT"],
)
def test_unusual_sets_are_left_to_pydicom(keyword: str, value: object) -> None:
    ds = _command_set(_echo())
    setattr(ds, keyword, value)
    assert commands.encode_command(ds) is None
    commands.install()
    assert dimse_messages.encode(ds, True, True) == dsutils.encode(ds, True, True)  # type: ignore[attr-defined]


def test_other_syntaxes_go_to_pydicom() -> None:
    command = _command_set(_store_rsp())
    got = commands._encode(command, False, True)
    assert got == dsutils.encode(command, False, True)
