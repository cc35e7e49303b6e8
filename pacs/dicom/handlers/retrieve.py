"""C-MOVE and C-GET SCP (being built)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pacs.dicom.handlers.qr import QueryRetrieve


def handle_move(event: Any, qr: QueryRetrieve) -> Iterator[Any]:
    yield None, None


def handle_get(event: Any, qr: QueryRetrieve) -> Iterator[Any]:
    yield 0xC000, None
