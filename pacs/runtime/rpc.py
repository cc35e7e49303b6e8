"""Request/reply over memory channels: the caller sends a request carrying a one-shot reply
channel and waits for the answer under a deadline."""

from __future__ import annotations

import contextlib
from typing import Any, Generic, TypeVar

import attrs
import trio

from pacs.errors import OutOfResources, PacsError, ServiceStopped

Req = TypeVar("Req")
Rep = TypeVar("Rep")


@attrs.define
class Envelope(Generic[Req, Rep]):
    """A request plus the channel its single reply goes to. The reply is a value or a PacsError."""

    request: Req
    reply_to: trio.MemorySendChannel[Rep | PacsError]

    def reply(self, value: Rep | PacsError) -> None:
        """Answer once; a caller that gave up (closed its end) is ignored."""
        with contextlib.suppress(
            trio.BrokenResourceError, trio.ClosedResourceError, trio.WouldBlock
        ):
            self.reply_to.send_nowait(value)


async def call(
    channel: trio.MemorySendChannel[Envelope[Req, Rep]],
    request: Req,
    *,
    timeout: float,
    what: str,
) -> Rep:
    """Send ``request`` and wait for its reply; raise the PacsError the server answered, or
    OutOfResources when no reply came within ``timeout`` seconds (queue wait included)."""
    send, receive = trio.open_memory_channel[Any](1)
    async with receive:
        try:
            with trio.fail_after(timeout):
                await channel.send(Envelope(request, send))
                answer = await receive.receive()
        except trio.TooSlowError:
            raise OutOfResources(f"{what}: no answer within {timeout:g} s") from None
        except (trio.BrokenResourceError, trio.ClosedResourceError, trio.EndOfChannel):
            raise ServiceStopped(f"{what}: service is stopping") from None
    if isinstance(answer, PacsError):
        raise answer
    result: Rep = answer
    return result
