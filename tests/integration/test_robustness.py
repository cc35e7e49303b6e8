"""Hostile and broken input, crashes and shutdown against a real server process.

Malformed datasets are sent with pynetdicom in chunked mode: the bytes after the file meta of a
hand-made Part 10 file go on the wire exactly as written, so they can be anything."""

from __future__ import annotations

import io
import random
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, _config
from pynetdicom.dsutils import encode
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from tests import dicomgen
from tests.conftest import Server, dcmtk

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _index(server: Server, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.home / "index.db") as conn:
        return conn.execute(sql, params).fetchall()


def _encode(ds: Dataset) -> bytes:
    """The dataset as explicit VR little endian bytes, without file meta."""
    data = encode(ds, False, True)
    assert data is not None
    return bytes(data)


def _part10(path: Path, payload: bytes, *, sop_uid: str) -> Path:
    """A Part 10 file whose dataset part is ``payload``, whatever it holds."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dicomgen.CT_IMAGE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buf = io.BytesIO()
    buf.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(buf, meta, enforce_standard=True)
    path.write_bytes(buf.getvalue() + payload)
    return path


@pytest.fixture
def chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send files as their raw bytes (restored after the test)."""
    monkeypatch.setattr(_config, "STORE_SEND_CHUNKED_DATASET", True)


def _associate(port: int, *, called: str = "PACS", dimse_timeout: float = 30) -> Any:
    ae = AE(ae_title="ROBUST")
    ae.dimse_timeout = dimse_timeout  # an SCU waits this long for an answer from a dead peer
    ae.add_requested_context(dicomgen.CT_IMAGE, ExplicitVRLittleEndian)
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    assert assoc.is_established, "association was not accepted"
    return assoc


def _store_ok(port: int, ds: Dataset) -> None:
    """One C-STORE on a fresh association; it must succeed."""
    assoc = _associate(port)
    try:
        assert int(assoc.send_c_store(ds).Status) == 0x0000
    finally:
        assoc.release()


def _store(port: int, path: Path) -> Dataset:
    assoc = _associate(port)
    try:
        status: Dataset = assoc.send_c_store(path)
        return status
    finally:
        assoc.release()


def _spool(server: Server) -> list[Path]:
    return list((server.storage / ".spool").iterdir())


def _echo(server: Server) -> None:
    proc = dcmtk("echoscu", "-v", "-aec", "PACS", "127.0.0.1", str(server.dicom_port))
    assert "Received Echo Response (Success)" in proc.stdout + proc.stderr


def _assert_failed(status: Dataset, *statuses: int) -> None:
    assert "Status" in status, "no C-STORE response (association lost?)"
    code = int(status.Status)
    assert code in statuses or (not statuses and 0xC000 <= code <= 0xCFFF), hex(code)
    assert str(status.get("ErrorComment", "")).strip(), "failure without an Error Comment"


GARBAGE = {
    "random": random.Random(7).randbytes(4096),
    "text": b"this is not a DICOM data set, just words. " * 50,
    "all-ff": b"\xff" * 2048,
    "bad-length": bytes.fromhex("08001600") + b"UI" + b"\xf0\xff" + b"1.2.840" * 3,
}


