"""The real storage path: writer + indexer actors from `start_core`, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from pydicom.uid import generate_uid
from sqlalchemy import Engine, Table, select

from pacs.app import Core, start_core
from pacs.errors import DuplicateRejected, InvalidDataset, MissingAttribute
from pacs.index.names import pn_search_values
from pacs.index.statements import CHANGE, INSTANCE, PATIENT, REPAIR, SERIES, STUDY
from pacs.messages import Source, StoreOutcome, StoreRequest, StoreResult
from pacs.runtime import rpc
from pacs.runtime.limits import Limits
from pacs.settings import load
from tests import dicomgen


@asynccontextmanager
async def running(tmp_path: Path, db_url: str, **env: str) -> AsyncIterator[Core]:
    """The core actors on a fresh area and database; channels closed so the nursery exits."""
    environ = {
        "PACS_STORAGE__PATH": str(tmp_path / "storage"),
        "PACS_DATABASE__URL": db_url,
        "PACS_STORAGE__FSYNC": "false",
        **{f"PACS_{key.upper()}": value for key, value in env.items()},
    }
    settings = load(None, environ=environ)
    async with trio.open_nursery() as nursery:
        core = await start_core(nursery, settings, Limits.create())
        try:
            yield core
        finally:
            await core.store.aclose()
            await core.index.aclose()
    await trio.to_thread.run_sync(core.engine.dispose)


async def store(core: Core, path: Path, *, consume: bool = False) -> StoreResult:
    request = StoreRequest(path=path, source=Source.IMPORT, consume=consume)
    result: StoreResult = await rpc.call(core.store, request, timeout=30, what="t")
    return result


def _rows(engine: Engine, table: Table, order: Any = None) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(table).order_by(order if order is not None else table.c[0])
        return [dict(row) for row in conn.execute(query).mappings()]


async def rows(core: Core, table: Table, order: Any = None) -> list[dict[str, Any]]:
    return await trio.to_thread.run_sync(_rows, core.engine, table, order)


async def counts(core: Core) -> dict[str, list[tuple[Any, ...]]]:
    """Materialised counts of every level, keyed by level; compare whole snapshots."""
    patients = await rows(core, PATIENT)
    studies = await rows(core, STUDY)
    series = await rows(core, SERIES)
    return {
        "patient": [
            (p["patient_id"], p["num_studies"], p["num_series"], p["num_instances"])
            for p in patients
        ],
        "study": [
            (s["study_uid"], s["num_series"], s["num_instances"], s["modalities"]) for s in studies
        ],
        "series": [(s["series_uid"], s["num_instances"]) for s in series],
        "instance": [(i["sop_uid"],) for i in await rows(core, INSTANCE)],
    }


def _stored_files(core: Core) -> list[str]:
    return sorted(core.area.walk())


async def test_store_indexes_all_levels(tmp_path: Path, db_url: str) -> None:
    study, ct, mr = generate_uid(), generate_uid(), generate_uid()
    datasets = [
        dicomgen.make_ct(study=study, series=ct, number=1),
        dicomgen.make_ct(study=study, series=ct, number=2),
        dicomgen.make_ct(study=study, series=mr, modality="MR", number=1),
    ]
    paths = [dicomgen.write(ds, tmp_path / "in" / f"{i}.dcm") for i, ds in enumerate(datasets)]
    async with running(tmp_path, db_url) as core:
        results = [await store(core, path) for path in paths]
        for ds, path, result in zip(datasets, paths, results, strict=True):
            rel = f"2024/03/05/{study}/{ds.SeriesInstanceUID}/{ds.SOPInstanceUID}.dcm"
            assert result.outcome is StoreOutcome.STORED
            assert result.sop_instance_uid == ds.SOPInstanceUID
            assert result.path == core.area.root / rel
            assert result.path.read_bytes() == path.read_bytes()
            assert path.exists()  # consume=False leaves the source alone
        assert await counts(core) == {
            "patient": [("PAT001", 1, 2, 3)],
            "study": [(study, 2, 3, "CT\\MR")],
            "series": [(ct, 2), (mr, 1)],
            "instance": [(ds.SOPInstanceUID,) for ds in datasets],
        }
        instances = await rows(core, INSTANCE)
        assert [i["file_path"] for i in instances] == [
            f"2024/03/05/{study}/{ds.SeriesInstanceUID}/{ds.SOPInstanceUID}.dcm" for ds in datasets
        ]
        assert [i["file_size"] for i in instances] == [p.stat().st_size for p in paths]
        assert {i["source"] for i in instances} == {"import"}
        assert {i["patient_conflict"] for i in instances} == {False}
        (row,) = await rows(core, STUDY)
        assert row["size_bytes"] == sum(p.stat().st_size for p in paths)
        changes = await rows(core, CHANGE, CHANGE.c.seq)
        assert [c["kind"] for c in changes] == [
            "patient_created",
            "study_created",
            "series_created",
            "instance_stored",
            "instance_stored",
            "series_created",
            "instance_stored",
        ]
        seqs = [c["seq"] for c in changes]
        assert seqs == sorted(set(seqs))
        assert {c["study_uid"] for c in changes[1:]} == {study}


async def test_consume_moves_the_spool_file(tmp_path: Path, db_url: str) -> None:
    async with running(tmp_path, db_url) as core:
        spooled = dicomgen.write(dicomgen.make_ct(), core.area.spool / "incoming.dcm")
        data = spooled.read_bytes()
        result = await store(core, spooled, consume=True)
        assert result.outcome is StoreOutcome.STORED
        assert not spooled.exists()
        assert result.path.read_bytes() == data
        assert list(core.area.spool.iterdir()) == []


async def test_duplicate_is_settled_without_changes(tmp_path: Path, db_url: str) -> None:
    path = dicomgen.write(dicomgen.make_ct(), tmp_path / "in" / "a.dcm")
    async with running(tmp_path, db_url) as core:
        first = await store(core, path)
        before = await counts(core)
        changes = await rows(core, CHANGE)
        again = await store(core, path)
        assert again.outcome is StoreOutcome.DUPLICATE
        assert again.path == first.path
        assert await counts(core) == before
        assert await rows(core, CHANGE) == changes
        assert _stored_files(core) == [first.path.relative_to(core.area.root).as_posix()]
        assert list(core.area.spool.iterdir()) == []


async def test_duplicates_replace(tmp_path: Path, db_url: str) -> None:
    study, series, sop = generate_uid(), generate_uid(), generate_uid()
    old = dicomgen.make_ct(study=study, series=series, sop=sop, number=1)
    new = dicomgen.make_ct(study=study, series=series, sop=sop, number=9, seed=5)
    moved = dicomgen.make_ct(study=study, series=series, sop=sop, study_date="20230101")
    async with running(tmp_path, db_url, storage__duplicates="replace") as core:
        await store(core, dicomgen.write(old, tmp_path / "old.dcm"))
        before = await counts(core)
        result = await store(core, dicomgen.write(new, tmp_path / "new.dcm"))
        assert result.outcome is StoreOutcome.REPLACED
        assert result.path.read_bytes() == (tmp_path / "new.dcm").read_bytes()
        assert await counts(core) == before
        (row,) = await rows(core, INSTANCE)
        assert row["instance_number"] == 9
        changes = await rows(core, CHANGE, CHANGE.c.seq)
        assert changes[-1]["kind"] == "instance_replaced"
        elsewhere = await store(core, dicomgen.write(moved, tmp_path / "moved.dcm"))
        assert elsewhere.outcome is StoreOutcome.REPLACED
        assert elsewhere.path != result.path
        assert not result.path.exists()  # the superseded file is removed
        assert _stored_files(core) == [elsewhere.path.relative_to(core.area.root).as_posix()]
        (row,) = await rows(core, INSTANCE)
        assert row["file_path"] == elsewhere.path.relative_to(core.area.root).as_posix()
        assert await counts(core) == before


async def test_duplicates_reject(tmp_path: Path, db_url: str) -> None:
    sop = generate_uid()
    path = dicomgen.write(dicomgen.make_ct(sop=sop), tmp_path / "in" / "a.dcm")
    other = dicomgen.make_ct(sop=sop, seed=3)  # same instance, filed under another study
    async with running(tmp_path, db_url, storage__duplicates="reject") as core:
        first = await store(core, path)
        kept = first.path.read_bytes()
        before = await counts(core)
        with pytest.raises(DuplicateRejected):
            await store(core, dicomgen.write(other, tmp_path / "in" / "b.dcm"))
        assert first.path.read_bytes() == kept
        assert await counts(core) == before
        assert _stored_files(core) == [first.path.relative_to(core.area.root).as_posix()]
        assert list(core.area.spool.iterdir()) == []


async def test_demographics_conflict_is_kept_and_flagged(tmp_path: Path, db_url: str) -> None:
    first = dicomgen.make_ct(patient_name="Doe^John")
    second = dicomgen.make_ct(patient_name="Smith^Anna")
    async with running(tmp_path, db_url) as core:
        assert (await store(core, dicomgen.write(first, tmp_path / "a.dcm"))).outcome == "stored"
        result = await store(core, dicomgen.write(second, tmp_path / "b.dcm"))
        assert result.outcome is StoreOutcome.STORED
        (patient,) = await rows(core, PATIENT)
        assert (patient["name"], patient["name_norm"]) == ("Doe^John", "DOE^JOHN")
        assert (patient["num_studies"], patient["num_instances"]) == (2, 2)
        flags = {i["sop_uid"]: i["patient_conflict"] for i in await rows(core, INSTANCE)}
        assert flags == {first.SOPInstanceUID: False, second.SOPInstanceUID: True}


async def test_names_get_their_search_groups(tmp_path: Path, db_url: str) -> None:
    """On a new patient and on one whose name arrives later (`pacs.index.names`)."""
    wang = "Wang^Xiaoming=王^小明=おう^しょうめい"
    utf8 = {"SpecificCharacterSet": "ISO_IR 192"}
    first = dicomgen.make_ct(patient_id="PAT001", patient_name=wang, **utf8)
    nameless = dicomgen.make_ct(patient_id="PAT002", patient_name="")
    named = dicomgen.make_ct(patient_id="PAT002", patient_name="Kim==きむ", **utf8)
    async with running(tmp_path, db_url) as core:
        for number, ds in enumerate((first, nameless, named)):
            await store(core, dicomgen.write(ds, tmp_path / f"{number}.dcm"))
        stored = {p["patient_id"]: p for p in await rows(core, PATIENT)}
    for patient_id, name in (("PAT001", wang), ("PAT002", "Kim==きむ")):
        assert stored[patient_id]["name"] == name
        assert {k: stored[patient_id][k] for k in pn_search_values(name)} == pn_search_values(name)


async def test_study_under_another_patient_is_flagged(tmp_path: Path, db_url: str) -> None:
    study = generate_uid()
    first = dicomgen.make_ct(study=study, patient_id="PAT001")
    second = dicomgen.make_ct(study=study, patient_id="PAT002", patient_name="Roe^Jane")
    async with running(tmp_path, db_url) as core:
        await store(core, dicomgen.write(first, tmp_path / "a.dcm"))
        await store(core, dicomgen.write(second, tmp_path / "b.dcm"))
        flags = {i["sop_uid"]: i["patient_conflict"] for i in await rows(core, INSTANCE)}
        assert flags == {first.SOPInstanceUID: False, second.SOPInstanceUID: True}
        (row,) = await rows(core, STUDY)
        owners = {p["id"]: p for p in await rows(core, PATIENT)}
        assert owners[row["patient_pk"]]["patient_id"] == "PAT001"
        assert (row["num_series"], row["num_instances"]) == (2, 2)
        assert owners[row["patient_pk"]]["num_instances"] == 2


async def test_concurrent_stores_are_all_committed(tmp_path: Path, db_url: str) -> None:
    studies = [
        dicomgen.write_study(tmp_path / "a", series=3, per_series=10),
        dicomgen.write_study(tmp_path / "b", series=2, per_series=10, patient_id="PAT002"),
    ]
    paths = [path for study in studies for path in study]
    results: list[StoreResult] = []
    async with running(tmp_path, db_url, database__batch_size="8") as core:

        async def one(path: Path) -> None:
            results.append(await store(core, path))

        async with trio.open_nursery() as nursery:
            for path in paths:
                nursery.start_soon(one, path)
        assert len(results) == 50
        assert {r.outcome for r in results} == {StoreOutcome.STORED}
        assert len(_stored_files(core)) == 50
        snapshot = await counts(core)
        assert sorted(snapshot["patient"]) == [("PAT001", 1, 3, 30), ("PAT002", 1, 2, 20)]
        assert sorted((s[1], s[2], s[3]) for s in snapshot["study"]) == [
            (2, 20, "CT"),
            (3, 30, "CT"),
        ]
        assert sorted(s[1] for s in snapshot["series"]) == [10] * 5
        assert len(snapshot["instance"]) == 50
        changes = await rows(core, CHANGE, CHANGE.c.seq)
        kinds = [c["kind"] for c in changes]
        assert len(kinds) == 2 + 2 + 5 + 50
        assert kinds.count("instance_stored") == 50
        assert len({c["seq"] for c in changes}) == len(changes)


async def test_same_instance_sent_twice_at_once(tmp_path: Path, db_url: str) -> None:
    path = dicomgen.write(dicomgen.make_ct(), tmp_path / "a.dcm")
    outcomes: list[StoreOutcome] = []
    async with running(tmp_path, db_url) as core:

        async def one() -> None:
            outcomes.append((await store(core, path)).outcome)

        async with trio.open_nursery() as nursery:
            for _ in range(4):
                nursery.start_soon(one)
        assert sorted(outcomes) == sorted([StoreOutcome.STORED] + [StoreOutcome.DUPLICATE] * 3)
        assert (await counts(core))["series"][0][1] == 1
        assert len(_stored_files(core)) == 1


@pytest.mark.parametrize("content", [b"not dicom at all" * 10, b""])
async def test_unreadable_file_is_refused_and_removed(
    tmp_path: Path, db_url: str, content: bytes
) -> None:
    async with running(tmp_path, db_url) as core:
        spooled = core.area.spool / "garbage.dcm"
        spooled.write_bytes(content)
        with pytest.raises(InvalidDataset):
            await store(core, spooled, consume=True)
        assert not spooled.exists()
        assert _stored_files(core) == []
        assert (await counts(core))["instance"] == []


async def test_truncated_and_incomplete_files_are_refused(tmp_path: Path, db_url: str) -> None:
    good = dicomgen.write(dicomgen.make_ct(), tmp_path / "good.dcm")
    no_series = dicomgen.make_ct()
    del no_series.SeriesInstanceUID
    async with running(tmp_path, db_url) as core:
        truncated = core.area.spool / "truncated.dcm"
        truncated.write_bytes(good.read_bytes()[:-100])
        with pytest.raises(InvalidDataset, match="truncated"):
            await store(core, truncated, consume=True)
        incomplete = dicomgen.write(no_series, core.area.spool / "incomplete.dcm")
        with pytest.raises(MissingAttribute, match="SeriesInstanceUID"):
            await store(core, incomplete, consume=True)
        assert list(core.area.spool.iterdir()) == []
        assert _stored_files(core) == []
        assert await rows(core, CHANGE) == []


async def test_repaired_charset_is_indexed_and_recorded(tmp_path: Path, db_url: str) -> None:
    ds = dicomgen.make_ct(SpecificCharacterSet="ISO_IR 100", patient_name="XXXX^XXXX")
    path = dicomgen.write(ds, tmp_path / "a.dcm")
    gb = "张三^李四".encode("gb18030") + b" "  # same length as the padded placeholder
    path.write_bytes(path.read_bytes().replace(b"XXXX^XXXX ", gb))
    async with running(tmp_path, db_url) as core:
        result = await store(core, path)
        assert result.repairs == 1
        (patient,) = await rows(core, PATIENT)
        assert patient["name"] == "张三^李四"
        (instance,) = await rows(core, INSTANCE)
        assert (instance["charset"], instance["charset_repaired"]) == ("ISO_IR 100", True)
        repairs = [(r["keyword"], r["declared"], r["used"]) for r in await rows(core, REPAIR)]
        assert repairs == [("PatientName", "ISO_IR 100", "GB18030")]


async def test_unsafe_uids_stay_inside_the_area(tmp_path: Path, db_url: str) -> None:
    path = dicomgen.write(dicomgen.make_ct(study="1.2.3"), tmp_path / "a.dcm")
    path.write_bytes(path.read_bytes().replace(b"1.2.3\x00", b"../..\x00"))
    async with running(tmp_path, db_url) as core:
        result = await store(core, path)
        assert result.outcome is StoreOutcome.STORED
        (row,) = await rows(core, STUDY)
        assert row["study_uid"] == "../.."
        assert result.path.resolve().is_relative_to(core.area.root.resolve())
        assert ".." not in result.path.relative_to(core.area.root).parts


async def test_replacement_in_another_series_moves_the_instance(
    tmp_path: Path, db_url: str
) -> None:
    """With duplicates=replace the index follows the new file, including its study and series."""
    sop = generate_uid()
    old = dicomgen.make_ct(sop=sop)
    new = dicomgen.make_ct(sop=sop)  # same instance, re-sent under a corrected study/series
    async with running(tmp_path, db_url, storage__duplicates="replace") as core:
        await store(core, dicomgen.write(old, tmp_path / "old.dcm"))
        result = await store(core, dicomgen.write(new, tmp_path / "new.dcm"))
        assert result.outcome is StoreOutcome.REPLACED
        snapshot = await counts(core)
        assert (new.StudyInstanceUID, 1, 1, "CT") in snapshot["study"]
        assert (new.SeriesInstanceUID, 1) in snapshot["series"]
        assert (old.SeriesInstanceUID, 1) not in snapshot["series"]
        (instance,) = await rows(core, INSTANCE)
        series = {s["id"]: s["series_uid"] for s in await rows(core, SERIES)}
        assert series[instance["series_pk"]] == new.SeriesInstanceUID


async def test_nul_inside_a_text_value_is_indexed(tmp_path: Path, db_url: str) -> None:
    """A value breaking its VR's rules is kept in the file and only normalised for the index;
    PostgreSQL text cannot hold NUL, so it must not fail the store (nor its batch)."""
    bad = dicomgen.write(dicomgen.make_ct(patient_name="Doe^John"), tmp_path / "bad.dcm")
    bad.write_bytes(bad.read_bytes().replace(b"Doe^John", b"Doe\x00John"))
    good = dicomgen.write_study(tmp_path / "good", series=1, per_series=5, patient_id="PAT002")
    outcomes: list[StoreOutcome] = []
    async with running(tmp_path, db_url) as core:

        async def one(path: Path) -> None:
            outcomes.append((await store(core, path)).outcome)

        async with trio.open_nursery() as nursery:
            for path in [*good, bad]:
                nursery.start_soon(one, path)
        assert outcomes == [StoreOutcome.STORED] * 6
        assert len((await counts(core))["instance"]) == 6
        names = {p["patient_id"]: p["name"] for p in await rows(core, PATIENT)}
        assert names["PAT001"].startswith("Doe")
