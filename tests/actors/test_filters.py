"""pacs.index.filters on the real schema, on SQLite and PostgreSQL: every kind of condition
selects exactly the expected rows, and the same rows `matches` accepts in Python."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Engine, Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from pacs.errors import QueryError
from pacs.index.db import make_engine
from pacs.index.filters import condition_filter, date_time_filter, glob_pattern, like_pattern
from pacs.index.names import PATIENT_NAME, pn_search_values
from pacs.index.statements import INSTANCE, PATIENT, SERIES, STUDY
from pacs.model.matching import (
    Universal,
    combine_date_time,
    matches,
    matches_date_time,
    parse_key,
)
from pacs.model.normalize import split_multi
from tests.conftest import PG_ADMIN, _pg_reachable

WANG = "Wang^Xiaoming=王^小明=おう^しょうめい"
YAMADA = "Yamada^Tarou=山田^太郎=やまだ^たろう"
D = dt.date

PATIENTS: list[dict[str, Any]] = [
    {"id": 1, "patient_id": "A%1", "name": "Doe^John", "birth_date": D(1970, 1, 1)},
    {"id": 2, "patient_id": "A_1", "name": "doe^jane", "birth_date": D(1980, 6, 15)},
    {"id": 3, "patient_id": "AB1", "name": WANG, "birth_date": D(1990, 12, 31)},
    {"id": 4, "patient_id": "X!1", "name": "Müller^Jürgen^^", "birth_date": D(2000, 2, 29)},
    {"id": 5, "patient_id": "A[1]", "name": "Doering^Anne"},
    {"id": 6, "patient_id": "", "name": ""},
    {"id": 7, "patient_id": "a%1", "name": "DOE^JOHN"},
    {"id": 8, "patient_id": "Y1", "name": YAMADA},
    {"id": 9, "patient_id": "Z1", "name": "=李^四"},
    {"id": 10, "patient_id": "A!1", "name": "Doe^John^^Dr"},
    # LIKE's and GLOB's own characters, a near miss of the first, an empty middle group
    {"id": 11, "patient_id": "Nb", "name": "Under_Score^A"},
    {"id": 12, "patient_id": "Nc", "name": "Per%Cent^B"},
    {"id": 13, "patient_id": "Nd", "name": "Brack[et]^C"},
    {"id": 14, "patient_id": "Ne", "name": "Bang!^D"},
    {"id": 15, "patient_id": "Nf", "name": "UnderXScore^Z"},
    {"id": 16, "patient_id": "Ng", "name": "Kim==きむ"},
]
EVERY_PATIENT = [row["id"] for row in PATIENTS]
IDEOGRAPHIC_SPACE = "\u3000"  # NFKC: a space, so normalize_pn leaves "" of it
STUDIES: list[dict[str, Any]] = [
    {"id": 1, "study_date": D(2024, 1, 1), "study_time": "080000", "modalities": "CT\\MR",
     "accession_number": "ACC_1", "patient_size": 1.75},
    {"id": 2, "study_date": D(2024, 1, 15), "study_time": "120000.5", "modalities": "MR",
     "accession_number": "ACC11", "patient_size": 1.8},
    {"id": 3, "study_date": D(2024, 1, 31), "study_time": "235959.999999", "modalities": "MRX",
     "accession_number": "acc_1"},
    {"id": 4, "study_date": D(2024, 2, 1), "study_time": "000000", "modalities": "CT",
     "accession_number": "ACC%1"},
    {"id": 5, "study_date": None, "study_time": None, "modalities": "", "accession_number": ""},
    {"id": 6, "study_date": D(2024, 1, 15), "study_time": None, "modalities": "SR\\XA\\MR",
     "accession_number": "ACC!1"},
    {"id": 7, "study_date": D(2024, 1, 15), "study_time": "103000", "modalities": "PT\\CT",
     "accession_number": "B[1]"},
    {"id": 8, "study_date": D(2024, 1, 16), "study_time": "103059.5", "modalities": "OT",
     "accession_number": "B1"},
    {"id": 9, "study_date": D(2024, 1, 20), "study_time": "235000", "modalities": "CXT",
     "accession_number": ""},
    {"id": 10, "study_date": D(2024, 3, 1), "study_time": "120000", "modalities": "C_T",
     "accession_number": "ACC*1"},
]  # fmt: skip
SERIES_ROWS: list[dict[str, Any]] = [
    {"id": 1, "study_pk": 1, "modality": "CT", "series_number": 1},
    {"id": 2, "study_pk": 1, "modality": "MR", "series_number": 2},
    {"id": 3, "study_pk": 2, "modality": "MR", "series_number": 1},
    {"id": 4, "study_pk": 3, "modality": "MRX", "series_number": 3},
    {"id": 5, "study_pk": 4, "modality": "ct", "series_number": None},
    {"id": 6, "study_pk": 5, "modality": "", "series_number": None},
]
INSTANCES: list[dict[str, Any]] = [
    {"id": 1, "acquisition_datetime": "20060705100000"},
    {"id": 2, "acquisition_datetime": "20060705"},
    {"id": 3, "acquisition_datetime": "20060706120000.5"},
    {"id": 4, "acquisition_datetime": "20060707183000+0100"},
    {"id": 5, "acquisition_datetime": ""},
    {"id": 6, "acquisition_datetime": "2006070718"},
    {"id": 7, "acquisition_datetime": "20060708"},
]
for _study in STUDIES:
    _study["study_uid"] = f"1.2.{_study['id']}"
ROWS = {"patient": PATIENTS, "study": STUDIES, "series": SERIES_ROWS, "instance": INSTANCES}
TABLES = {"patient": PATIENT, "study": STUDY, "series": SERIES, "instance": INSTANCE}


def _fill(engine: Engine) -> None:
    with engine.begin() as conn:
        for row in PATIENTS:
            conn.execute(insert(PATIENT).values(**row, **pn_search_values(row["name"])))
        for row in STUDIES:
            conn.execute(insert(STUDY).values(**row, patient_pk=row["id"]))
        for row in SERIES_ROWS:
            conn.execute(insert(SERIES).values(**row, series_uid=f"1.3.{row['id']}"))
        for row in INSTANCES:
            values = {"sop_uid": f"1.4.{row['id']}", "file_path": f"f{row['id']}"}
            conn.execute(
                insert(INSTANCE).values(**row, **values, series_pk=1, sop_class_uid="1.2.840")
            )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The real schema with the rows above, once per backend; PostgreSQL in its own database,
    dropped afterwards."""
    database = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('filters') / 'index.db'}"
    else:
        if not _pg_reachable():
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        import psycopg

        database = f"pacs_filters_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    try:
        engine = make_engine(url)
        _fill(engine)
        yield engine
        engine.dispose()
    finally:
        if database is not None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def selected(engine: Engine, table: Table, where: ColumnElement[bool] | None) -> list[int]:
    query = select(table.c.id).order_by(table.c.id)
    if where is not None:
        query = query.where(where)
    with engine.connect() as conn:
        return list(conn.scalars(query))


