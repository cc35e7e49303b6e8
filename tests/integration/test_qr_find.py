"""C-FIND with DCMTK findscu against a running pacs: both information models, every level,
wildcards, ranges, UID lists, multi-valued modalities, CJK names, refusals and bad queries."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from tests import dicomgen
from tests.conftest import Server, dcmtk

pytestmark = [pytest.mark.dcmtk]

STUDIES = [
    # patient id, name, date, time, modalities (one series each), accession
    ("P1", "Doe^John", "20240105", "081500", ["CT"], "A1"),
    ("P1", "Doe^John", "20240210", "143000", ["MR", "SR"], "A2"),
    ("P2", "Smith^Jane", "20240301", "101010", ["CT"], "A3"),
    ("P3", "Wang^XiaoMing=王^小明", "20240315", "120000", ["MR"], "A_4"),
    ("P4", "Yamada^Tarou=山田^太郎=やまだ^たろう", "20231231", "235959", ["US"], "A%5"),
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Build the study files once; each test stores them into its own server."""
    folder = tmp_path_factory.mktemp("studies")
    uids: dict[str, str] = {}
    for i, (pid, name, date, time, modalities, accession) in enumerate(STUDIES):
        study = pydicom.uid.generate_uid()
        uids[accession] = study
        for j, modality in enumerate(modalities):
            series = pydicom.uid.generate_uid()
            for n in range(2):
                ds = dicomgen.make_ct(
                    study=study, series=series, patient_id=pid, patient_name="x",
                    study_date=date, modality=modality, number=n + 1, AccessionNumber=accession,
                    StudyTime=time, SpecificCharacterSet="ISO_IR 192", SeriesNumber=j + 1,
                )  # fmt: skip
                ds.PatientName = name
                dicomgen.write(ds, folder / f"s{i}-{j}-{n}.dcm")
    return {"folder": folder, "uids": uids}


@pytest.fixture
def loaded(server: Server, archive: dict[str, object]) -> Server:
    server.store_folder(archive["folder"])  # type: ignore[arg-type]
    return server


def find(server: Server, tmp_path: Path, *keys: str, model: str = "-S") -> list[Dataset]:
    """findscu with -X: each response identifier is written to a file we read back."""
    out = tmp_path / f"rsp{len(list(tmp_path.glob('rsp*')))}"
    out.mkdir()
    args = ["findscu", model, "-aec", "PACS", "-X", "-od", str(out)]
    for key in keys:
        args += ["-k", key]
    dcmtk(*args, "127.0.0.1", str(server.dicom_port))
    return [pydicom.dcmread(p) for p in sorted(out.glob("*.dcm"))]


def accessions(found: list[Dataset]) -> set[str]:
    return {str(ds.AccessionNumber) for ds in found}


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["PatientName=Doe*"], {"A1", "A2"}),
        (["PatientName=doe^j*"], {"A1", "A2"}),  # case-insensitive names by default
        (["PatientName=王*"], {"A_4"}),
        (["PatientName=山田^太郎"], {"A%5"}),
        (["StudyDate=20240201-20240310"], {"A2", "A3"}),
        (["StudyDate=-20240105"], {"A1", "A%5"}),
        (["StudyDate=20240301-"], {"A3", "A_4"}),
        (["StudyDate=20240105-20240210", "StudyTime=1000-"], {"A2"}),
        (["ModalitiesInStudy=MR"], {"A2", "A_4"}),
        (["ModalitiesInStudy=SR\\US"], {"A2", "A%5"}),
        (["AccessionNumber=A?4"], {"A_4"}),
        (["AccessionNumber=A%5"], {"A%5"}),
        (["PatientID=P1", "ModalitiesInStudy=CT"], {"A1"}),
        (["PatientName=Nobody*"], set()),
    ],
)
def test_study_level_matching(
    loaded: Server, tmp_path: Path, keys: list[str], expected: set[str]
) -> None:
    found = find(loaded, tmp_path, "QueryRetrieveLevel=STUDY", "AccessionNumber", *keys)
    assert accessions(found) == expected


