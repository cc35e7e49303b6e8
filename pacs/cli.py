"""Command line: ``pacs serve | import | reindex | user | config check`` and the imaging tools
``transcode | render | anonymize``."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

import attrs
import trio

from pacs import __version__
from pacs.errors import SettingsError
from pacs.logs.setup import configure
from pacs.settings import SECTION_TYPES, Settings, load

IMAGING_COMMANDS = {
    "transcode": "convert DICOM files to another transfer syntax",
    "render": "render DICOM frames to JPEG or PNG",
    "anonymize": "de-identify DICOM files (PS3.15 basic profile)",
}


def _imaging_module(name: str) -> Any:
    """Imaging commands live in pacs.tools.<name>: ``configure(parser)`` and ``main(args) -> int``;
    they need no configuration file and are imported only when asked for."""
    return importlib.import_module(f"pacs.tools.{name}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pacs", description="A lightweight PACS.")
    parser.add_argument("--version", action="version", version=f"pacs {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument(
            "--config",
            type=Path,
            help="TOML configuration file "
            "(default: embedded defaults; PACS_<SECTION>__<KEY> overrides)",
        )
        return cmd

    command("serve", "run the server until SIGTERM/SIGINT")
    imp = command("import", "store DICOM files, folders (recursively) and zip archives")
    imp.add_argument("paths", nargs="+", type=Path)
    imp.add_argument("--jobs", type=int, default=8, help="files in flight at once")
    command("reindex", "rebuild the index from the files in the storage area")
    worker = command("worker", "internal: one DICOM worker process, started by `serve`")
    worker.add_argument("--worker-id", type=int, required=True)
    worker.add_argument("--control-fd", type=int, required=True)
    worker.add_argument("--index-fd", type=int, required=True)
    from pacs.tools import users  # noqa: PLC0415

    users.configure(command("user", "manage the accounts of the web console and DICOMweb"))
    for name, help_text in IMAGING_COMMANDS.items():
        _imaging_module(name).configure(sub.add_parser(name, help=help_text, description=help_text))
    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a configuration and print it")
    check.add_argument("--config", type=Path)
    return parser


def _settings(path: Path | None) -> Settings:
    return load(path)


def _config_check(path: Path | None) -> int:
    try:
        settings = _settings(path)
    except SettingsError as exc:
        print(f"{path or 'configuration'}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    print(f"{settings.source}: OK")
    for section in SECTION_TYPES:
        print(f"[{section}]")
        for key, value in _items(getattr(settings, section)):
            print(f"  {key} = {value!r}")
    for node in settings.nodes:
        print("[[nodes]]")
        for key, value in _items(node):
            print(f"  {key} = {value!r}")
    return 0


def _items(section: Any) -> list[tuple[str, object]]:
    return [(f.name, getattr(section, f.name)) for f in attrs.fields(type(section))]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in IMAGING_COMMANDS:
        return int(_imaging_module(args.command).main(args))
    if args.command == "config":
        return _config_check(args.config)
    try:
        settings = _settings(args.config)
    except SettingsError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    if args.command == "serve":
        from pacs.app import serve  # noqa: PLC0415

        configure(settings.logging)
        trio.run(serve, settings)
        return 0
    if args.command == "worker":
        from pacs.dicom import worker  # noqa: PLC0415

        configure(settings.logging, file_name=f"pacs-worker{args.worker_id}.jsonl")
        trio.run(worker.main, settings, args.control_fd, args.index_fd)
        return 0
    configure(settings.logging, console=False)
    if args.command == "user":
        from pacs.tools import users  # noqa: PLC0415

        return users.main(args, settings)
    if args.command == "import":
        from pacs.tools.importer import run_import  # noqa: PLC0415

        return trio.run(run_import, settings, args.paths, args.jobs)
    from pacs.tools.reindex import run_reindex  # noqa: PLC0415

    return trio.run(run_reindex, settings)
