"""Named CapacityLimiters: every blocking call names the resource it uses."""

from __future__ import annotations

import attrs
import trio


@attrs.frozen(kw_only=True)
class Limits:
    """``disk`` for file work, ``db_write`` (always 1: the indexer is the single writer),
    ``db_read`` for catalog reads, ``codec`` for pixel work, ``scu`` for outbound associations."""

    disk: trio.CapacityLimiter
    db_write: trio.CapacityLimiter
    db_read: trio.CapacityLimiter
    codec: trio.CapacityLimiter
    scu: trio.CapacityLimiter

    @classmethod
    def create(cls, *, disk: int = 16, db_read: int = 8, codec: int = 2, scu: int = 4) -> Limits:
        return cls(
            disk=trio.CapacityLimiter(disk),
            db_write=trio.CapacityLimiter(1),
            db_read=trio.CapacityLimiter(db_read),
            codec=trio.CapacityLimiter(codec),
            scu=trio.CapacityLimiter(scu),
        )
