"""Synthetic SQLite indexes for the C-FIND benchmark, written directly with SQLAlchemy Core bulk
inserts and cached under data/bench/qr/ by size and version.

The archive grows the way a real one does, by time: a constant STUDIES_PER_DAY up to LAST_DAY, so
10k studies span about 8 months and 200k about 14 years, and a query for "today" or "MR in the
last two days" has the same answer size at every index size (what changes is only how much
the database must look past). Per study: 1-3 studies per patient, CT/MR/US/CR/DX/MG (some studies
with two modalities), 1-4 series of 1-2 instances each (rows only: the files do not exist; a
study-level C-FIND never reads them). Counts, ``modalities``, the ``*_norm`` columns and the
patient name's normalised component groups are filled as `pacs.index.writes` fills them. Like a
database pacs filled, no ANALYZE is run."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qr_names import PHYSICIANS, NamePool
from sqlalchemy import insert, text

from pacs.index.db import make_engine
from pacs.index.names import pn_search_values
from pacs.index.schema import SCHEMA_VERSION
from pacs.index.statements import INSTANCE, PATIENT, SERIES, STUDY
from pacs.model.normalize import normalize_pn

VERSION = 2
STUDIES_PER_DAY = 40  # a mid-sized hospital: 200k studies are about 14 years
LAST_DAY = dt.date(2025, 12, 31)  # "today" of the synthetic archive
MODALITIES = {"CT": 30, "MR": 20, "US": 15, "CR": 15, "DX": 12, "MG": 8}
PAIRS = [("MG", "US"), ("CT", "CR"), ("CT", "MR"), ("CR", "DX"), ("CT", "US")]
MULTI_SHARE = 0.08
SOP_CLASS = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "CR": "1.2.840.10008.5.1.4.1.1.1",
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",
    "MG": "1.2.840.10008.5.1.4.1.1.1.2",
}
PARTS = {
    "CT": ["CHEST", "ABDOMEN", "HEAD"],
    "MR": ["BRAIN", "KNEE", "SPINE"],
    "US": ["ABDOMEN", "BREAST", "PELVIS"],
    "CR": ["CHEST", "HAND"],
    "DX": ["CHEST", "FOOT"],
    "MG": ["BREAST"],
}
INSTITUTIONS = ["General Hospital", "City Clinic", "University Medical Center", "North Imaging"]
NAME_TARGET = 25  # the name query wants a family-name prefix matching about this many studies
CHUNK_PATIENTS = 5000
Log = Callable[[str], None]


@dataclass(frozen=True)
class IndexDb:
    path: Path
    size: int
    stats: dict[str, Any]

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


class _Rows:
    """Rows of one chunk of patients, with running primary keys."""

    def __init__(self, pks: Counter[str]) -> None:
        self.pks = pks
        self.tables: dict[str, list[dict[str, Any]]] = {"p": [], "st": [], "se": [], "i": []}

    def add(self, table: str, values: dict[str, Any]) -> int:
        self.pks[table] += 1
        values["id"] = self.pks[table]
        self.tables[table].append(values)
        return self.pks[table]


def _uid(rng: random.Random) -> str:
    return f"2.25.{rng.getrandbits(126)}"


def _modalities(rng: random.Random) -> list[str]:
    if rng.random() < MULTI_SHARE:
        return list(rng.choice(PAIRS))
    return rng.choices(list(MODALITIES), weights=list(MODALITIES.values()))


def _series(rows: _Rows, rng: random.Random, study: dict[str, Any], mods: list[str]) -> int:
    """Add 1-4 series (each modality of the study at least once) and their instances."""
    count = max(len(mods), rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0])
    instances = 0
    for number in range(1, count + 1):
        modality = mods[number - 1] if number <= len(mods) else rng.choice(mods)
        series_uid, n = _uid(rng), rng.choice((1, 1, 2))
        pk = rows.add(
            "se",
            {
                "study_pk": study["id"],
                "series_uid": series_uid,
                "modality": modality,
                "series_number": number,
                "description": f"{modality} {rng.choice(PARTS[modality])} {number}",
                "series_date": study["study_date"],
                "series_time": study["study_time"],
                "body_part": rng.choice(PARTS[modality]),
                "manufacturer": rng.choice(("ACME", "Imaging Co", "MedTech")),
                "num_instances": n,
                "created_at": study["created_at"],
            },
        )
        for k in range(1, n + 1):
            sop = _uid(rng)
            rows.add(
                "i",
                {
                    "series_pk": pk,
                    "sop_uid": sop,
                    "sop_class_uid": SOP_CLASS[modality],
                    "instance_number": k,
                    "rows": 512,
                    "columns": 512,
                    "transfer_syntax": "1.2.840.10008.1.2.1",
                    "file_path": f"bench/{study['study_uid']}/{series_uid}/{sop}.dcm",
                    "file_size": 525_000,
                    "calling_ae": "MODALITY",
                    "source": "dimse",
                    "received_at": study["created_at"],
                },
            )
        instances += n
    study.update(num_series=count, num_instances=instances, size_bytes=instances * 525_000)
    return count


def _study(
    rows: _Rows, rng: random.Random, patient: dict[str, Any], number: int, days: int
) -> None:
    day = LAST_DAY - dt.timedelta(days=rng.randrange(days))
    mods = _modalities(rng)
    stamp = dt.datetime.combine(day, dt.time(20, 0), tzinfo=dt.UTC)
    physician = rng.choice(PHYSICIANS)
    description = f"{mods[0]} {rng.choice(PARTS[mods[0]])}"
    study = {
        "patient_pk": patient["id"],
        "study_uid": _uid(rng),
        "study_date": day,
        "study_time": f"{rng.randrange(7, 19):02d}{rng.randrange(60):02d}{rng.randrange(60):02d}",
        "accession_number": f"A{number:09d}",
        "study_id": str(rng.randrange(1, 99999)),
        "description": description,
        "description_norm": normalize_pn(description),
        "referring_physician": physician,
        "referring_physician_norm": normalize_pn(physician),
        "institution": rng.choice(INSTITUTIONS),
        "patient_age": f"{max(0, (day - patient['birth_date']).days // 365):03d}Y",
        "modalities": "\\".join(sorted(mods)),
        "created_at": stamp,
        "updated_at": stamp,
    }
    rows.add("st", study)
    series = _series(rows, rng, study, mods)
    patient["num_studies"] += 1
    patient["num_series"] += series
    patient["num_instances"] += study["num_instances"]


def _patients(size: int, rng: random.Random, families: Counter[str]) -> Iterator[_Rows]:
    """Chunks of patients with their studies until ``size`` studies exist."""
    names, pks, studies = NamePool(), Counter[str](), 0
    days = max(1, round(size / STUDIES_PER_DAY))
    while studies < size:
        rows = _Rows(pks)
        while studies < size and len(rows.tables["p"]) < CHUNK_PATIENTS:
            name, family, sex = names.draw(rng)
            birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(90 * 365))
            patient = {"patient_id": f"P{pks['p'] + 1:08d}", "name": name, "sex": sex}
            patient.update(**pn_search_values(name), birth_date=birth)
            patient.update(num_studies=0, num_series=0, num_instances=0)
            rows.add("p", patient)
            for _ in range(min(rng.choices((1, 2, 3), weights=(55, 30, 15))[0], size - studies)):
                studies += 1
                _study(rows, rng, patient, studies, days)
            families[normalize_pn(family)] += patient["num_studies"]
        yield rows


def _name_prefix(families: Counter[str]) -> tuple[str, int]:
    """A family name whose prefix query ("NAME*") matches about NAME_TARGET studies."""

    def matched(name: str) -> int:
        return sum(n for other, n in families.items() if other.startswith(name))

    near = sorted(families, key=lambda name: (abs(families[name] - NAME_TARGET), name))[:40]
    best = min(near, key=lambda name: (abs(matched(name) - NAME_TARGET), name))
    return best, matched(best)


def _build(path: Path, size: int, log: Log) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{path}")
    rng, families = random.Random(size * 7919 + VERSION), Counter[str]()
    totals: Counter[str] = Counter()
    tables = {"p": PATIENT, "st": STUDY, "se": SERIES, "i": INSTANCE}
    with engine.begin() as conn:
        for rows in _patients(size, rng, families):
            for key, table in tables.items():
                conn.execute(insert(table), rows.tables[key])
                totals[key] += len(rows.tables[key])
            log(f"  index {size}: {totals['st']}/{size} studies")
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    prefix, matches = _name_prefix(families)
    return {
        "patients": totals["p"],
        "studies": totals["st"],
        "series": totals["se"],
        "instances": totals["i"],
        "name_prefix": prefix,
        "last_day": LAST_DAY.strftime("%Y%m%d"),
        "name_matches": matches,
        "bytes": path.stat().st_size,
    }


def load_or_build(cache: Path, size: int, log: Log) -> IndexDb:
    """The cached index of ``size`` studies, built first when absent."""
    key = f"index-{size}-v{VERSION}-schema{SCHEMA_VERSION}"
    path, sidecar = cache / f"{key}.db", cache / f"{key}.json"
    if not (path.exists() and sidecar.exists()):
        cache.mkdir(parents=True, exist_ok=True)
        log(f"building {path} ...")
        tmp = cache / f"{key}.tmp{os.getpid()}.db"
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
        stats = _build(tmp, size, log)
        tmp.rename(path)
        sidecar.write_text(json.dumps(stats, indent=2))
    return IndexDb(path, size, json.loads(sidecar.read_text()))
