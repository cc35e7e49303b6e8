"""Supervision: each actor runs under a restart budget (tenacity, sleeping with trio.sleep).

A child that returns normally is done (its input channel closed: orderly shutdown). A child that
raises is logged and restarted after a backoff, unless it failed more than ``max_restarts`` times
within ``window`` seconds: then the failure propagates and stops the server loudly."""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import tenacity
import trio

log = logging.getLogger("pacs.supervisor")


@attrs.frozen(kw_only=True)
class ChildSpec:
    """``run`` is the actor's ``run(..., task_status=...)`` with its dependencies already bound."""

    name: str
    run: Callable[..., Awaitable[None]]
    max_restarts: int = 5
    window: float = 60.0
    backoff: float = 0.5


class _Budget:
    """tenacity stop condition: too many failures inside the sliding window."""

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.failures: deque[float] = deque()

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        now = trio.current_time()
        self.failures.append(now)
        while self.failures and now - self.failures[0] > self.spec.window:
            self.failures.popleft()
        return len(self.failures) > self.spec.max_restarts


def _log_restart(spec: ChildSpec) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.error(
            "service %s failed (%r); restarting in %.1f s",
            spec.name,
            exc,
            state.upcoming_sleep,
            exc_info=exc,
        )

    return before_sleep


class _StartedOnce:
    """Forwards the first ``started()`` of any attempt; a child that fails before becoming ready
    is retried and may still report readiness on a later attempt."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.done = False

    def started(self, value: Any = None) -> None:
        if not self.done:
            self.done = True
            self.inner.started(value)


def _is_failure(exc: BaseException) -> bool:
    return isinstance(exc, Exception) and not isinstance(exc, trio.Cancelled)


async def supervise(spec: ChildSpec, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
    """Run ``spec`` until it returns, restarting on failure within its budget.

    The caller's ``nursery.start`` waits until the actor first reports it is ready."""
    status = _StartedOnce(task_status)
    retrying = tenacity.AsyncRetrying(
        stop=_Budget(spec),
        wait=tenacity.wait_exponential(multiplier=spec.backoff, max=30),
        retry=tenacity.retry_if_exception(_is_failure),
        sleep=trio.sleep,
        before_sleep=_log_restart(spec),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            await spec.run(task_status=status)
    log.debug("service %s finished", spec.name)


async def start_child(
    nursery: trio.Nursery, name: str, run: Callable[..., Awaitable[None]], *args: Any, **kwargs: Any
) -> Any:
    """Start ``run(*args, **kwargs)`` supervised in ``nursery``; return what it reported ready."""
    spec = ChildSpec(name=name, run=functools.partial(run, *args, **kwargs))
    return await nursery.start(supervise, spec)
