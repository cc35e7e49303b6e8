"""pacs.settings: defaults, TOML, PACS_* overrides, path resolution, collected errors; the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pacs.errors import SettingsError
from pacs.settings import DEFAULT_LAYOUT, Settings, load

ROOT = Path(__file__).resolve().parents[2]


def _write(folder: Path, text: str, name: str = "pacs.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path | None = None, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(SettingsError) as info:
        load(path, environ=environ or {})
    return info.value.problems


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load(None, environ={})
    assert settings.dicom.ae_title == "PACS"
    assert settings.dicom.port == 11112
    assert settings.dicom.allowed_calling_aets == ()
    assert settings.http.port == 8042
    assert settings.storage.path == tmp_path.resolve() / "data" / "storage"
    assert settings.storage.spool == settings.storage.path / ".spool"
    assert settings.storage.layout == DEFAULT_LAYOUT
    assert settings.storage.duplicates == "keep"
    assert settings.database.url == f"sqlite:///{tmp_path.resolve() / 'data' / 'index.db'}"
    assert settings.logging.dir == tmp_path.resolve() / "data" / "logs"
    assert settings.logging.level == "INFO"
    assert settings.charset.fallback == ("GB18030",)
    assert settings.source == "embedded defaults"


def test_toml_file_is_loaded(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[dicom]
ae_title = "ARCHIVE"
port = 4242
allowed_calling_aets = ["MODALITY1", "WS2"]
acse_timeout = 5
[http]
port = 8080
[storage]
layout = "{PatientID}/{SOPInstanceUID}.dcm"
duplicates = "reject"
fsync = false
[database]
url = "postgresql+psycopg://pacs@db:5432/pacs"
batch_size = 16
[logging]
level = "debug"
levels = { writer = "DEBUG", indexer = "WARNING" }
[charset]
fallback = ["GBK", "GB18030"]
""",
    )
    settings = load(path, environ={})
    assert settings.source == str(path)
    assert settings.dicom.ae_title == "ARCHIVE"
    assert settings.dicom.port == 4242
    assert settings.dicom.allowed_calling_aets == ("MODALITY1", "WS2")
    assert settings.dicom.acse_timeout == 5.0
    assert isinstance(settings.dicom.acse_timeout, float)
    assert settings.http.port == 8080
    assert settings.storage.layout == "{PatientID}/{SOPInstanceUID}.dcm"
    assert settings.storage.duplicates == "reject"
    assert settings.storage.fsync is False
    assert settings.database.url == "postgresql+psycopg://pacs@db:5432/pacs"
    assert settings.database.batch_size == 16
    assert settings.logging.levels == {"writer": "DEBUG", "indexer": "WARNING"}
    assert settings.charset.fallback == ("GBK", "GB18030")


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[dicom]\nport = 4242\nae_title = "FILE"\n')
    environ = {
        "PACS_DICOM__PORT": "11113",
        "PACS_HTTP__PORT": "9000",
        "PACS_STORAGE__DUPLICATES": "replace",
        "PACS_STORAGE__FSYNC": "false",
        "PACS_DICOM__ACSE_TIMEOUT": "2.5",
        "HOME_UNRELATED": "x",
        "PACS_NO_SECTION": "ignored",
    }
    settings = load(path, environ=environ)
    assert settings.dicom.port == 11113
    assert settings.dicom.ae_title == "FILE"
    assert settings.http.port == 9000
    assert settings.storage.duplicates == "replace"
    assert settings.storage.fsync is False
    assert settings.dicom.acse_timeout == 2.5


def test_environment_nested_and_list_values(tmp_path: Path) -> None:
    path = _write(tmp_path, '[logging]\nlevels = { indexer = "ERROR" }\n')
    environ = {
        "PACS_LOGGING__LEVELS__WRITER": "DEBUG",
        "PACS_DICOM__ALLOWED_CALLING_AETS": "A,B",
        "PACS_CHARSET__FALLBACK": "GBK",
    }
    settings = load(path, environ=environ)
    assert settings.logging.levels == {"indexer": "ERROR", "writer": "DEBUG"}
    assert settings.dicom.allowed_calling_aets == ("A", "B")
    assert settings.charset.fallback == ("GBK",)
    single = load(None, environ={"PACS_DICOM__ALLOWED_CALLING_AETS": "ONLY"})
    assert single.dicom.allowed_calling_aets == ("ONLY",)


