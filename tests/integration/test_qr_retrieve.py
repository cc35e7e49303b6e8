"""C-MOVE and C-GET against a real server: DCMTK movescu/getscu/storescp as peers, pynetdicom
where a test needs exact statuses, chosen presentation contexts or a C-CANCEL."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE, build_role, evt

from tests import dicomgen
from tests.conftest import Server, dcmtk, free_port, send_file

STUDY_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
PATIENT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_GET = "1.2.840.10008.5.1.4.1.2.2.3"
EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"


@dataclass
class Archive:
    server: Server
    dest_port: int
    dead_port: int
    plain: list[Path]  # PAT001: one study, 2 series x 3, Explicit VR Little Endian
    packed_sources: list[Path]  # PAT002, stored as JPEG-LS lossless
    many: list[Path]  # PAT003: 30 small instances

    def uid(self, path: Path, keyword: str) -> str:
        return str(dcmread(path, stop_before_pixels=True).data_element(keyword).value)

    @property
    def study(self) -> str:
        """PAT001's study."""
        return self.uid(self.plain[0], "StudyInstanceUID")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    home = tmp_path_factory.mktemp("retrieve")
    data = home / "in"
    dest_port, dead_port = free_port(), free_port()
    nodes = [
        {"name": "dest", "ae_title": "DEST", "host": "127.0.0.1", "port": dest_port},
        {"name": "dead", "ae_title": "DEAD", "host": "127.0.0.1", "port": dead_port},
        {"name": "viewer", "ae_title": "NOMOVE", "host": "127.0.0.1", "port": dead_port,
         "allow": ["echo", "find", "get"]},
    ]  # fmt: skip
    (home / "srv").mkdir()
    server = Server(home / "srv", nodes=nodes)
    plain = dicomgen.write_study(data / "plain", series=2, per_series=3)
    sources = dicomgen.write_study(data / "src", series=1, per_series=2, patient_id="PAT002")
    packed = []
    for src in sources:
        packed.append(data / "packed" / src.name)
        packed[-1].parent.mkdir(parents=True, exist_ok=True)
        dcmtk("dcmcjpls", str(src), str(packed[-1]))
    many = dicomgen.write_study(
        data / "many", series=1, per_series=30, patient_id="PAT003", rows=8, columns=8
    )
    server.start()
    try:
        server.store_folder(data / "plain")
        server.store_folder(data / "many")
        port = str(server.dicom_port)
        dcmtk("storescu", "-aec", "PACS", "-xt", "127.0.0.1", port, *map(str, packed))
        yield Archive(server, dest_port, dead_port, plain, sources, many)
    finally:
        server.stop()


