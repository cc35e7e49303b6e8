"""The only door from worker threads (pynetdicom association threads) into the trio run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs
import trio

from pacs.errors import ServiceStopped

T = TypeVar("T")


@attrs.frozen
class Portal:
    """Runs coroutines on the trio loop from a foreign thread, blocking that thread meanwhile.

    Blocking is the point: a thread waiting here stops reading its socket, so backpressure
    reaches the sending peer."""

    token: trio.lowlevel.TrioToken

    @classmethod
    def current(cls) -> Portal:
        return cls(trio.lowlevel.current_trio_token())

    def run(self, fn: Callable[..., Awaitable[T]], *args: object) -> T:
        try:
            return trio.from_thread.run(fn, *args, trio_token=self.token)
        except trio.RunFinishedError:
            raise ServiceStopped("the server is shutting down") from None
