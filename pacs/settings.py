"""Settings: one frozen attrs tree, loaded once from TOML plus ``PACS_<SECTION>__<KEY>`` overrides.

Every key is declared once below with its type, default and check; `load()` collects every problem
(unknown keys, wrong types, out-of-range values) and raises one `SettingsError` listing them all, so
`pacs config check` can explain a whole file at once.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from pacs import settings_checks as checks
from pacs.errors import SettingsError
from pacs.settings_checks import OPERATIONS, Check

DEFAULT_LAYOUT = (
    "{StudyDate:%Y}/{StudyDate:%m}/{StudyDate:%d}/{StudyInstanceUID}/{SeriesInstanceUID}"
    "/{SOPInstanceUID}.dcm"
)


def _as_tuple(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _field(default: Any, check: Check | None = None, kind: type | tuple[type, ...] = object) -> Any:
    return attrs.field(default=default, metadata={"check": check, "kind": kind})


def _list_field(default: list[str], check: Check) -> Any:
    return attrs.field(
        factory=lambda: tuple(default), converter=tuple, metadata={"check": check, "kind": list}
    )


@attrs.frozen(kw_only=True)
class DicomSettings:
    ae_title: str = _field("PACS", checks.ae_title, str)
    host: str = _field("0.0.0.0", None, str)
    port: int = _field(11112, checks.port, int)
    max_associations: int = _field(32, checks.positive, int)
    # DICOM worker processes; 0 serves DICOM in the main process. One per core by default:
    # a Python process is bound to one core, and pynetdicom's receive path is CPU bound.
    workers: int = _field(os.cpu_count() or 1, checks.non_negative, int)
    allowed_calling_aets: tuple[str, ...] = _list_field([], checks.ae_list)
    max_pdu: int = _field(131072, checks.positive, int)
    acse_timeout: float = _field(30.0, checks.positive, (int, float))
    dimse_timeout: float = _field(60.0, checks.positive, (int, float))
    network_timeout: float = _field(60.0, checks.positive, (int, float))
    store_timeout: float = _field(50.0, checks.positive, (int, float))
    # What a calling AE that is not a configured node may ask for.
    default_permissions: tuple[str, ...] = _list_field(list(OPERATIONS), checks.operations)
    max_find_results: int = _field(10000, checks.positive, int)
    # PN matching ignores case (and accents) unless this is false, as the standard's default.
    case_insensitive_names: bool = _field(True, None, bool)


@attrs.frozen(kw_only=True)
class HttpSettings:
    host: str = _field("0.0.0.0", None, str)
    port: int = _field(8042, checks.port, int)
    session_hours: float = _field(12.0, checks.positive, (int, float))
    # Origins allowed to call the API from a browser page of another site ("*": any, without
    # credentials); empty: same origin only.
    cors_origins: tuple[str, ...] = _list_field([], checks.origins)
    qido_limit: int = _field(100, checks.positive, int)  # QIDO-RS results when none is asked
    qido_max_limit: int = _field(1000, checks.positive, int)
    stow_max_bytes: int = _field(4 * 1024**3, checks.positive, int)  # one STOW-RS request body
    metadata_cache: int = _field(64, checks.non_negative, int)  # series metadata kept warm
    # The OHIF build served at /ohif/ (its dist folder, or the folder holding it); empty: the
    # one scripts/ohif-assets installs in this checkout.
    ohif_dir: str = _field("", None, str)


@attrs.frozen(kw_only=True)
class StorageSettings:
    path: Path = _field(Path("data/storage"), None, str)
    layout: str = _field(DEFAULT_LAYOUT, checks.layout, str)
    duplicates: str = _field("keep", checks.choice("keep", "replace", "reject"), str)
    fsync: bool = _field(True, None, bool)
    startup_sweep: bool = _field(True, None, bool)

    @property
    def spool(self) -> Path:
        """Where pynetdicom streams incoming datasets: inside the area, so moves are renames."""
        return self.path / ".spool"


@attrs.frozen(kw_only=True)
class DatabaseSettings:
    url: str = _field("sqlite:///data/index.db", checks.db_url, str)
    batch_size: int = _field(256, checks.positive, int)


@attrs.frozen(kw_only=True)
class LoggingSettings:
    dir: Path = _field(Path("data/logs"), None, str)
    level: str = _field("INFO", checks.level, str)
    levels: Mapping[str, str] = attrs.field(
        factory=dict, metadata={"check": checks.levels, "kind": dict}
    )
    max_bytes: int = _field(10 * 1024 * 1024, checks.positive, int)
    backups: int = _field(5, checks.positive, int)


@attrs.frozen(kw_only=True)
class CharsetSettings:
    fallback: tuple[str, ...] = attrs.field(
        factory=lambda: ("GB18030",),
        converter=_as_tuple,
        metadata={"check": checks.charsets, "kind": (str, list)},
    )
    rewrite_files: bool = _field(False, None, bool)


@attrs.frozen(kw_only=True)
class ImagingSettings:
    """``pool``: where pixel work runs: "process" (worker processes, no GIL contention with the
    DICOM edge) or "thread"; ``workers`` is how many run at once, ``queue`` how many wait."""

    pool: str = _field("process", checks.choice("process", "thread"), str)
    workers: int = _field(os.cpu_count() or 1, checks.positive, int)
    queue: int = _field(64, checks.positive, int)
    quality: int = _field(90, checks.quality, int)
    timeout: float = _field(120.0, checks.positive, (int, float))
    # Keys the pseudonyms and new UIDs of de-identified downloads (anonymize=yes): keep it to
    # get the same replacements every time; empty: a new random key at each start.
    anonymize_secret: str = _field("", None, str)


@attrs.frozen(kw_only=True)
class NodeSettings:
    """A remote DICOM node (``[[nodes]]``): a C-MOVE destination by its AE title, and, when it
    calls, allowed what ``allow`` lists."""

    name: str = _field("", checks.required, str)
    ae_title: str = _field("", checks.ae_title, str)
    host: str = _field("", checks.required, str)
    port: int = _field(104, checks.port, int)
    allow: tuple[str, ...] = _list_field(list(OPERATIONS), checks.operations)


@attrs.frozen(kw_only=True)
class Settings:
    dicom: DicomSettings = attrs.field(factory=DicomSettings)
    http: HttpSettings = attrs.field(factory=HttpSettings)
    storage: StorageSettings = attrs.field(factory=StorageSettings)
    database: DatabaseSettings = attrs.field(factory=DatabaseSettings)
    logging: LoggingSettings = attrs.field(factory=LoggingSettings)
    charset: CharsetSettings = attrs.field(factory=CharsetSettings)
    imaging: ImagingSettings = attrs.field(factory=ImagingSettings)
    nodes: tuple[NodeSettings, ...] = ()
    source: str = attrs.field(default="embedded defaults")


SECTION_TYPES: dict[str, Any] = {
    "dicom": DicomSettings,
    "http": HttpSettings,
    "storage": StorageSettings,
    "database": DatabaseSettings,
    "logging": LoggingSettings,
    "charset": CharsetSettings,
    "imaging": ImagingSettings,
}


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class EnvText(str):
    """A value from a PACS_* variable: text until the key's type says how to read it."""

    __slots__ = ()


