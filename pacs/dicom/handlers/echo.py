"""C-ECHO: answers success."""

from __future__ import annotations

from typing import Any


def handle_echo(event: Any) -> int:
    del event
    return 0x0000