@pytest.mark.parametrize(
    ("name", "raw", "section", "key", "expected"),
    [
        ("PACS_DICOM__AE_TITLE", "12345", "dicom", "ae_title", "12345"),
        ("PACS_DICOM__AE_TITLE", "STORE_SCP", "dicom", "ae_title", "STORE_SCP"),
        ("PACS_HTTP__HOST", "127.0.0.1", "http", "host", "127.0.0.1"),
    ],
)
def test_environment_string_keys_keep_the_raw_text(
    name: str, raw: str, section: str, key: str, expected: str
) -> None:
    """A string setting takes the variable's text as it is, even when it looks like a number."""
    settings = load(None, environ={name: raw})
    assert getattr(getattr(settings, section), key) == expected


def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    conf = tmp_path / "etc" / "pacs"
    path = _write(
        conf,
        '[storage]\npath = "store"\n[database]\nurl = "sqlite:///db/index.db"\n'
        '[logging]\ndir = "../logs"\n',
    )
    settings = load(path, environ={})
    assert settings.storage.path == conf.resolve() / "store"
    assert settings.database.url == f"sqlite:///{conf.resolve() / 'db' / 'index.db'}"
    assert settings.logging.dir == (tmp_path / "etc" / "logs").resolve()


def test_defaults_and_absolute_paths_with_a_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    absolute = tmp_path / "elsewhere" / "storage"
    path = _write(conf, f'[storage]\npath = "{absolute}"\n')
    settings = load(path, environ={})
    assert settings.storage.path == absolute
    assert settings.logging.dir == conf.resolve() / "data" / "logs"
    assert settings.database.url == f"sqlite:///{conf.resolve() / 'data' / 'index.db'}"
    memory = load(path, environ={"PACS_DATABASE__URL": "sqlite:///:memory:"})
    assert memory.database.url == "sqlite:///:memory:"


BAD = """
[dicm]
port = 1
[dicom]
ae_tittle = "X"
port = "abc"
ae_title = "THIS_TITLE_IS_TOO_LONG"
[storage]
layout = "{Foo}/{SOPInstanceUID}.dcm"
duplicates = "ignore"
[database]
url = "mysql://pacs@db/pacs"
[charset]
fallback = "no-such-charset"
"""


def test_load_collects_every_problem(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, BAD))
    assert len(problems) == 8, problems
    text = "\n".join(problems)
    assert "[dicm]: unknown section (did you mean 'dicom'?)" in problems
    assert "[dicom] ae_tittle: unknown key (did you mean 'ae_title'?)" in problems
    assert "[dicom] port: expected an integer" in text
    assert "[dicom] ae_title: expected an AE title" in text
    assert "[storage] layout: layout field {Foo}" in text
    assert "[storage] duplicates: expected one of keep, replace, reject" in text
    assert "[database] url: expected sqlite:///" in text
    assert "[charset] fallback: unknown character set 'no-such-charset'" in text


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"PACS_DICOM__PORT": "70000"}, "[dicom] port: expected a port number"),
        ({"PACS_DICOM__PORT": "true"}, "[dicom] port: expected an integer"),
        ({"PACS_STORAGE__FSYNC": "1"}, "[storage] fsync: expected true or false"),
        ({"PACS_DICOM__AE_TITLE": '"   "'}, "[dicom] ae_title: expected an AE title"),
        ({"PACS_DICOM__AE_TITLE": '"A\\\\B"'}, "[dicom] ae_title: expected an AE title"),
        ({"PACS_DICOM__ALLOWED_CALLING_AETS": "OK,WAY_TOO_LONG_TITLE"}, "invalid AE title"),
        ({"PACS_LOGGING__LEVEL": "LOUD"}, "[logging] level: expected a log level"),
        ({"PACS_LOGGING__LEVELS__WRITER": "LOUD"}, "invalid level for: writer"),
        ({"PACS_DATABASE__BATCH_SIZE": "0"}, "[database] batch_size: expected a positive"),
        ({"PACS_STORAGE__LAYOUT": "../{SOPInstanceUID}"}, "[storage] layout: layout must be"),
        ({"PACS_STORAGE__PORT": "1"}, "[storage] port: unknown key"),
        ({"PACS_DICM__PORT": "1"}, "[dicm]: unknown section"),
        ({"PACS_CHARSET__FALLBACK": "[]"}, "[charset] fallback: expected a character set"),
    ],
)
def test_each_bad_value_is_explained(environ: dict[str, str], fragment: str) -> None:
    problems = _problems(environ=environ)
    assert len(problems) == 1, problems
    assert fragment in problems[0]


