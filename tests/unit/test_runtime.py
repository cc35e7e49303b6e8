"""pacs.runtime: the supervisor's restart budget and readiness, and rpc.call's outcomes.

Backoff sleeps and timeouts run on trio's autojump clock, so they take no real time."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from pacs.errors import DuplicateRejected, OutOfResources, ServiceStopped
from pacs.runtime import rpc
from pacs.runtime.supervisor import ChildSpec, supervise


class Flaky:
    """A child that fails ``failures`` times (optionally after reporting ready), then runs until
    ``stop`` is set (or returns at once when ``stop`` is None)."""

    def __init__(self, failures: int, *, ready_first: bool, stop: trio.Event | None) -> None:
        self.failures = failures
        self.ready_first = ready_first
        self.stop = stop
        self.attempts = 0
        self.running = trio.Event()  # set once an attempt got past its failures

    async def __call__(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            if self.ready_first:
                task_status.started(f"ready#{self.attempts}")
            await trio.sleep(1)
            raise RuntimeError(f"failure #{self.attempts}")
        task_status.started(f"ready#{self.attempts}")
        self.running.set()
        if self.stop is not None:
            await self.stop.wait()


def _spec(child: Flaky, max_restarts: int = 3, window: float = 60.0) -> ChildSpec:
    return ChildSpec(name="flaky", run=child, max_restarts=max_restarts, window=window, backoff=1)


async def test_restarts_a_failing_child_within_budget(autojump_clock: Any) -> None:
    child = Flaky(3, ready_first=False, stop=None)
    await supervise(_spec(child, max_restarts=3))
    assert child.attempts == 4


async def test_gives_up_past_the_budget(autojump_clock: Any) -> None:
    child = Flaky(100, ready_first=False, stop=None)
    with pytest.raises(RuntimeError, match="failure #4"):
        await supervise(_spec(child, max_restarts=3))
    assert child.attempts == 4


async def test_failures_outside_the_window_are_forgotten(autojump_clock: Any) -> None:
    """Five failures, each more than ``window`` seconds after the previous one, stay within a
    budget of two failures per window (the window is measured on trio's clock)."""
    attempts = 0

    async def child(*, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        nonlocal attempts
        attempts += 1
        task_status.started()
        if attempts <= 5:
            await trio.sleep(100)
            raise RuntimeError(f"failure #{attempts}")

    spec = ChildSpec(name="slow", run=child, max_restarts=2, window=10.0, backoff=1)
    await supervise(spec)
    assert attempts == 6


async def test_started_is_forwarded_once_across_restarts(autojump_clock: Any) -> None:
    stop = trio.Event()
    child = Flaky(2, ready_first=True, stop=stop)
    async with trio.open_nursery() as nursery:
        value = await nursery.start(supervise, _spec(child))
        assert value == "ready#1"
        await child.running.wait()
        stop.set()
    assert child.attempts == 3


async def test_child_failing_before_started_still_becomes_ready(autojump_clock: Any) -> None:
    stop = trio.Event()
    child = Flaky(2, ready_first=False, stop=stop)
    async with trio.open_nursery() as nursery:
        value = await nursery.start(supervise, _spec(child))
        assert value == "ready#3"
        assert child.attempts == 3
        stop.set()


async def test_child_returning_normally_is_not_restarted(autojump_clock: Any) -> None:
    child = Flaky(0, ready_first=False, stop=None)
    async with trio.open_nursery() as nursery:
        assert await nursery.start(supervise, _spec(child)) == "ready#1"
    await trio.sleep(100)
    assert child.attempts == 1


async def test_cancellation_is_not_a_failure(autojump_clock: Any) -> None:
    child = Flaky(0, ready_first=False, stop=trio.Event())
    with trio.move_on_after(5) as scope:
        await supervise(_spec(child))
    assert scope.cancelled_caught
    assert child.attempts == 1


async def _serve(
    inbox: trio.MemoryReceiveChannel[rpc.Envelope[Any, Any]], answer: Any = None
) -> None:
    """Answer each request with ``answer`` (or twice the request when None)."""
    async for env in inbox:
        env.reply(env.request * 2 if answer is None else answer)


async def test_call_returns_the_reply() -> None:
    send, receive = trio.open_memory_channel[Any](4)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_serve, receive)
        async with send:
            assert await rpc.call(send, 21, timeout=5, what="doubler") == 42
            assert await rpc.call(send, "ab", timeout=5, what="doubler") == "abab"


async def test_call_raises_the_error_the_service_answered() -> None:
    send, receive = trio.open_memory_channel[Any](4)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_serve, receive, DuplicateRejected("already there"))
        async with send:
            with pytest.raises(DuplicateRejected, match="already there"):
                await rpc.call(send, 1, timeout=5, what="store")


async def test_call_times_out_when_no_answer_comes(autojump_clock: Any) -> None:
    send, receive = trio.open_memory_channel[Any](4)
    async with receive:
        with pytest.raises(OutOfResources) as info:
            await rpc.call(send, 1, timeout=7, what="slowpoke")
        envelope = receive.receive_nowait()
    assert type(info.value) is OutOfResources
    assert info.value.message == "slowpoke: no answer within 7 s"
    envelope.reply(2)  # the caller gave up: a late answer is dropped quietly


async def test_call_times_out_when_the_queue_is_full(autojump_clock: Any) -> None:
    send, receive = trio.open_memory_channel[Any](0)
    async with receive:
        with pytest.raises(OutOfResources) as info:
            await rpc.call(send, 1, timeout=3, what="full")
    assert type(info.value) is OutOfResources


async def test_call_to_a_closed_service_raises_service_stopped() -> None:
    send, receive = trio.open_memory_channel[Any](4)
    await receive.aclose()
    with pytest.raises(ServiceStopped, match="stopping"):
        await rpc.call(send, 1, timeout=5, what="gone")
    await send.aclose()
    with pytest.raises(ServiceStopped):
        await rpc.call(send, 1, timeout=5, what="gone")


async def test_service_dropping_the_request_raises_service_stopped() -> None:
    send, receive = trio.open_memory_channel[Any](4)

    async def drop(inbox: trio.MemoryReceiveChannel[rpc.Envelope[Any, Any]]) -> None:
        env = await inbox.receive()
        await env.reply_to.aclose()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(drop, receive)
        with pytest.raises(ServiceStopped):
            await rpc.call(send, 1, timeout=5, what="dropper")


async def test_envelope_reply_is_answered_once() -> None:
    send, receive = trio.open_memory_channel[Any](1)
    env = rpc.Envelope(request=1, reply_to=send)
    env.reply(1)
    env.reply(2)  # the one-shot buffer is full: ignored
    assert receive.receive_nowait() == 1
    with pytest.raises(trio.WouldBlock):
        receive.receive_nowait()