# (table, column, VR, key, options, expected ids); options: multi, ci (case-insensitive)
CASES = [
    # person names, case-sensitive on the raw column
    ("patient", "name", "PN", "Doe^John", "", [1]),
    ("patient", "name", "PN", "Doe^John^^Dr", "", [10]),
    ("patient", "name", "PN", "Doe*", "", [1, 5, 10]),
    ("patient", "name", "PN", "Doe^J*", "", [1, 10]),
    ("patient", "name", "PN", "D*n", "", [1]),
    ("patient", "name", "PN", "Doe^Joh?", "", [1]),
    ("patient", "name", "PN", "?oe^John", "", [1]),
    ("patient", "name", "PN", "Müller^Jürgen", "", [4]),
    ("patient", "name", "PN", "Doe^John\\Müller^Jürgen", "", [1, 4]),
    ("patient", "name", "PN", '""', "", [6]),
    ("patient", "name", "PN", "*", "", EVERY_PATIENT),
    ("patient", "name", "PN", "*=*", "", EVERY_PATIENT),
    # ... component groups
    ("patient", "name", "PN", "王*", "", [3]),
    ("patient", "name", "PN", "*小明", "", [3]),
    ("patient", "name", "PN", "おう^しょうめい", "", [3]),
    ("patient", "name", "PN", "Wang^Xiaoming=王^小明", "", [3]),
    ("patient", "name", "PN", "=王^小明", "", [3]),
    ("patient", "name", "PN", "==おう*", "", [3]),
    ("patient", "name", "PN", "李^四", "", [9]),
    ("patient", "name", "PN", "=李^四", "", [9]),
    ("patient", "name", "PN", "Wang*小明", "", []),  # never across groups
    ("patient", "name", "PN", "Wang*=山田*", "", []),
    ("patient", "name", "PN", "山田*", "", [8]),
    ("patient", "name", "PN", "*=山田*", "", [8]),
    ("patient", "name", "PN", "Under_*", "", [11]),
    ("patient", "name", "PN", "Under?Score*", "", [11, 15]),
    ("patient", "name", "PN", "Brack[et]*", "", [13]),
    ("patient", "name", "PN", "Per%Cent^B", "", [12]),
    ("patient", "name", "PN", "*%*", "", [12]),
    ("patient", "name", "PN", "Bang!*", "", [14]),
    ("patient", "name", "PN", "きむ", "", [16]),
    ("patient", "name", "PN", "==きむ", "", [16]),
    # ... case-insensitive, on name_norm
    ("patient", "name", "PN", "doe*", "ci", [1, 2, 5, 7, 10]),
    ("patient", "name", "PN", "DOE^JOHN", "ci", [1, 7]),
    ("patient", "name", "PN", "muller^jurgen", "ci", [4]),
    ("patient", "name", "PN", "MÜLLER*", "ci", [4]),
    ("patient", "name", "PN", "wang*", "ci", [3]),
    ("patient", "name", "PN", "doe^john\\yamada^tarou", "ci", [1, 7, 8]),
    ("patient", "name", "PN", '""', "ci", [6]),
    # ... one group found in any group of the name, exact or by prefix
    ("patient", "name", "PN", "王*", "ci", [3]),
    ("patient", "name", "PN", "やまだ*", "ci", [8]),
    ("patient", "name", "PN", "李*", "ci", [9]),
    ("patient", "name", "PN", "きむ", "ci", [16]),
    ("patient", "name", "PN", "kim*", "ci", [16]),
    ("patient", "name", "PN", "b*", "ci", [13, 14]),
    ("patient", "name", "PN", "*小明", "ci", [3]),
    ("patient", "name", "PN", "wang*小明", "ci", []),
    # ... positional
    ("patient", "name", "PN", "=李*", "ci", [9]),
    ("patient", "name", "PN", "=王^小明", "ci", [3]),
    ("patient", "name", "PN", "==おう*", "ci", [3]),
    ("patient", "name", "PN", "==きむ", "ci", [16]),
    ("patient", "name", "PN", "=*=きむ", "ci", [16]),
    ("patient", "name", "PN", "wang*=王*", "ci", [3]),
    ("patient", "name", "PN", "yamada^tarou=山田^太郎", "ci", [8]),
    ("patient", "name", "PN", "*=山田*", "ci", [8]),
    ("patient", "name", "PN", "wang*=山田*", "ci", []),
    # ... literal %, _, [ and ! in a pattern or value
    ("patient", "name", "PN", "under_*", "ci", [11]),
    ("patient", "name", "PN", "under_score*", "ci", [11]),
    ("patient", "name", "PN", "under?score*", "ci", [11, 15]),
    ("patient", "name", "PN", "*_*", "ci", [11]),
    ("patient", "name", "PN", "per%*", "ci", [12]),
    ("patient", "name", "PN", "*%*", "ci", [12]),
    ("patient", "name", "PN", "per%cent^b", "ci", [12]),
    ("patient", "name", "PN", "brack[*", "ci", [13]),
    ("patient", "name", "PN", "brack[et]^c", "ci", [13]),
    ("patient", "name", "PN", "*[*", "ci", [13]),
    ("patient", "name", "PN", "bang!*", "ci", [14]),
    ("patient", "name", "PN", "*!*", "ci", [14]),
    ("patient", "name", "PN", "under_score^a\\kim", "ci", [11, 16]),
    ("patient", "name", "PN", "under_score^a\\==きむ", "ci", [11, 16]),
    # ... query groups normalised to "" or "*": a group the name lacks, or an empty name, fails
    ("patient", "name", "PN", IDEOGRAPHIC_SPACE, "ci", [9, 16]),
    ("patient", "name", "PN", f"{IDEOGRAPHIC_SPACE}*", "ci", [n for n in EVERY_PATIENT if n != 6]),
    ("patient", "name", "PN", f"={IDEOGRAPHIC_SPACE}*", "ci", [n for n in EVERY_PATIENT if n != 6]),
    ("patient", "name", "PN", f"{IDEOGRAPHIC_SPACE}=李*", "ci", [9]),
    # text with LIKE's own special characters, and case
    ("patient", "patient_id", "LO", "A%1", "", [1]),
    ("patient", "patient_id", "LO", "A%*", "", [1]),
    ("patient", "patient_id", "LO", "A_*", "", [2]),
    ("patient", "patient_id", "LO", "A?1", "", [1, 2, 3, 10]),
    ("patient", "patient_id", "LO", "a*", "", [7]),
    ("patient", "patient_id", "LO", "X!*", "", [4]),
    ("patient", "patient_id", "LO", "A!?", "", [10]),
    ("patient", "patient_id", "LO", "A[*", "", [5]),
    ("patient", "patient_id", "LO", "A[1]", "", [5]),
    ("patient", "patient_id", "LO", "*1", "", [1, 2, 3, 4, 7, 8, 9, 10]),
    ("patient", "patient_id", "LO", "?", "", []),
    ("patient", "patient_id", "LO", "A%1\\AB1", "", [1, 3]),
    ("patient", "patient_id", "LO", '""', "", [6]),
    ("study", "accession_number", "SH", "ACC_1", "", [1]),
    ("study", "accession_number", "SH", "ACC_*", "", [1]),
    ("study", "accession_number", "SH", "ACC%*", "", [4]),
    ("study", "accession_number", "SH", "ACC!*", "", [6]),
    ("study", "accession_number", "SH", "ACC?1", "", [1, 2, 4, 6, 10]),
    ("study", "accession_number", "SH", "ACC*1", "", [1, 2, 4, 6, 10]),
    ("study", "accession_number", "SH", "acc*", "", [3]),
    ("study", "accession_number", "SH", "B[1]", "", [7]),
    ("study", "accession_number", "SH", "B[*", "", [7]),
    ("study", "accession_number", "SH", "*[*", "", [7]),
    ("study", "accession_number", "SH", "B?", "", [8]),
    ("study", "accession_number", "SH", '""', "", [5, 9]),
    # dates, with open ends and the legacy form
    ("patient", "birth_date", "DA", "19800615", "", [2]),
    ("patient", "birth_date", "DA", "1980.06.15", "", [2]),
    ("patient", "birth_date", "DA", "19800101-19901231", "", [2, 3]),
    ("patient", "birth_date", "DA", "-19800615", "", [1, 2]),
    ("patient", "birth_date", "DA", "19800616-", "", [3, 4]),
    ("patient", "birth_date", "DA", '""', "", list(range(5, 17))),
    ("study", "study_date", "DA", "20240115", "", [2, 6, 7]),
    ("study", "study_date", "DA", "20240101-20240131", "", [1, 2, 3, 6, 7, 8, 9]),
    ("study", "study_date", "DA", "20240201-", "", [4, 10]),
    ("study", "study_date", "DA", "-20240101", "", [1]),
    ("study", "study_date", "DA", '""', "", [5]),
    # times: partial precision, fractions, open ends
    ("study", "study_time", "TM", "08", "", [1]),
    ("study", "study_time", "TM", "12", "", [2, 10]),
    ("study", "study_time", "TM", "1030", "", [7, 8]),
    ("study", "study_time", "TM", "103059", "", [8]),
    ("study", "study_time", "TM", "1200-", "", [2, 3, 9, 10]),
    ("study", "study_time", "TM", "-1200", "", [1, 2, 4, 7, 8, 10]),
    ("study", "study_time", "TM", "120000.5-", "", [2, 3, 9]),
    ("study", "study_time", "TM", "120000.6-", "", [3, 9]),
    ("study", "study_time", "TM", "-120000.4", "", [1, 4, 7, 8, 10]),
    ("study", "study_time", "TM", "2359-", "", [3]),
    ("study", "study_time", "TM", "000000-000000", "", [4]),
    ("study", "study_time", "TM", "10:30-10:30", "", [7, 8]),
    ("study", "study_time", "TM", '""', "", [5, 6]),
    # multi-valued modalities: whole tokens only
    ("study", "modalities", "CS", "MR", "multi", [1, 2, 6]),
    ("study", "modalities", "CS", "CT", "multi", [1, 4, 7]),
    ("study", "modalities", "CS", "CT\\MR", "multi", [1, 2, 4, 6, 7]),
    ("study", "modalities", "CS", "MRX", "multi", [3]),
    ("study", "modalities", "CS", "XA", "multi", [6]),
    ("study", "modalities", "CS", "R", "multi", []),
    ("study", "modalities", "CS", "ct", "multi", []),
    ("study", "modalities", "CS", "C_T", "multi", [10]),
    ("study", "modalities", "CS", '""', "multi", [5]),
    ("study", "modalities", "CS", "*", "multi", list(range(1, 11))),
    # single-valued code strings, numbers, UIDs
    ("series", "modality", "CS", "CT\\MR", "", [1, 2, 3]),
    ("series", "modality", "CS", "ct", "", [5]),
    ("series", "modality", "CS", "MR*", "", [2, 3, 4]),
    ("series", "modality", "CS", '""', "", [6]),
    ("series", "series_number", "IS", "1", "", [1, 3]),
    ("series", "series_number", "IS", "1\\3", "", [1, 3, 4]),
    ("series", "series_number", "IS", '""', "", [5, 6]),
    ("study", "patient_size", "DS", "1.75", "", [1]),
    ("study", "patient_size", "DS", "1.75\\1.8", "", [1, 2]),
    ("study", "study_uid", "UI", "1.2.1", "", [1]),
    ("study", "study_uid", "UI", "1.2.3\\1.2.10", "", [3, 10]),
    # datetimes kept as text, of any precision
    ("instance", "acquisition_datetime", "DT", "20060705-20060706", "", [1, 2, 3]),
    ("instance", "acquisition_datetime", "DT", "200607051000-", "", [1, 3, 4, 6, 7]),
    ("instance", "acquisition_datetime", "DT", "-2006070718", "", [1, 2, 3, 4, 6]),
    ("instance", "acquisition_datetime", "DT", "20060707", "", [4, 6]),
    ("instance", "acquisition_datetime", "DT", "2006", "", [1, 2, 3, 4, 6, 7]),
    ("instance", "acquisition_datetime", "DT", "20060706120000.5", "", [3]),
    ("instance", "acquisition_datetime", "DT", "20060705-", "", [1, 2, 3, 4, 6, 7]),
    ("instance", "acquisition_datetime", "DT", "200607-", "", [1, 2, 3, 4, 6, 7]),
    ("instance", "acquisition_datetime", "DT", "20060706-", "", [3, 4, 6, 7]),
    ("instance", "acquisition_datetime", "DT", "20060705100000-20060705100000", "", [1]),
    ("instance", "acquisition_datetime", "DT", '""', "", [5]),
]


