"""The whole server on each index backend, and the association limit."""

from __future__ import annotations

from pathlib import Path

from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from sqlalchemy import create_engine, text

from tests import dicomgen
from tests.conftest import Server, dcmtk


def test_store_and_index_on_each_backend(make_server: object, db_url: str, tmp_path: Path) -> None:
    """SQLite and PostgreSQL hold the same rows for the same traffic."""
    srv: Server = make_server(db_url).start()  # type: ignore[operator]
    dicomgen.write_study(
        tmp_path / "in" / "a", series=2, per_series=3, patient_name="Müller^Jürgen"
    )
    dicomgen.write_study(
        tmp_path / "in" / "b", series=1, per_series=2, patient_id="P2", modality="MR"
    )
    srv.store_folder(tmp_path / "in")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        studies = conn.execute(
            text("SELECT num_series, num_instances, modalities FROM study ORDER BY num_instances")
        ).all()
        patients = conn.execute(
            text(
                "SELECT patient_id, name_norm, num_studies, num_instances FROM patient "
                "ORDER BY patient_id"
            )
        ).all()
        changes = conn.execute(text("SELECT count(*) FROM change")).scalar_one()
    engine.dispose()
    assert [tuple(r) for r in studies] == [(1, 2, "MR"), (2, 6, "CT")]
    assert [tuple(r) for r in patients] == [
        ("P2", "DOE^JOHN", 1, 2),
        ("PAT001", "MULLER^JURGEN", 1, 6),
    ]
    assert changes == 2 + 2 + 3 + 8  # patients, studies, series, instances
    assert srv.stop() == 0


def test_association_limit_rejects_with_local_limit(make_server: object) -> None:
    srv: Server = make_server(dicom={"max_associations": 1}).start()  # type: ignore[operator]
    ae = AE(ae_title="HOLDER")
    ae.add_requested_context(Verification)
    held = ae.associate("127.0.0.1", srv.dicom_port, ae_title="PACS")
    try:
        assert held.is_established
        srv.expect_local_limit()
    finally:
        held.release()
    dcmtk("echoscu", "-aec", "PACS", "127.0.0.1", str(srv.dicom_port))