@pytest.mark.parametrize("payload", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_dataset_is_refused_and_association_survives(
    server: Server, tmp_path: Path, chunked: None, payload: bytes
) -> None:
    bad = _part10(tmp_path / "bad.dcm", payload, sop_uid=generate_uid())
    good_ds = dicomgen.make_ct()
    good = dicomgen.write(good_ds, tmp_path / "good.dcm")
    assoc = _associate(server.dicom_port)
    try:
        status = assoc.send_c_store(bad)
        _assert_failed(status, 0xA900, *range(0xC000, 0xD000))
        assert assoc.is_established
        assert int(assoc.send_c_store(good).Status) == 0x0000
    finally:
        assoc.release()
    assert [p.stem for p in server.files()] == [good_ds.SOPInstanceUID]
    assert _index(server, "SELECT sop_uid FROM instance") == [(good_ds.SOPInstanceUID,)]
    assert _spool(server) == []
    _echo(server)


@pytest.mark.parametrize("keyword", ["StudyInstanceUID", "SeriesInstanceUID"])
def test_missing_level_uid_is_refused(
    server: Server, tmp_path: Path, chunked: None, keyword: str
) -> None:
    ds = dicomgen.make_ct()
    delattr(ds, keyword)
    path = _part10(tmp_path / "x.dcm", _encode(ds), sop_uid=ds.SOPInstanceUID)
    status = _store(server.dicom_port, path)
    _assert_failed(status, 0xA900)
    assert keyword in str(status.ErrorComment)
    assert server.files() == []
    assert _index(server, "SELECT count(*) FROM instance") == [(0,)]
    assert _spool(server) == []


def test_missing_sop_uid_in_dataset_uses_the_command_uid(
    server: Server, tmp_path: Path, chunked: None
) -> None:
    """Decision: a dataset without SOP Instance UID is accepted when the C-STORE command carries
    its Affected SOP Instance UID (mandatory there); the command's UID names the file and the row.
    The received bytes are kept as they are (the file meta carries the UID)."""
    ds = dicomgen.make_ct()
    uid = ds.SOPInstanceUID
    del ds.SOPInstanceUID
    path = _part10(tmp_path / "x.dcm", _encode(ds), sop_uid=uid)
    assert int(_store(server.dicom_port, path).Status) == 0x0000
    [stored] = server.files()
    assert stored.name == f"{uid}.dcm"
    assert str(dcmread(stored).file_meta.MediaStorageSOPInstanceUID) == uid
    assert _index(server, "SELECT sop_uid FROM instance") == [(uid,)]


def _wait_for_log(server: Server, text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while text not in server.log_text and time.monotonic() < deadline:
        time.sleep(0.1)
    assert text in server.log_text, f"no {text!r} in the log:\n{server.log_text[-3000:]}"
    return server.log_text


def test_sweep_reindexes_file_whose_sop_uid_came_from_the_command(
    make_server: Any, tmp_path: Path, chunked: None
) -> None:
    """An acknowledged file must stay indexable from the tree alone (sweep, reindex)."""
    srv: Server = make_server().start()
    ds = dicomgen.make_ct()
    uid = ds.SOPInstanceUID
    del ds.SOPInstanceUID
    path = _part10(tmp_path / "x.dcm", _encode(ds), sop_uid=uid)
    assert int(_store(srv.dicom_port, path).Status) == 0x0000
    assert srv.stop() == 0
    for name in ("index.db", "index.db-wal", "index.db-shm"):
        (srv.home / name).unlink(missing_ok=True)
    srv.start()
    log = _wait_for_log(srv, "startup sweep:")
    assert "not a readable instance" not in log
    assert _index(srv, "SELECT sop_uid FROM instance") == [(uid,)]


def test_path_escaping_uids_are_hashed_inside_storage(server: Server, tmp_path: Path) -> None:
    uids = {"study": "../../etc", "series": "a/b", "sop": ".."}
    ds = dicomgen.make_ct(**uids)
    _store_ok(server.dicom_port, ds)
    [stored] = server.files()
    root = server.storage.resolve()
    assert stored.resolve().is_relative_to(root)
    rel = stored.resolve().relative_to(root).parts
    assert rel[:3] == ("2024", "03", "05")
    study_dir, series_dir, name = rel[3:]
    assert study_dir.startswith("h") and series_dir.startswith("h") and name.startswith("h")
    assert ".." not in rel
    rows = _index(
        server,
        "SELECT st.study_uid, se.series_uid, i.sop_uid, i.file_path FROM instance i "
        "JOIN series se ON i.series_pk = se.id JOIN study st ON se.study_pk = st.id",
    )
    assert rows == [("../../etc", "a/b", "..", "/".join(rel))]
    # the server's home (storage, index, logs) lives in tmp_path: no instance file outside
    outside = [p for p in tmp_path.rglob("*dcm") if not p.resolve().is_relative_to(root)]
    assert outside == []


def _truncations() -> dict[str, tuple[bytes, str]]:
    """name -> (dataset bytes cut short, SOP Instance UID); every level UID precedes the cut."""
    out = {}
    ds = dicomgen.make_ct(rows=64, columns=64)
    full = _encode(ds)
    out["in-pixel-value"] = (full[:-1000], ds.SOPInstanceUID)
    out["in-pixel-header"] = (full[: -(64 * 64 * 2) - 6], ds.SOPInstanceUID)
    ds = dicomgen.make_ct(rows=8, columns=8)
    ds.private_block(0x0029, "ROBUST", create=True).add_new(0x01, "OB", b"\x01" * 200_000)
    full = _encode(ds)
    out["in-large-private-element"] = (full[: len(full) // 2], ds.SOPInstanceUID)
    ds = dicomgen.make_ct(rows=8, columns=8, ImageComments="x" * 1000)
    full = _encode(ds)
    out["in-text-element"] = (full[: full.find(b"xxxx") + 500], ds.SOPInstanceUID)
    return out


TRUNCATIONS = ["in-pixel-value", "in-pixel-header", "in-large-private-element", "in-text-element"]


@pytest.mark.parametrize("where", TRUNCATIONS)
def test_truncated_dataset_is_refused(
    server: Server, tmp_path: Path, chunked: None, where: str
) -> None:
    payload, uid = _truncations()[where]
    path = _part10(tmp_path / "cut.dcm", payload, sop_uid=uid)
    status = _store(server.dicom_port, path)
    _assert_failed(status)
    assert server.files() == []
    assert _index(server, "SELECT count(*) FROM instance") == [(0,)]
    assert _spool(server) == []


class _Streamer(threading.Thread):
    """Sends small instances one by one on one association; records each acknowledged one."""

    def __init__(self, port: int, *, count: int = 300, enough: int = 100) -> None:
        super().__init__(daemon=True)
        self.port, self.count, self.threshold = port, count, enough
        self.acked: dict[str, bytes] = {}
        self.enough = threading.Event()
        self.stop = threading.Event()  # finish the C-STORE in flight, then release

    def run(self) -> None:
        try:
            self._stream()
        except (RuntimeError, OSError):
            pass  # the server went away with the association
        finally:
            self.enough.set()

    def _stream(self) -> None:
        study, series = generate_uid(), [generate_uid() for _ in range(3)]
        assoc = _associate(self.port, dimse_timeout=5)
        try:
            for n in range(self.count):
                if self.stop.is_set():
                    break
                ds = dicomgen.make_ct(
                    study=study, series=series[n % 3], number=n, rows=8, columns=8, seed=n
                )
                if assoc.send_c_store(ds).get("Status") == 0x0000:
                    self.acked[ds.SOPInstanceUID] = ds.PixelData
                if len(self.acked) >= self.threshold:
                    self.enough.set()
        finally:
            if assoc.is_established:
                assoc.release()


def _assert_acked_durable(srv: Server, acked: dict[str, bytes]) -> None:
    rows = dict(_index(srv, "SELECT sop_uid, file_path FROM instance"))
    missing = sorted(set(acked) - set(rows))
    assert not missing, f"{len(missing)} acknowledged instance(s) not indexed: {missing[:3]}"
    for uid, pixels in acked.items():
        ds = dcmread(srv.storage / rows[uid])
        assert ds.SOPInstanceUID == uid
        assert ds.PixelData == pixels
    assert _spool(srv) == []


def _assert_tree_matches_index(srv: Server) -> None:
    log = _wait_for_log(srv, "startup sweep:")
    assert "index row without file" not in log
    rows = {p for (p,) in _index(srv, "SELECT file_path FROM instance")}
    files = {p.relative_to(srv.storage).as_posix() for p in srv.files()}
    assert files == rows


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "2-workers"])
def test_kill_9_mid_ingest_loses_nothing_acknowledged(make_server: Any, workers: int) -> None:
    srv: Server = make_server(dicom={"workers": workers}).start()
    streamer = _Streamer(srv.dicom_port)
    streamer.start()
    assert streamer.enough.wait(60)
    srv.kill()
    streamer.join(60)
    assert not streamer.is_alive()
    acked = dict(streamer.acked)
    assert len(acked) >= 100
    srv.start()
    _assert_acked_durable(srv, acked)
    _assert_tree_matches_index(srv)


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "2-workers"])
def test_sigterm_mid_ingest_drains_and_exits_cleanly(make_server: Any, workers: int) -> None:
    """The sender stops after the C-STORE in flight when SIGTERM is sent, as a peer whose
    operator stops it would; the server must finish that store, drain and exit 0."""
    srv: Server = make_server(dicom={"workers": workers}).start()
    streamer = _Streamer(srv.dicom_port, enough=50)
    streamer.start()
    assert streamer.enough.wait(60)
    assert srv.proc is not None
    srv.proc.send_signal(signal.SIGTERM)
    streamer.stop.set()
    assert srv.proc.wait(30) == 0  # (Server.stop would send a second SIGTERM: no drain)
    streamer.join(60)
    assert not streamer.is_alive()
    acked = dict(streamer.acked)
    assert len(acked) >= 50
    assert "received SIGTERM" in srv.log_text
    srv.start()
    _assert_acked_durable(srv, acked)
    _assert_tree_matches_index(srv)


