"""The services whose log level can be set, and the ``pacs.*`` loggers each one covers.

A service is what an administrator thinks of (storage, query-retrieve, ...); a logger is what the
code names (``pacs.writer``, ``pacs.dicom.find``, ...). A service's loggers follow ``[logging]
level`` until the service is given a level of its own; setting one service never leaks into
another through the logger hierarchy (``pacs.dicom`` is the parent of ``pacs.dicom.store``). Names
listed for services that do not log yet (worklist, print, scu) are the ones their modules are to
use.

=============== ==============================================================================
service         loggers
=============== ==============================================================================
storage         pacs.dicom.store (C-STORE SCP), pacs.writer, pacs.storage, pacs.indexer,
                pacs.index, pacs.sweeper
query-retrieve  pacs.dicom.find, pacs.dicom.retrieve (C-FIND, C-MOVE, C-GET and their
                outbound sub-operations)
worklist        pacs.worklist
print           pacs.printing
wado            pacs.wado (WADO-URI at /wado); WADO-RS logs as pacs.dicomweb
dicomweb        pacs.dicomweb (QIDO-RS, WADO-RS, STOW-RS)
scu             pacs.scu, pacs.jobs (outbound associations started by pacs)
http            pacs.http (server, errors; pacs.http.access, the access log, follows it)
auth            pacs.auth (accounts, logins)
dicom           pacs.dicom, pacs.dicom.pool, pacs.dicom.handoff, pacs.worker (associations,
                worker processes)
core            pacs.app, pacs.supervisor, pacs.transcoder, pacs.imaging
pynetdicom      pynetdicom (the DICOM library: every PDU at INFO, every byte at DEBUG)
=============== =============================================================================="""

from __future__ import annotations

import logging
from collections.abc import Mapping

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

SERVICES: dict[str, tuple[str, ...]] = {
    "storage": (
        "pacs.dicom.store", "pacs.writer", "pacs.storage", "pacs.indexer", "pacs.index",
        "pacs.sweeper",
    ),
    "query-retrieve": ("pacs.dicom.find", "pacs.dicom.retrieve"),
    "worklist": ("pacs.worklist",),
    "print": ("pacs.printing",),
    "wado": ("pacs.wado",),
    "dicomweb": ("pacs.dicomweb",),
    "scu": ("pacs.scu", "pacs.jobs"),
    "http": ("pacs.http",),
    "auth": ("pacs.auth",),
    "dicom": ("pacs.dicom", "pacs.dicom.pool", "pacs.dicom.handoff", "pacs.worker"),
    "core": ("pacs.app", "pacs.supervisor", "pacs.transcoder", "pacs.imaging"),
    "pynetdicom": ("pynetdicom",),
}  # fmt: skip


def service_of(logger: str) -> str:
    """The service a logger belongs to (its longest mapped prefix), or ``other``."""
    best, length = "other", -1
    for service, names in SERVICES.items():
        for name in names:
            if (logger == name or logger.startswith(name + ".")) and len(name) > length:
                best, length = service, len(name)
    return best


def level_name(level: str) -> str:
    """``level`` upper-cased if it is a level name, else ValueError."""
    upper = level.strip().upper()
    if upper not in LEVELS:
        raise ValueError(f"unknown level {level!r}: one of {', '.join(LEVELS)}")
    return upper


def set_level(service: str, level: str) -> None:
    """Set every logger of ``service`` (KeyError for an unknown service). Loggers of other
    services below them (``pacs.dicom.store`` below ``pacs.dicom``) that still follow their
    parent are first pinned to the level they have, so the change stays within ``service``."""
    names = SERVICES[service]
    value = level_name(level)
    for other, others in SERVICES.items():
        for name in others if other != service else ():
            below = logging.getLogger(name)
            if below.level == logging.NOTSET and any(name.startswith(n + ".") for n in names):
                below.setLevel(below.getEffectiveLevel())
    for name in names:
        logging.getLogger(name).setLevel(value)


def current() -> dict[str, str]:
    """Each service's level in this process (the effective level of its first logger)."""
    return {
        service: logging.getLevelName(logging.getLogger(names[0]).getEffectiveLevel())
        for service, names in SERVICES.items()
    }


def apply(levels: Mapping[str, str]) -> dict[str, str]:
    """Set the services named in ``levels`` (others ignored); returns those that changed."""
    before = current()
    for service, level in levels.items():
        if service in SERVICES and level.upper() in LEVELS and before[service] != level.upper():
            set_level(service, level)
    after = current()
    return {service: level for service, level in after.items() if before[service] != level}