@pytest.mark.parametrize(("table", "field", "vr", "key", "options", "expected"), CASES)
def test_filter_selects_exactly(
    engine: Engine,
    table: str,
    field: str,
    vr: str,
    key: str,
    options: str,
    expected: list[int],
) -> None:
    condition = parse_key(field, vr, key)
    insensitive, multi = options == "ci", options == "multi"
    columns = TABLES[table].c
    variants: list[tuple[ColumnElement[Any], ...]] = [()]
    if insensitive and (table, field) == (PATIENT_NAME.table, PATIENT_NAME.source):
        variants.append(tuple(columns[name] for name in PATIENT_NAME.groups))
    for groups in variants:  # names: cut out of the _norm column, and on the stored groups
        where = condition_filter(
            columns[field],
            condition,
            vr=vr,
            multi=multi,
            case_insensitive=insensitive,
            norm=columns[f"{field}_norm"] if insensitive else None,
            groups=groups,
        )
        assert selected(engine, TABLES[table], where) == expected
    # the same rows as the rules evaluated in Python
    in_python = []
    for row in ROWS[table]:
        value = row.get(field)
        stored = list(split_multi(value)) if multi else value
        if matches(condition, stored, vr=vr, case_insensitive=insensitive):
            in_python.append(row["id"])
    assert in_python == expected


