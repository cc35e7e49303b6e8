"""C-MOVE throughput: one study (CT 256x256x16 bit) stored into pacs and into Orthanc, then moved
by DCMTK movescu to a DCMTK storescp destination known to both; instances/s side by side."""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procinfo import cpu_seconds
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from qr_find import associate
from qr_servers import ENV, Server, orthanc_count, running
from receivers import ReceiverError, free_port

VERSION = 2
SIZE = 256
SERIES = 2
Log = Callable[[str], None]


@dataclass
class MoveStudy:
    root: Path
    study_uid: str
    count: int
    nbytes: int


@dataclass
class MoveResult:
    label: str
    walls: list[float] = field(default_factory=list)  # of the moves that delivered everything
    expected: int = 0
    failures: int = 0
    received: list[int] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # CPU seconds of the source's process tree
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.walls)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def inst_s(self) -> float:
        return self.expected / self.wall


def _instance(
    study_uid: str, series_uid: str, number: int, series: int, rng: random.Random
) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, sop
    ds.PatientName, ds.PatientID = "BENCH^MOVE", "BENCHMOVE1"
    ds.PatientBirthDate, ds.PatientSex = "19700101", "O"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.StudyDate = ds.SeriesDate = "20240305"
    ds.StudyTime = ds.SeriesTime = "101500"
    ds.AccessionNumber, ds.StudyID, ds.StudyDescription = "MOVE1", "1", "BENCH MOVE"
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", series, number
    ds.Rows = ds.Columns = SIZE
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    data = bytearray(rng.randbytes(SIZE * SIZE * 2))
    data[1::2] = bytes(b & 0x0F for b in data[1::2])  # 12-bit values
    ds.PixelData = bytes(data)
    return ds