def test_unreadable_or_invalid_toml(tmp_path: Path) -> None:
    missing = _problems(tmp_path / "missing.toml")
    assert len(missing) == 1 and "cannot read" in missing[0]
    broken = _problems(_write(tmp_path, "[dicom\nport = 1\n"))
    assert len(broken) == 1 and "not valid TOML" in broken[0]


def test_settings_are_frozen() -> None:
    settings = load(None, environ={})
    assert isinstance(settings, Settings)
    with pytest.raises(AttributeError):
        settings.dicom.port = 1  # type: ignore[misc]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACS_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pacs", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_cli_config_check_lists_every_problem(tmp_path: Path) -> None:
    proc = _cli("config", "check", "--config", str(_write(tmp_path, BAD)), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "8 problem(s)" in proc.stderr
    for fragment in (
        "unknown section",
        "did you mean 'ae_title'",
        "expected an integer",
        "expected an AE title",
        "layout field {Foo}",
        "expected one of keep, replace, reject",
        "expected sqlite:///",
        "unknown character set",
    ):
        assert fragment in proc.stderr
    assert proc.stdout == ""


def test_cli_config_check_accepts_a_good_file(tmp_path: Path) -> None:
    good = _write(tmp_path, '[dicom]\nae_title = "GOOD"\nport = 104\n[storage]\npath = "s"\n')
    proc = _cli("config", "check", "--config", str(good), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"{good}: OK" in proc.stdout
    assert "ae_title = 'GOOD'" in proc.stdout
    assert str(tmp_path.resolve() / "s") in proc.stdout


def test_remote_nodes_are_loaded(tmp_path: Path) -> None:
    config = tmp_path / "pacs.toml"
    config.write_text(
        '[[nodes]]\nname = "ws1"\nae_title = "WS1"\nhost = "10.0.0.5"\nport = 104\n'
        'allow = ["find", "get"]\n\n'
        '[[nodes]]\nname = "archive"\nae_title = "ARCH"\nhost = "archive.local"\n'
    )
    settings = load(config, environ={})
    assert [n.name for n in settings.nodes] == ["ws1", "archive"]
    assert settings.nodes[0].allow == ("find", "get")
    assert settings.nodes[1].port == 104
    assert settings.nodes[1].allow == ("echo", "store", "find", "move", "get")
    assert load(None, environ={}).nodes == ()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[[nodes]]\nname = "a"\nhost = "h"\n', "[[nodes]] #1: missing ae_title"),
        ('[[nodes]]\nname = "a"\nae_title = "A"\nhost = "h"\nallow = ["fly"]\n', "'fly'"),
        ('[[nodes]]\nname = "a"\nae_title = "A"\nhost = "h"\nport = 70000\n', "port"),
        ('[[nodes]]\nname = "a"\nae_title = "A"\nhost = "h"\ncolour = 1\n', "unknown key"),
        (
            '[[nodes]]\nname = "a"\nae_title = "A"\nhost = "h"\n'
            '[[nodes]]\nname = "a"\nae_title = "B"\nhost = "h"\n',
            "names must be unique",
        ),
        ('nodes = "ws1"\n', "expected an array of tables"),
    ],
)
def test_bad_nodes_are_explained(tmp_path: Path, text: str, fragment: str) -> None:
    config = tmp_path / "pacs.toml"
    config.write_text(text)
    with pytest.raises(SettingsError) as info:
        load(config, environ={})
    assert any(fragment in problem for problem in info.value.problems), info.value.problems