def _from_env(raw: str, kind: Any) -> Any:
    """Strings stay as written (or TOML-quoted); lists take ``a,b`` or a TOML list; numbers
    and booleans are read as TOML values (``11113``, ``true``)."""
    if kind is str:
        quoted = raw[:1] in ("'", '"') and isinstance(_toml_value(raw), str)
        return _toml_value(raw) if quoted else str(raw)
    if kind is list or kind == (str, list):
        if raw.lstrip().startswith("["):
            return _toml_value(raw)
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        return parts if (kind is list or len(parts) > 1) else str(raw)
    return _toml_value(raw)


def _toml_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return str(raw)


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``PACS_DICOM__PORT=11113`` → ``{"dicom": {"port": 11113}}``; deeper keys nest further."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith("PACS_") or "__" not in name:
            continue
        parts = [p.lower() for p in name[5:].split("__")]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = EnvText(raw)
    return tree


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _coerce(field: attrs.Attribute[Any], value: Any, label: str) -> tuple[Any, str | None]:
    kind = field.metadata.get("kind", object)
    if isinstance(value, EnvText):
        value = _from_env(value, kind)
    if kind is list and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        return None, f"{label}: expected {_kind_name(kind)}, got {value!r}"
    if str(field.type) == "float" and isinstance(value, int):
        value = float(value)
    check = field.metadata.get("check")
    problem = check(value) if check else None
    return value, (f"{label}: {problem}, got {value!r}" if problem else None)