def test_uid_lists_and_returned_keys(
    loaded: Server, tmp_path: Path, archive: dict[str, object]
) -> None:
    uids: dict[str, str] = archive["uids"]  # type: ignore[assignment]
    wanted = f"StudyInstanceUID={uids['A1']}\\{uids['A3']}"
    found = find(
        loaded, tmp_path, "QueryRetrieveLevel=STUDY", wanted, "PatientName", "StudyDate",
        "ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
        "StudyDescription", "InstitutionAddress",
    )  # fmt: skip
    by_acc = {str(ds.get("StudyInstanceUID")): ds for ds in found}
    assert set(by_acc) == {uids["A1"], uids["A3"]}
    first = by_acc[uids["A1"]]
    assert str(first.PatientName) == "Doe^John"
    assert first.StudyDate == "20240105"
    assert list(first.ModalitiesInStudy) == ["CT"] or first.ModalitiesInStudy == "CT"
    assert int(first.NumberOfStudyRelatedSeries) == 1
    assert int(first.NumberOfStudyRelatedInstances) == 2
    assert "InstitutionAddress" in first and not first.InstitutionAddress  # unknown: empty
    assert first.QueryRetrieveLevel == "STUDY"
    assert first.RetrieveAETitle == "PACS"


def test_every_level_of_both_models(
    loaded: Server, tmp_path: Path, archive: dict[str, object]
) -> None:
    uids: dict[str, str] = archive["uids"]  # type: ignore[assignment]
    patients = find(
        loaded, tmp_path, "QueryRetrieveLevel=PATIENT", "PatientID", "PatientName=*",
        "NumberOfPatientRelatedStudies", model="-P",
    )  # fmt: skip
    studies_of = {str(ds.PatientID): int(ds.NumberOfPatientRelatedStudies) for ds in patients}
    assert studies_of == {"P1": 2, "P2": 1, "P3": 1, "P4": 1}
    series = find(
        loaded, tmp_path, "QueryRetrieveLevel=SERIES", f"StudyInstanceUID={uids['A2']}",
        "SeriesInstanceUID", "Modality", "NumberOfSeriesRelatedInstances",
    )  # fmt: skip
    assert sorted(str(ds.Modality) for ds in series) == ["MR", "SR"]
    assert {int(ds.NumberOfSeriesRelatedInstances) for ds in series} == {2}
    images = find(
        loaded, tmp_path, "QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={uids['A2']}",
        f"SeriesInstanceUID={series[0].SeriesInstanceUID}", "SOPInstanceUID", "InstanceNumber",
        model="-P",
    )  # fmt: skip
    assert sorted(int(ds.InstanceNumber) for ds in images) == [1, 2]


def test_chinese_names_come_back_in_a_charset_that_holds_them(
    loaded: Server, tmp_path: Path
) -> None:
    found = find(loaded, tmp_path, "QueryRetrieveLevel=STUDY", "PatientName=Wang*")
    assert len(found) == 1
    assert str(found[0].PatientName) == "Wang^XiaoMing=王^小明"
    assert found[0].SpecificCharacterSet == "ISO_IR 192"
    gb = find(
        loaded, tmp_path, "QueryRetrieveLevel=STUDY", "SpecificCharacterSet=GB18030",
        "PatientName=王*",
    )  # fmt: skip
    assert len(gb) == 1 and gb[0].SpecificCharacterSet == "GB18030"
    assert str(gb[0].PatientName) == "Wang^XiaoMing=王^小明"


@pytest.mark.parametrize(
    ("keys", "status"),
    [
        (["QueryRetrieveLevel=WARD"], "0xa900"),
        (["QueryRetrieveLevel=STUDY", "StudyDate=2024*"], "0xa900"),
        (["QueryRetrieveLevel=PATIENT"], "0xa900"),  # not a study-root level
    ],
)
def test_bad_queries_get_a_failure_status(
    loaded: Server, tmp_path: Path, keys: list[str], status: str
) -> None:
    args = ["findscu", "-d", "-S", "-aec", "PACS", *[part for k in keys for part in ("-k", k)]]
    proc = dcmtk(*args, "127.0.0.1", str(loaded.dicom_port), check=False)
    assert status in (proc.stdout + proc.stderr).lower()


def test_result_limit_and_permissions(make_server: object, tmp_path: Path, archive: dict) -> None:
    server: Server = make_server(  # type: ignore[operator]
        dicom={"max_find_results": 2, "default_permissions": ["store", "echo"]}
    ).start()
    server.store_folder(archive["folder"])
    args = ["findscu", "-d", "-S", "-aec", "PACS", "-k", "QueryRetrieveLevel=STUDY"]
    refused = dcmtk(*args, "127.0.0.1", str(server.dicom_port), check=False)
    assert "not permitted" in (refused.stdout + refused.stderr)
    limited: Server = make_server(dicom={"max_find_results": 2}).start()  # type: ignore[operator]
    limited.store_folder(archive["folder"])
    cut = dcmtk(*args, "-k", "AccessionNumber", "127.0.0.1", str(limited.dicom_port), check=False)
    text = (cut.stdout + cut.stderr).lower()
    assert "0xa700" in text and "narrow the query" in text
    assert text.count("pending") >= 2