def test_missing_study_date_goes_to_zero_folder(server: Server) -> None:
    ds = dicomgen.make_ct(study_date=None)
    assert "StudyDate" not in ds
    _store_ok(server.dicom_port, ds)
    [stored] = server.files()
    rel = stored.relative_to(server.storage).parts
    assert rel == ("0000", "00", "00", ds.StudyInstanceUID, ds.SeriesInstanceUID, stored.name)
    assert _index(server, "SELECT study_uid, study_date FROM study") == [
        (ds.StudyInstanceUID, None)
    ]


HOSTILE = {
    "silent": b"",
    "half-associate-rq": bytes.fromhex("010000000100") + b"\x00\x01\x00\x00PACS",
    "claims-4-GiB": bytes.fromhex("0100ffffffff") + b"\x00\x01",
    "unknown-pdu-type": bytes.fromhex("0900000000040102") + b"\x03",
}


def test_stalled_and_hostile_peers_do_not_block_others(server: Server) -> None:
    peers = []
    try:
        for payload in list(HOSTILE.values()) * 3:
            sock = socket.create_connection(("127.0.0.1", server.dicom_port), timeout=5)
            if payload:
                sock.sendall(payload)
            peers.append(sock)
        _echo(server)
        ds = dicomgen.make_ct()
        _store_ok(server.dicom_port, ds)
        assert _index(server, "SELECT sop_uid FROM instance") == [(ds.SOPInstanceUID,)]
    finally:
        for sock in peers:
            sock.close()
    _echo(server)


def test_wrong_called_ae_title_is_accepted(server: Server) -> None:
    """Current behaviour, kept on purpose: like most archives (Orthanc's default), the server
    answers whatever Called AE Title a peer uses; only the calling AE can be restricted
    (``[dicom] allowed_calling_aets``)."""
    assoc = _associate(server.dicom_port, called="WRONG")
    try:
        assert int(assoc.send_c_echo().Status) == 0x0000
    finally:
        assoc.release()
    proc = dcmtk("echoscu", "-v", "-aec", "WRONG", "127.0.0.1", str(server.dicom_port))
    assert "Received Echo Response (Success)" in proc.stdout + proc.stderr
