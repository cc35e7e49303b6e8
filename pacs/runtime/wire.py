"""Framed messages between our own processes (main ↔ DICOM workers) over an inherited socket
pair. Frames are length-prefixed pickles: both ends are this program and the socket is never
reachable from outside, so the messages module's value objects cross unchanged."""

from __future__ import annotations

import pickle
import struct
from typing import Any

import trio

HEADER = struct.Struct("!I")
MAX_FRAME = 64 << 20


async def send_frame(stream: trio.abc.SendStream, obj: Any) -> None:
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    await stream.send_all(HEADER.pack(len(body)) + body)


class FrameReader:
    """Reads whole frames from a stream; ``None`` at a clean end of stream."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self.stream = stream
        self.buffer = bytearray()

    async def _fill(self, size: int) -> bool:
        while len(self.buffer) < size:
            chunk = await self.stream.receive_some(1 << 16)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    async def read(self) -> Any:
        if not await self._fill(HEADER.size):
            return None
        (length,) = HEADER.unpack_from(self.buffer)
        if length > MAX_FRAME:
            raise ValueError(f"frame of {length} bytes is too large")
        if not await self._fill(HEADER.size + length):
            raise EOFError("stream ended inside a frame")
        body = bytes(self.buffer[HEADER.size : HEADER.size + length])
        del self.buffer[: HEADER.size + length]
        return pickle.loads(body)  # our own process at the other end