def _kind_name(kind: Any) -> str:
    names = {
        int: "an integer",
        str: "a string",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, "a number") for k in kind)
    return names.get(kind, str(kind))


def _build_nodes(values: Any, base: Path, errors: list[str]) -> tuple[NodeSettings, ...]:
    if not isinstance(values, list):
        errors.append("[[nodes]]: expected an array of tables ([[nodes]] sections)")
        return ()
    nodes = tuple(
        _build_table(NodeSettings, f"[[nodes]] #{i}", value, base, errors)
        for i, value in enumerate(values, 1)
    )
    for i, node in enumerate(nodes, 1):
        missing = [key for key in ("name", "ae_title", "host") if not getattr(node, key)]
        if missing:
            errors.append(f"[[nodes]] #{i}: missing {', '.join(missing)}")
    names = [node.name for node in nodes]
    if len(set(names)) != len(names):
        errors.append("[[nodes]]: names must be unique")
    return nodes


def _build_section(name: str, values: Any, base: Path, errors: list[str]) -> Any:
    return _build_table(SECTION_TYPES[name], f"[{name}]", values, base, errors)


def _build_table(cls: Any, name: str, values: Any, base: Path, errors: list[str]) -> Any:
    if not isinstance(values, Mapping):
        errors.append(f"{name}: expected a table, got {values!r}")
        return cls()
    fields = {f.name: f for f in attrs.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        label = f"{name} {key}"
        if key not in fields:
            errors.append(f"{label}: unknown key{_suggest(key, list(fields))}")
            continue
        coerced, problem = _coerce(fields[key], value, label)
        if problem:
            errors.append(problem)
            continue
        kwargs[key] = coerced
    for key in ("path", "dir"):
        if key in fields and str(fields[key].type) == "Path":
            raw = kwargs.get(key, fields[key].default)
            kwargs[key] = (base / Path(raw)).resolve() if not Path(raw).is_absolute() else Path(raw)
    if cls is DatabaseSettings:
        kwargs["url"] = _resolve_sqlite(kwargs.get("url", fields["url"].default), base)
    return cls(**kwargs)


def _resolve_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load settings from ``path`` (optional) and the environment; raise SettingsError listing all
    problems. Relative paths resolve against the config file's folder, else the working folder."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError([f"{path}: cannot read: {exc.strerror}"]) from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError([f"{path}: not valid TOML: {exc}"]) from exc
        base = Path(path).resolve().parent
    data = _merge(data, env_overrides(environ))
    errors: list[str] = []
    sections: dict[str, Any] = {}
    nodes = _build_nodes(data.pop("nodes", []), base, errors)
    for name, values in data.items():
        if name not in SECTION_TYPES:
            errors.append(f"[{name}]: unknown section{_suggest(name, list(SECTION_TYPES))}")
            continue
        sections[name] = _build_section(name, values, base, errors)
    for name in SECTION_TYPES:
        if name not in sections:
            sections[name] = _build_section(name, {}, base, errors)
    if errors:
        raise SettingsError(errors)
    source = str(path) if path else "embedded defaults"
    return Settings(**sections, nodes=nodes, source=source)
