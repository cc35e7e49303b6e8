"""The transcoder actor with real files, in both pool kinds: answers, typed failures, and
requests beyond the worker count queueing rather than failing."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pydicom
import pytest
import trio
from PIL import Image

from pacs.errors import BadRenderRequest, ImagingError, InvalidDataset, UnsupportedConversion
from pacs.imaging import files, syntaxes, transcoder
from pacs.imaging.render import RenderOptions
from pacs.messages import RenderRequest, TranscodeRequest
from pacs.runtime import rpc
from pacs.runtime.limits import Limits
from pacs.settings import ImagingSettings
from tests import dicomgen

POOLS = ["thread", "process"]


@asynccontextmanager
async def running(pool: str, workers: int = 2) -> AsyncIterator[transcoder.ImagingOutbox]:
    settings = ImagingSettings(pool=pool, workers=workers, queue=4)
    send, receive = transcoder.open_channel(settings)
    async with trio.open_nursery() as nursery:
        await nursery.start(transcoder.run, receive, settings, Limits.create(codec=workers))
        async with send:
            yield send


async def ask(outbox: transcoder.ImagingOutbox, request: object) -> bytes:
    answer: bytes = await rpc.call(outbox, request, timeout=60, what="transcoder")
    return answer


@pytest.fixture
def ct_file(tmp_path: Path) -> Path:
    return dicomgen.write(dicomgen.make_ct(rows=64, columns=48), tmp_path / "ct.dcm")


@pytest.mark.parametrize("pool", POOLS)
async def test_answers_are_files_in_the_asked_syntax(pool: str, ct_file: Path) -> None:
    expected = pydicom.dcmread(ct_file).pixel_array
    async with running(pool) as outbox:
        for target in (syntaxes.JPEG_LS_LOSSLESS, syntaxes.J2K_LOSSLESS, syntaxes.EXPLICIT_BE):
            data = await ask(outbox, TranscodeRequest(path=ct_file, transfer_syntax=target))
            out = pydicom.dcmread(io.BytesIO(data))
            assert out.file_meta.TransferSyntaxUID == target
            assert np.array_equal(out.pixel_array, expected)


@pytest.mark.parametrize("pool", POOLS)
async def test_failures_come_back_typed(pool: str, ct_file: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all" * 40)
    async with running(pool) as outbox:
        with pytest.raises(UnsupportedConversion, match="at most 8 bits"):
            await ask(
                outbox, TranscodeRequest(path=ct_file, transfer_syntax=syntaxes.JPEG_BASELINE)
            )
        with pytest.raises(InvalidDataset, match=r"junk\.dcm"):
            await ask(outbox, TranscodeRequest(path=junk, transfer_syntax=syntaxes.EXPLICIT_LE))
        with pytest.raises(ImagingError, match="not found"):
            missing = tmp_path / "gone.dcm"
            await ask(outbox, TranscodeRequest(path=missing, transfer_syntax=syntaxes.RLE))
        # the actor is still serving after failures
        data = await ask(outbox, TranscodeRequest(path=ct_file, transfer_syntax=syntaxes.RLE))
        assert pydicom.dcmread(io.BytesIO(data)).file_meta.TransferSyntaxUID == syntaxes.RLE


@pytest.mark.parametrize("pool", POOLS)
async def test_more_requests_than_workers_all_complete(pool: str, ct_file: Path) -> None:
    results: list[bytes] = []

    async def one(outbox: transcoder.ImagingOutbox) -> None:
        request = TranscodeRequest(path=ct_file, transfer_syntax=syntaxes.J2K_LOSSLESS)
        results.append(await ask(outbox, request))

    async with running(pool, workers=1) as outbox, trio.open_nursery() as nursery:
        for _ in range(10):
            nursery.start_soon(one, outbox)
    assert len(results) == 10
    assert len(set(results)) == 1


def test_unknown_requests_are_refused() -> None:
    with pytest.raises(ImagingError, match="unknown imaging request"):
        files.perform("transcode everything")


@pytest.mark.parametrize("pool", POOLS)
async def test_renders_frames(pool: str, ct_file: Path) -> None:
    options = RenderOptions(fmt="png", rows=24, columns=24)
    async with running(pool) as outbox:
        data = await ask(outbox, RenderRequest(path=ct_file, options=options))
        with pytest.raises(BadRenderRequest, match="frame"):
            await ask(outbox, RenderRequest(path=ct_file, options=RenderOptions(frame=5)))
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("PNG", (18, 24))  # 48x64 fitted into 24x24
