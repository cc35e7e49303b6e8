"""The plans SQLite picks for C-FIND's queries as they really run: with bound parameters (the
LIMIT included) and no ORDER BY. Without statistics SQLite guesses selectivity; these check
that a date range or a name prefix searches its index instead of reading a whole table."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from pacs.index import query as index_query
from pacs.index.db import make_engine
from pacs.index.keys import Level


def _plan(engine: Engine, values: dict[str, object], *, ordered: bool) -> list[str]:
    planned = index_query.plan(Level.STUDY, {**values, "StudyInstanceUID": ""})
    compiled = index_query.statement(planned, limit=10001, ordered=ordered).compile(engine)
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        rows = cursor.execute(f"EXPLAIN QUERY PLAN {compiled}", params).fetchall()
    finally:
        raw.close()
    return [str(row[3]) for row in rows]


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'index.db'}")


@pytest.mark.parametrize(
    ("values", "index"),
    [
        ({"StudyDate": "20251231-"}, "ix_study_study_date"),
        ({"StudyDate": "20251201-20251231"}, "ix_study_study_date"),
        ({"StudyDate": "20251230-", "ModalitiesInStudy": "MR"}, "ix_study_study_date"),
        ({"PatientName": "SMITH*"}, "ix_patient_name_g1_norm"),
        ({"PatientName": "W*", "StudyDate": "20251201-"}, "ix_study_study_date"),
    ],
    ids=["since", "range", "with-modality", "name-prefix", "initial-and-range"],
)
def test_c_find_searches_an_index(engine: Engine, values: dict[str, object], index: str) -> None:
    plan = _plan(engine, values, ordered=False)
    assert any(f"USING INDEX {index} " in line for line in plan), plan
    assert not any(line.startswith("SCAN") for line in plan), plan


def test_ordered_query_still_answers_in_insertion_order(engine: Engine) -> None:
    """Paging needs the order; the plan may then prefer the id order (no assertion on it)."""
    planned = index_query.plan(Level.STUDY, {"StudyDate": "20251231-"})
    sql = str(index_query.statement(planned, limit=10).compile(engine))
    assert sql.rstrip().splitlines()[-2].endswith("ORDER BY study.id")
