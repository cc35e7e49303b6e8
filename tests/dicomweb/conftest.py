"""One server per module, loaded once by DCMTK storescu, and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from dicomweb_client.session_utils import create_session_from_auth
from pydicom.uid import generate_uid
from requests.auth import HTTPBasicAuth

from tests.conftest import Server, require_dcmtk
from tests.dicomgen import make_ct, write

USER, PASSWORD = "operator", "operator-2026"
VIEWER = "viewer"
STOW_LIMIT = 1_000_000


class Corpus:
    """What the module's server holds: study UID → its instances' datasets."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.doe = generate_uid()
        self.zhang = generate_uid()
        self.doe_series = [generate_uid(), generate_uid()]
        self.paths: list[Path] = []
        for s, series in enumerate(self.doe_series):
            for i in range(3):
                ds = make_ct(study=self.doe, series=series, number=i + 1, seed=10 * s + i,
                             SeriesNumber=s + 1)  # fmt: skip
                self.paths.append(write(ds, folder / f"doe_{s}_{i}.dcm"))
        zhang_series = generate_uid()
        for i in range(2):
            ds = make_ct(
                study=self.zhang, series=zhang_series, number=i + 1, seed=50 + i,
                patient_id="PAT-ZH", patient_name="Zhang^San=张^三", study_date="20230101",
                modality="MR", SpecificCharacterSet="ISO_IR 192", AccessionNumber="ACC-ZH",
            )  # fmt: skip
            self.paths.append(write(ds, folder / f"zhang_{i}.dcm"))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Corpus]]:
    require_dcmtk()
    home = tmp_path_factory.mktemp("dicomweb")
    (home / "srv").mkdir()
    server = Server(home / "srv", http={"stow_max_bytes": STOW_LIMIT})
    (home / "corpus").mkdir()
    corpus = Corpus(home / "corpus")
    server.start()
    try:
        server.add_user(USER, PASSWORD, role="operator")
        server.add_user(VIEWER, PASSWORD)
        server.store_folder(home / "corpus")
        yield server, corpus
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()


@pytest.fixture(scope="module")
def server(loaded: tuple[Server, Corpus]) -> Server:
    return loaded[0]


@pytest.fixture(scope="module")
def corpus(loaded: tuple[Server, Corpus]) -> Corpus:
    return loaded[1]


@pytest.fixture(scope="module")
def http(server: Server) -> requests.Session:
    session = requests.Session()
    session.auth = HTTPBasicAuth(USER, PASSWORD)
    return session


@pytest.fixture(scope="module")
def client(server: Server) -> DICOMwebClient:
    session = create_session_from_auth(HTTPBasicAuth(USER, PASSWORD))
    return DICOMwebClient(url=f"{server.url}/dicomweb", session=session)
