"""C-FIND SCP (being built)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pacs.dicom.handlers.qr import QueryRetrieve


def handle_find(event: Any, qr: QueryRetrieve) -> Iterator[tuple[int, Any]]:
    yield 0xC000, None