@contextlib.contextmanager
def storescp(port: int, out: Path, *options: str) -> Iterator[Path]:
    """A DCMTK storage SCP as the move destination, ready when it takes connections."""
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        ["storescp", "-aet", "DEST", "-od", str(out), *options, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TCP_NODELAY": "1"},
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield out
    finally:
        proc.terminate()
        proc.wait(10)


def _by_uid(paths: list[Path]) -> dict[str, Dataset]:
    return {ds.SOPInstanceUID: ds for ds in (dcmread(p) for p in paths)}


def _received(folder: Path) -> dict[str, Dataset]:
    return _by_uid([p for p in folder.iterdir() if p.is_file()])


def _same_pixels(got: Dataset, want: Dataset) -> bool:
    return bool(np.array_equal(got.pixel_array, want.pixel_array))


def _dcmtk_scu(archive: Archive, *options: str, keys: list[str], check: bool = False) -> str:
    args = [*options, "-aec", "PACS", *(arg for key in keys for arg in ("-k", key))]
    proc = dcmtk(*args, "127.0.0.1", str(archive.server.dicom_port), check=check)
    return proc.stdout + proc.stderr


def _movescu(archive: Archive, dest: str, *options: str, keys: list[str]) -> str:
    return _dcmtk_scu(archive, "movescu", "-v", "-aem", dest, *options, keys=keys)


def _getscu(archive: Archive, out: Path, *options: str, keys: list[str]) -> None:
    _dcmtk_scu(archive, "getscu", "-od", str(out), *options, keys=keys, check=True)


def _scu(archive: Archive, calling: str, contexts: list[tuple[str, list[str]]], **kw: Any) -> Any:
    ae = AE(ae_title=calling)
    for abstract, syntaxes in contexts:
        ae.add_requested_context(abstract, syntaxes)
    assoc = ae.associate("127.0.0.1", archive.server.dicom_port, ae_title="PACS", **kw)
    assert assoc.is_established
    return assoc


def _identifier(level: str | None, **keys: str) -> Dataset:
    ds = Dataset()
    if level is not None:
        ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def _move(archive: Archive, identifier: Dataset, dest: str, *, calling: str = "MOVER") -> Any:
    assoc = _scu(archive, calling, [(STUDY_MOVE, [EXPLICIT])])
    try:
        return list(assoc.send_c_move(identifier, dest, STUDY_MOVE))[-1]
    finally:
        assoc.release()


def _get(
    archive: Archive,
    identifier: Dataset,
    proposals: list[list[str]],
    *,
    calling: str = "GETTER",
    model: str = STUDY_GET,
    slow: float = 0.0,
    cancel_after: int = 0,
) -> tuple[Dataset, Dataset | None, list[Dataset]]:
    """A pynetdicom C-GET proposing one CT storage context (SCP role) per syntax group."""
    received: list[Dataset] = []

    def on_store(event: Any) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        received.append(ds)
        time.sleep(slow)
        return 0x0000

    contexts = [(model, [EXPLICIT])] + [(dicomgen.CT_IMAGE, group) for group in proposals]
    roles = [build_role(dicomgen.CT_IMAGE, scp_role=True)] if proposals else []
    assoc = _scu(
        archive, calling, contexts, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    try:
        responses = []
        for status, ident in assoc.send_c_get(identifier, model):
            responses.append((status, ident))
            if len(responses) == cancel_after:
                assoc.send_c_cancel(1, query_model=model)
        status, ident = responses[-1]
        return status, ident, received
    finally:
        assoc.release()


MOVES = [
    ("-S", "STUDY", 6),
    ("-P", "SERIES", 3),
    ("-S", "IMAGE", 2),
    ("-P", "PATIENT", 6),
]


@pytest.mark.parametrize(("model", "level", "expected"), MOVES, ids=[m[1] for m in MOVES])
def test_movescu_levels_arrive_as_stored(
    archive: Archive, tmp_path: Path, model: str, level: str, expected: int
) -> None:
    series = archive.uid(archive.plain[0], "SeriesInstanceUID")
    sops = "\\".join(archive.uid(p, "SOPInstanceUID") for p in archive.plain[:2])
    keys = {
        "PATIENT": ["PatientID=PAT001"],
        "STUDY": [f"StudyInstanceUID={archive.study}"],
        "SERIES": ["PatientID=PAT001", f"SeriesInstanceUID={series}"],
        "IMAGE": [f"StudyInstanceUID={archive.study}", f"SeriesInstanceUID={series}",
                  f"SOPInstanceUID={sops}"],
    }[level]  # fmt: skip
    with storescp(archive.dest_port, tmp_path / "out") as out:
        text = _movescu(archive, "DEST", model, keys=[f"QueryRetrieveLevel={level}", *keys])
    assert "Received Final Move Response (Success)" in text, text
    got, originals = _received(out), _by_uid(archive.plain)
    assert len(got) == expected
    for uid, ds in got.items():
        assert ds.file_meta.TransferSyntaxUID == EXPLICIT
        assert ds.PixelData == originals[uid].PixelData


def test_movescu_converts_for_an_implicit_only_destination(
    archive: Archive, tmp_path: Path
) -> None:
    """JPEG-LS lossless and Explicit VR instances both reach a peer that takes Implicit VR only,
    with the original pixels."""
    with storescp(archive.dest_port, tmp_path / "out", "+xi") as out:
        text = _movescu(
            archive, "DEST", "-P", keys=["QueryRetrieveLevel=PATIENT", "PatientID=PAT002"]
        )
        assert "Received Final Move Response (Success)" in text, text
        series = archive.uid(archive.plain[0], "SeriesInstanceUID")
        text = _movescu(
            archive, "DEST", "-S", keys=["QueryRetrieveLevel=SERIES", f"SeriesInstanceUID={series}"]
        )
        assert "Received Final Move Response (Success)" in text, text
    got = _received(out)
    originals = _by_uid(archive.packed_sources + archive.plain[:3])
    assert sorted(got) == sorted(originals)
    for uid, ds in got.items():
        assert ds.file_meta.TransferSyntaxUID == IMPLICIT
        assert _same_pixels(ds, originals[uid])


def test_move_to_unknown_destination_is_a801(archive: Archive) -> None:
    study = archive.study
    text = _movescu(
        archive, "NOPE", "-S", keys=["QueryRetrieveLevel=STUDY", f"StudyInstanceUID={study}"]
    )
    assert "MoveDestinationUnknown" in text, text
    status, _ = _move(archive, _identifier("STUDY", StudyInstanceUID=study), "NOPE")
    assert status.Status == 0xA801
    assert "unknown" in status.ErrorComment


def test_move_to_unreachable_node_fails_and_logs_it(archive: Archive) -> None:
    study = archive.study
    status, _ = _move(archive, _identifier("STUDY", StudyInstanceUID=study), "DEAD")
    assert status.Status == 0xA702
    assert status.NumberOfFailedSuboperations == 6
    assert f"127.0.0.1:{archive.dead_port}" in status.ErrorComment
    assert (
        f"destination dead (DEAD at 127.0.0.1:{archive.dead_port}) could not be reached"
        in archive.server.log_text
    )


def test_move_to_a_refusing_node_fails_and_logs_it(archive: Archive, tmp_path: Path) -> None:
    study = archive.study
    with storescp(archive.dest_port, tmp_path / "out", "--refuse"):
        status, _ = _move(archive, _identifier("STUDY", StudyInstanceUID=study), "DEST")
    assert status.Status == 0xA702
    # DCMTK closes the connection right after its A-ASSOCIATE-RJ: either may be seen first
    assert re.search(
        rf"destination dest \(DEST at 127\.0\.0\.1:{archive.dest_port}\) "
        r"(rejected|did not accept) the association",
        archive.server.log_text,
    )


def test_permissions_per_calling_ae(archive: Archive) -> None:
    study = archive.study
    identifier = _identifier("STUDY", StudyInstanceUID=study)
    status, _ = _move(archive, identifier, "DEST", calling="NOMOVE")
    assert status.Status == 0xC000
    assert status.ErrorComment == "C-MOVE not permitted for NOMOVE"
    status, _, received = _get(archive, identifier, [[EXPLICIT]], calling="NOMOVE")
    assert status.Status == 0x0000
    assert len(received) == 6


BAD = [
    ("no level", None, {"StudyInstanceUID": "1.2.3"}, "Query/Retrieve Level"),
    ("unknown level", "FRAME", {"StudyInstanceUID": "1.2.3"}, "'FRAME'"),
    ("patient in study root", "PATIENT", {"PatientID": "PAT001"}, "Study Root"),
    ("no unique key", "SERIES", {"StudyInstanceUID": "1.2.3"}, "SeriesInstanceUID"),
]


@pytest.mark.parametrize(
    ("level", "keys", "comment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_identifiers_are_a900(
    archive: Archive, level: str | None, keys: dict[str, str], comment: str
) -> None:
    status, _, received = _get(archive, _identifier(level, **keys), [[EXPLICIT]])
    assert status.Status == 0xA900
    assert comment in status.ErrorComment
    assert received == []
    status, _ = _move(archive, _identifier(level, **keys), "DEST")
    assert status.Status == 0xA900


def test_no_match_is_success_with_nothing_sent(archive: Archive) -> None:
    status, _, received = _get(
        archive, _identifier("STUDY", StudyInstanceUID="1.2.3.4"), [[EXPLICIT]]
    )
    assert status.Status == 0x0000
    assert status.NumberOfCompletedSuboperations == 0
    assert received == []


def test_getscu_as_stored(archive: Archive, tmp_path: Path) -> None:
    """getscu always proposes the uncompressed syntaxes (next to a preferred compressed one,
    which the server accepts after them), so it gets these as stored. Proposals of compressed
    syntaxes only are in test_get_sends_in_an_accepted_syntax."""
    study = archive.study
    _getscu(archive, tmp_path, "-S", keys=["QueryRetrieveLevel=STUDY", f"StudyInstanceUID={study}"])
    got, originals = _received(tmp_path), _by_uid(archive.plain)
    assert sorted(got) == sorted(originals)
    for uid, ds in got.items():
        assert ds.file_meta.TransferSyntaxUID == EXPLICIT
        assert ds.PixelData == originals[uid].PixelData


def test_getscu_decompresses_for_an_uncompressed_requestor(
    archive: Archive, tmp_path: Path
) -> None:
    """Stored as JPEG-LS, asked for by a getscu proposing uncompressed syntaxes only; the
    request goes to a worker process (one association is held open), which converts in its
    own thread."""
    hold = _scu(archive, "HOLDER", [(STUDY_GET, [EXPLICIT])])
    try:
        _getscu(archive, tmp_path, "-P", keys=["QueryRetrieveLevel=PATIENT", "PatientID=PAT002"])
    finally:
        hold.release()
    got, originals = _received(tmp_path), _by_uid(archive.packed_sources)
    assert sorted(got) == sorted(originals)
    for uid, ds in got.items():
        assert ds.file_meta.TransferSyntaxUID == EXPLICIT
        assert _same_pixels(ds, originals[uid])


SYNTAX_CHOICES = [
    ("only J2K lossless", [[J2K_LOSSLESS]], J2K_LOSSLESS),
    ("only lossy", [[JPEG_EXTENDED]], JPEG_EXTENDED),
    ("lossless preferred", [[JPEG_EXTENDED], [JPEG_LOSSLESS_SV1]], JPEG_LOSSLESS_SV1),
    ("stored preferred", [[JPEG_LOSSLESS_SV1], [EXPLICIT]], EXPLICIT),
]


@pytest.mark.parametrize(
    ("proposals", "expected"), [c[1:] for c in SYNTAX_CHOICES], ids=[c[0] for c in SYNTAX_CHOICES]
)
def test_get_sends_in_an_accepted_syntax(
    archive: Archive, proposals: list[list[str]], expected: str
) -> None:
    original = dcmread(archive.plain[0])
    identifier = _identifier(
        "IMAGE",
        StudyInstanceUID=original.StudyInstanceUID,
        SeriesInstanceUID=original.SeriesInstanceUID,
        SOPInstanceUID=original.SOPInstanceUID,
    )
    status, _, [got] = _get(archive, identifier, proposals)
    assert status.Status == 0x0000
    assert got.file_meta.TransferSyntaxUID == expected
    if expected == JPEG_EXTENDED:
        assert got.LossyImageCompression == "01"
        assert "lossy: the peer accepted no lossless syntax" in archive.server.log_text
        assert np.abs(got.pixel_array.astype(int) - original.pixel_array).max() < 200
    else:
        assert _same_pixels(got, original)


def test_get_without_storage_scp_role_fails_each_instance(archive: Archive) -> None:
    study = archive.study
    status, ident, received = _get(archive, _identifier("STUDY", StudyInstanceUID=study), [])
    assert status.Status == 0xA702
    assert status.NumberOfFailedSuboperations == 6
    assert status.ErrorComment == "no storage SCP role offered for CT Image Storage"
    assert sorted(ident.FailedSOPInstanceUIDList) == sorted(_by_uid(archive.plain))
    assert received == []
    assert "did not offer the storage SCP role for CT Image Storage" in archive.server.log_text


def test_instance_whose_file_is_gone_fails_alone(archive: Archive, tmp_path: Path) -> None:
    study = generate_uid()
    gone = dicomgen.write(dicomgen.make_ct(patient_id="PAT004", study=study), tmp_path / "a.dcm")
    kept = dicomgen.write(
        dicomgen.make_ct(patient_id="PAT004", study=study, number=2), tmp_path / "b.dcm"
    )
    assert send_file(archive.server.dicom_port, gone) == 0x0000
    assert send_file(archive.server.dicom_port, kept) == 0x0000
    uid = archive.uid(gone, "SOPInstanceUID")
    [stored] = [p for p in archive.server.files() if p.stem == uid]
    stored.unlink()
    status, ident, received = _get(
        archive, _identifier("PATIENT", PatientID="PAT004"), [[EXPLICIT]], model=PATIENT_GET
    )
    assert status.Status == 0xB000
    assert (status.NumberOfCompletedSuboperations, status.NumberOfFailedSuboperations) == (1, 1)
    assert ident.FailedSOPInstanceUIDList == uid  # a single value
    assert "file not found" in status.ErrorComment
    assert [ds.SOPInstanceUID for ds in received] == [archive.uid(kept, "SOPInstanceUID")]


def test_get_cancel_stops_the_sub_operations(archive: Archive) -> None:
    study = archive.uid(archive.many[0], "StudyInstanceUID")
    identifier = _identifier("STUDY", StudyInstanceUID=study)
    status, _, received = _get(archive, identifier, [[EXPLICIT]], slow=0.1, cancel_after=1)
    assert status.Status == 0xFE00
    assert status.NumberOfRemainingSuboperations > 0
    assert 0 < len(received) < 30


def test_movescu_cancel(archive: Archive, tmp_path: Path) -> None:
    study = archive.uid(archive.many[0], "StudyInstanceUID")
    with storescp(archive.dest_port, tmp_path / "out", "--sleep-after", "1") as out:
        text = _movescu(
            archive, "DEST", "-S", "--cancel", "1",
            keys=["QueryRetrieveLevel=STUDY", f"StudyInstanceUID={study}"],
        )  # fmt: skip
    assert "Cancel" in text, text
    assert 0 < len(list(out.iterdir())) < 30
