"""Person names searched through their stored component groups (`pacs.index.names`): an index of
schema version 1 gets them at startup, and a name prefix query searches their indexes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.dialects import sqlite

from pacs.index import migrate
from pacs.index import query as index_query
from pacs.index.db import make_engine
from pacs.index.keys import Level
from pacs.index.names import PATIENT_NAME, pn_search_values
from pacs.index.schema import SCHEMA_VERSION
from pacs.index.statements import PATIENT

NAMES = ["Wang^Xiaoming=王^小明=おう^しょうめい", "Doe^John^^", "", "=李^四", "Kim==きむ", "Müller"]


def test_search_values_are_the_groups_matching_compares() -> None:
    assert pn_search_values("Wang^Xiaoming=王^小明=おう^しょうめい") == {
        "name_norm": "WANG^XIAOMING=王^小明=おう^しょうめい",
        "name_g1_norm": "WANG^XIAOMING",
        "name_g2_norm": "王^小明",
        "name_g3_norm": "おう^しょうめい",
    }
    assert pn_search_values("müller^jürgen^^=") == {
        "name_norm": "MULLER^JURGEN",
        "name_g1_norm": "MULLER^JURGEN",
        "name_g2_norm": "",
        "name_g3_norm": "",
    }
    assert set(pn_search_values("").values()) == {""}


def _make_version_1(engine: Engine) -> None:
    """What schema version 1 had: patient rows without the group columns or their indexes."""
    with engine.begin() as conn:
        for column in PATIENT_NAME.groups:
            conn.execute(text(f"DROP INDEX ix_patient_{column}"))
            conn.execute(text(f"ALTER TABLE patient DROP COLUMN {column}"))
        conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))


def _stamped(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar())


def test_version_1_index_gets_its_name_groups_at_startup(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for pk, name in enumerate(NAMES, start=1):
            conn.execute(insert(PATIENT).values(id=pk, patient_id=f"P{pk}", name=name))
    _make_version_1(engine)
    engine.dispose()

    monkeypatch.setattr(migrate, "BATCH", 4)  # more than one batch
    with caplog.at_level(logging.INFO, logger="pacs.index"):
        engine = make_engine(db_url)
    assert f"filled for {len(NAMES)} patient rows" in caplog.text
    assert _stamped(engine) == str(SCHEMA_VERSION)
    indexed = {tuple(index["column_names"]) for index in inspect(engine).get_indexes("patient")}
    assert {(column,) for column in PATIENT_NAME.groups} <= indexed
    columns = [PATIENT.c[name] for name in PATIENT_NAME.groups]
    with engine.connect() as conn:
        stored = conn.execute(select(*columns).order_by(PATIENT.c.id)).all()
    assert [tuple(row) for row in stored] == [
        tuple(pn_search_values(name)[column] for column in PATIENT_NAME.groups) for name in NAMES
    ]
    # the name query finds an ideographic group the migration filled
    planned = index_query.plan(Level.PATIENT, {"PatientName": "李*", "PatientID": ""})
    assert [row["PatientID"] for row in index_query.rows(engine, planned)] == ["P4"]
    engine.dispose()

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pacs.index"):
        make_engine(db_url).dispose()  # already at the current version: nothing to do
    assert "upgrading" not in caplog.text


def _plan(engine: Engine, level: Level, values: dict[str, object]) -> list[str]:
    planned = index_query.plan(level, {**values, "StudyInstanceUID": ""})
    sql = index_query.statement(planned, limit=10001).compile(
        engine, compile_kwargs={"literal_binds": True}
    )
    with engine.connect() as conn:
        return [str(row[3]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]


@pytest.mark.parametrize(
    ("level", "values"),
    [
        (Level.STUDY, {"PatientName": "SMITH*"}),
        (Level.STUDY, {"PatientName": "smith^john"}),
        (Level.STUDY, {"PatientName": "S*"}),
        (Level.PATIENT, {"PatientName": "SMITH*"}),
        (Level.SERIES, {"PatientName": "SMITH*"}),
        (Level.IMAGE, {"PatientName": "SMITH*"}),
    ],
)
def test_name_query_searches_the_group_indexes_on_sqlite(
    tmp_path: Path, level: Level, values: dict[str, object]
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    plan = _plan(engine, level, values)
    engine.dispose()
    assert plan[0] == "MULTI-INDEX OR", plan
    for column in PATIENT_NAME.groups:
        assert any(f"USING INDEX ix_patient_{column} " in line for line in plan), plan
    assert not any(line.startswith("SCAN") for line in plan), plan


def test_name_without_a_prefix_keeps_the_substring_prefilter() -> None:
    """No index serves "*MITH*": the whole normalised name is narrowed first (PostgreSQL's
    trigram index can), then its groups are tested."""
    planned = index_query.plan(Level.STUDY, {"PatientName": "*mith*"})
    statement = index_query.statement(planned)
    sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    assert "patient.name_norm LIKE '%%MITH%%' ESCAPE '!' AND (" in sql
    for column in PATIENT_NAME.groups:
        assert sql.count(f"patient.{column} GLOB '*MITH*'") == 1
