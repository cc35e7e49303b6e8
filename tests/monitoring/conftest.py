"""Helpers of the monitoring tests: accounts of every role, Prometheus text, an association
that keeps the main process busy so that the next one goes to a DICOM worker process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families
from pydicom.uid import generate_uid
from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from tests.conftest import Server
from tests.dicomgen import make_ct, write

ADMIN = ("boss", "admin-password")
OPERATOR = ("op", "operator-password")
VIEWER = ("eye", "viewer-password")


def with_accounts(server: Server) -> Server:
    for (name, password), role in ((ADMIN, "admin"), (OPERATOR, "operator"), (VIEWER, "viewer")):
        server.add_user(name, password, role)
    return server


def get(
    server: Server, path: str, who: tuple[str, str] | None = ADMIN, **params: object
) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, auth=who, timeout=30)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of a /metrics text (0 when absent)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == name and all(item.labels.get(k) == v for k, v in labels.items()):
                total += item.value
    return total


def instances(folder: Path, count: int) -> Path:
    study = generate_uid()
    for n in range(count):
        write(make_ct(study=study, number=n + 1), folder / f"{n}.dcm")
    return folder


@contextmanager
def main_process_busy(server: Server) -> Iterator[None]:
    """An open association, which the main process serves itself (it takes a lone one): while
    it lasts, the next association is handed to the first DICOM worker process."""
    ae = AE(ae_title="HOLDER")
    ae.add_requested_context(Verification)
    assoc = ae.associate("127.0.0.1", server.dicom_port, ae_title="PACS")
    assert assoc.is_established
    try:
        yield
    finally:
        assoc.release()