@pytest.mark.parametrize(
    ("date", "time", "expected"),
    [
        ("20240115-20240131", "1030-1200", [2, 7, 8, 9]),
        ("20240115-", "1200-", [2, 3, 4, 8, 9, 10]),
        ("-20240115", "-1030", [1, 7]),
        ("20240115-20240115", "1030-1030", [7]),
        ("20240116-20240120", "0000-2359", [8, 9]),
    ],
)
def test_combined_date_time_filter(
    engine: Engine, date: str, time: str, expected: list[int]
) -> None:
    combined = combine_date_time(
        parse_key("StudyDate", "DA", date), parse_key("StudyTime", "TM", time)
    )
    assert combined is not None
    where = date_time_filter(STUDY.c.study_date, STUDY.c.study_time, combined)
    assert selected(engine, STUDY, where) == expected
    in_python = [
        row["id"]
        for row in STUDIES
        if matches_date_time(combined, row["study_date"], row["study_time"])
    ]
    assert in_python == expected


def test_universal_is_no_filter() -> None:
    assert condition_filter(PATIENT.c.name, Universal(), vr="PN") is None
    assert condition_filter(STUDY.c.modalities, parse_key("M", "CS", "*"), vr="CS") is None


def test_conditions_the_index_cannot_answer() -> None:
    with pytest.raises(QueryError, match="modalities: only exact values"):
        condition_filter(STUDY.c.modalities, parse_key("M", "CS", "C*"), vr="CS", multi=True)
    with pytest.raises(QueryError, match="multi-valued person names"):
        condition_filter(
            STUDY.c.reading_physicians, parse_key("N", "PN", "Doe"), vr="PN", multi=True
        )
    with pytest.raises(ValueError, match="needs its _norm column"):
        condition_filter(
            PATIENT.c.name, parse_key("N", "PN", "Doe"), vr="PN", case_insensitive=True
        )


@pytest.mark.parametrize(
    ("pattern", "like", "glob"),
    [
        ("abc", "abc", "abc"),
        ("a*c?", "a%c_", "a*c?"),
        ("100%", "100!%", "100%"),
        ("a_b", "a!_b", "a_b"),
        ("a!b", "a!!b", "a!b"),
        ("[x]*", "[x]%", "[[]x]*"),
        ("\\MR\\", "\\MR\\", "\\MR\\"),
    ],
)
def test_pattern_translation(pattern: str, like: str, glob: str) -> None:
    assert like_pattern(pattern) == like
    assert glob_pattern(pattern) == glob


def test_wildcards_compile_to_like_with_escape_and_to_glob_on_sqlite() -> None:
    where = condition_filter(PATIENT.c.patient_id, parse_key("PatientID", "LO", "A_*"), vr="LO")
    assert where is not None
    on_postgresql = str(where.compile(dialect=postgresql.dialect()))
    on_sqlite = str(where.compile(dialect=sqlite.dialect()))
    assert "patient.patient_id LIKE" in on_postgresql and "ESCAPE '!'" in on_postgresql
    assert "patient.patient_id GLOB" in on_sqlite and "LIKE" not in on_sqlite