def load_study(cache: Path, count: int, log: Log) -> MoveStudy:
    """The cached study of ``count`` instances (``SERIES`` series), generated when absent."""
    root = cache / f"move-ct{SIZE}-v{VERSION}-i{count}"
    manifest = root / "manifest.json"
    if not manifest.exists():
        log(f"generating {root} ...")
        tmp = cache / f"{root.name}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "files").mkdir(parents=True)
        rng, study_uid = random.Random(count), generate_uid()
        series_uids = [generate_uid() for _ in range(SERIES)]
        for n in range(count):
            series = n % SERIES
            ds = _instance(study_uid, series_uids[series], n // SERIES + 1, series + 1, rng)
            dcmwrite(tmp / "files" / f"{n:04d}.dcm", ds, enforce_file_format=True)
        nbytes = sum(p.stat().st_size for p in (tmp / "files").glob("*.dcm"))
        (tmp / "manifest.json").write_text(json.dumps({"study_uid": study_uid, "bytes": nbytes}))
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
    meta = json.loads(manifest.read_text())
    return MoveStudy(root / "files", meta["study_uid"], count, meta["bytes"])


def _dcmtk(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, check=False, capture_output=True, text=True, timeout=timeout, env=ENV
    )


def _at(server: Server) -> list[str]:
    return ["127.0.0.1", str(server.port)]


def store(server: Server, study: MoveStudy) -> None:
    proc = _dcmtk(
        [
            "storescu",
            "-aet",
            "BENCHSCU",
            "-aec",
            server.ae_title,
            "+sd",
            "+r",
            *_at(server),
            str(study.root),
        ]
    )
    if proc.returncode != 0:
        raise ReceiverError(f"storescu into {server.label} failed: {_tail(proc)}")


def _tail(proc: subprocess.CompletedProcess[str], lines: int = 4) -> str:
    text = (proc.stdout + proc.stderr).strip().splitlines()
    return " | ".join(text[-lines:]) or f"exit {proc.returncode}"


def _pacs_count(server: Server, study: MoveStudy) -> int:
    ident = Dataset()
    ident.QueryRetrieveLevel = "STUDY"
    ident.StudyInstanceUID = study.study_uid
    ident.NumberOfStudyRelatedInstances = ""
    assoc = associate(server.port)
    try:
        for status, ds in assoc.send_c_find(ident, "1.2.840.10008.5.1.4.1.2.2.1"):
            if status and status.Status in (0xFF00, 0xFF01) and ds is not None:
                return int(ds.NumberOfStudyRelatedInstances or 0)
        return 0
    finally:
        assoc.release()


def wait_stored(server: Server, study: MoveStudy, timeout: float = 120) -> None:
    count = orthanc_count if server.label == "orthanc" else lambda s: _pacs_count(s, study)
    deadline = time.monotonic() + timeout
    while (have := count(server)) < study.count:
        if time.monotonic() > deadline:
            raise ReceiverError(f"{server.label} holds {have}/{study.count} after {timeout:.0f} s")
        time.sleep(0.5)


def _wait_files(dest: Server, expected: int, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while len(dest.files()) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(dest.files())


def move_once(source: Server, dest: Server, study: MoveStudy) -> tuple[float, int, float, str]:
    """Time one movescu; returns (seconds, files at the destination, source CPU seconds,
    problem or "")."""
    for path in dest.files():
        path.unlink()
    args = ["movescu", "-v", "-S", "-aet", "BENCHSCU", "-aec", source.ae_title, "-aem", "DEST"]
    args += ["-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study.study_uid}"]
    cpu, start = cpu_seconds(source.proc.pid), time.perf_counter()
    proc = _dcmtk([*args, *_at(source)], timeout=900)
    wall, cpu = time.perf_counter() - start, cpu_seconds(source.proc.pid) - cpu
    received = _wait_files(dest, study.count)
    problem = ""
    if proc.returncode != 0:
        problem = f"movescu exit {proc.returncode}: {_tail(proc)}"
    elif received != study.count:
        problem = f"{received}/{study.count} arrived; movescu: {_tail(proc, 2)}"
    return wall, received, cpu, problem


def _repeat(source: Server, dest: Server, study: MoveStudy, args: Any, log: Log) -> MoveResult:
    result = MoveResult(source.label, expected=study.count)
    for i in range(args.move_repeat):
        wall, received, cpu, problem = move_once(source, dest, study)
        result.received.append(received)
        log(
            f"  C-MOVE {source.label} [{i + 1}/{args.move_repeat}]: {wall:6.2f} s, "
            f"{received}/{study.count} received {problem}"
        )
        if problem:
            result.failures += 1
            result.error = result.error or problem
        else:
            result.walls.append(wall)
            result.cpus.append(cpu)
    if result.failures:
        result.error = f"{result.failures} of {args.move_repeat} moves: {result.error}"
    return result


def _pacs(dest: Server, study: MoveStudy, runs: Path, args: Any, log: Log) -> MoveResult:
    node = {"name": "dest", "ae_title": "DEST", "host": "127.0.0.1", "port": dest.port}
    try:
        with running("pacs", runs, nodes=[node], workers=args.move_workers, keep=args.keep) as pacs:
            store(pacs, study)
            wait_stored(pacs, study)
            return _repeat(pacs, dest, study, args, log)
    except (ReceiverError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return MoveResult("pacs", expected=study.count, error=str(exc).splitlines()[0])


def _orthanc(dest: Server, study: MoveStudy, runs: Path, args: Any, log: Log) -> MoveResult:
    modalities = {
        "dest": ["DEST", "127.0.0.1", dest.port],
        "bench": ["BENCHSCU", "127.0.0.1", free_port()],
    }
    try:
        with running("orthanc", runs, modalities=modalities, keep=args.keep) as orthanc:
            store(orthanc, study)
            wait_stored(orthanc, study)
            return _repeat(orthanc, dest, study, args, log)
    except (ReceiverError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return MoveResult("orthanc", expected=study.count, error=str(exc).splitlines()[0])


def run_move(study: MoveStudy, runs: Path, args: Any, log: Log) -> list[MoveResult]:
    """Move the study from pacs, then from Orthanc, to one storescp destination."""
    with running("storescp", runs, keep=args.keep) as dest:
        log(f"C-MOVE: pacs (workers={args.move_workers or 'default'}) ...")
        pacs = _pacs(dest, study, runs, args, log)
        log("C-MOVE: Orthanc ...")
        orthanc = _orthanc(dest, study, runs, args, log)
    return [pacs, orthanc]
