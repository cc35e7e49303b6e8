"""Test images and per-syntax cases for the imaging benchmark (see imaging.py).

Two images are made in memory, deterministically: a CT-like 512x512 slice (12 bits stored in 16,
body outline, fat, muscle, lungs, heart, spine, ribs, table, partial-volume blur and quantum
noise) and a photo-like 1024x1024 RGB picture (sky gradient, 1/f textured ground, shaded
objects, sensor noise). Each case pairs a target syntax with the codec call pacs makes for it
(``pacs/imaging/codecs.py`` or pydicom's RLE plugin), with the same parameters, and with the
decoder function pydicom tries first for that syntax (pylibjpeg's plugin for it). ``run_cell``
times one such case, pacs against the direct calls, and how pacs's calls scale on two threads
(whether the codec releases the GIL); ``profile`` runs pacs's side under cProfile."""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import imagecodecs
import jpeg_ls
import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_frames
from pydicom.pixels.utils import pixel_array
from pydicom.uid import CTImageStorage, SecondaryCaptureImageStorage, generate_uid
from pylibjpeg.utils import get_pixel_data_decoders
from rle.utils import encode_pixel_data as rle_encode

from pacs.imaging import syntaxes as ts
from pacs.imaging.pixels import PixelFormat
from pacs.imaging.transcode import DEFAULT_QUALITY as QUALITY
from pacs.imaging.transcode import transcode

CT_SIDE, RGB_SIDE = 512, 1024
CT_SYNTAXES = (
    ts.JPEG_LOSSLESS, ts.JPEG_LOSSLESS_SV1, ts.JPEG_LS_LOSSLESS, ts.JPEG_LS_NEAR,
    ts.J2K_LOSSLESS, ts.J2K, ts.HTJ2K_LOSSLESS, ts.HTJ2K, ts.RLE, ts.JPEG_EXTENDED,
)  # fmt: skip
RGB_SYNTAXES = (
    ts.JPEG_BASELINE, ts.JPEG_LOSSLESS, ts.JPEG_LOSSLESS_SV1, ts.JPEG_LS_LOSSLESS,
    ts.J2K_LOSSLESS, ts.J2K, ts.HTJ2K_LOSSLESS, ts.RLE,
)  # fmt: skip

Array = NDArray[Any]
Encoder = Callable[[Array], bytes | bytearray]


# -- images ------------------------------------------------------------------------------------


def _fractal(shape: tuple[int, int], rng: np.random.Generator, beta: float) -> Array:
    """Noise with a 1/f^beta amplitude spectrum (beta 1: natural-image statistics), std 1."""
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    f = np.hypot(fy, fx)
    f[0, 0] = 1.0
    spectrum = np.fft.rfft2(rng.standard_normal(shape)) / f**beta
    spectrum[0, 0] = 0
    out = np.fft.irfft2(spectrum, s=shape)
    return out / out.std()


def _blur(img: Array, sigma: float) -> Array:
    fy = np.fft.fftfreq(img.shape[0])[:, None]
    fx = np.fft.rfftfreq(img.shape[1])[None, :]
    gain = np.exp(-2 * np.pi**2 * sigma**2 * (fx**2 + fy**2))
    return np.fft.irfft2(np.fft.rfft2(img) * gain, s=img.shape)


def _ellipse(x: Array, y: Array, shape: tuple[float, float, float, float]) -> Array:
    cx, cy, rx, ry = shape
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1


def ct_pixels(seed: int = 7) -> NDArray[np.uint16]:
    """A thorax-like slice in HU + 1024 (Rescale Intercept -1024), 0-4095."""
    rng = np.random.default_rng(seed)
    y, x = (np.mgrid[0:CT_SIDE, 0:CT_SIDE] - CT_SIDE / 2) / (CT_SIDE / 2)
    hu = np.full((CT_SIDE, CT_SIDE), -1000.0)
    hu[(np.abs(y - 0.82) < 0.025) & (np.abs(x) < 0.9)] = 250  # patient table
    regions = [
        ((0, 0.02, 0.88, 0.68), -95),  # subcutaneous fat
        ((0, 0.03, 0.80, 0.60), 45),  # muscle / soft tissue
        ((-0.38, -0.02, 0.30, 0.44), -850),  # lungs
        ((0.38, -0.02, 0.30, 0.44), -850),
        ((0.08, 0.08, 0.24, 0.21), 40),  # heart
        ((0.02, 0.36, 0.06, 0.06), 180),  # aorta (contrast)
        ((0, 0.50, 0.10, 0.09), 750),  # vertebral body, cortex
        ((0, 0.50, 0.08, 0.07), 260),  # cancellous bone
    ]
    for shape, value in regions:
        hu[_ellipse(x, y, shape)] = value
    for angle in np.linspace(0.35, 2.8, 7):  # ribs along the chest wall
        for side in (-1, 1):
            cx, cy = side * 0.78 * np.cos(angle), 0.58 * np.sin(angle) - 0.02
            hu[_ellipse(x, y, (cx, cy, 0.035, 0.025))] = 900
    body = hu > -500
    hu += body * (12 * _fractal(hu.shape, rng, 1.2))  # tissue texture
    hu = _blur(hu, 0.8)  # partial volume
    hu += rng.normal(0, 1, hu.shape) * np.where(body, 14, 4)  # quantum noise
    return np.clip(np.rint(hu + 1024), 0, 4095).astype(np.uint16)


def rgb_pixels(seed: int = 11) -> NDArray[np.uint8]:
    """A landscape-like photo: sky, textured ground, a few shaded objects, sensor noise."""
    rng = np.random.default_rng(seed)
    n = RGB_SIDE
    y, x = np.mgrid[0:n, 0:n] / n
    img = np.empty((n, n, 3))
    horizon = 0.55 + 0.06 * _fractal((1, n), rng, 1.5)[0] / 3
    sky = y < horizon[None, :]
    for c, (top, bottom) in enumerate(((60, 190), (110, 215), (200, 245))):
        img[..., c] = top + (bottom - top) * y / 0.6
    clouds = np.clip(_fractal((n, n), rng, 1.3), 0, None) * 25
    img += (sky * clouds)[..., None]
    texture = _fractal((n, n), rng, 1.0)
    ground = np.stack([90 + 30 * texture, 120 + 35 * texture, 50 + 20 * texture], axis=-1)
    img[~sky] = ground[~sky] * (0.7 + 0.5 * (y[~sky] - 0.55))[:, None]
    objects = [((0.25, 0.72, 0.10), (200, 40, 30)), ((0.62, 0.80, 0.14), (230, 200, 60))]
    objects.append(((0.80, 0.18, 0.06), (255, 250, 220)))  # sun
    for (cx, cy, r), colour in objects:
        disk = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
        shade = 1.05 - 0.6 * np.clip((x - cx + y - cy) / (2 * r), -0.5, 0.5)
        img[disk] = np.outer(shade[disk], colour)
    img = _blur(img.transpose(2, 0, 1).reshape(3 * n, n), 0.7).reshape(3, n, n).transpose(1, 2, 0)
    img += rng.normal(0, 2.0, img.shape)
    return np.ascontiguousarray(np.clip(np.rint(img), 0, 255).astype(np.uint8))


def _dataset(sop_class: str, arr: Array) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ts.EXPLICIT_LE
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID = "BENCH^IMAGING", "BENCHIMG"
    ds.Rows, ds.Columns = arr.shape[:2]
    ds.PixelRepresentation = 0
    ds.PixelData = arr.tobytes()
    return ds


def ct_dataset(arr: NDArray[np.uint16]) -> Dataset:
    ds = _dataset(CTImageStorage, arr)
    ds.Modality = "CT"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds["PixelData"].VR = "OW"
    return ds


def rgb_dataset(arr: NDArray[np.uint8]) -> Dataset:
    ds = _dataset(SecondaryCaptureImageStorage, arr)
    ds.Modality = "OT"
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds["PixelData"].VR = "OB"
    return ds


# -- the codec calls pacs makes, made directly ---------------------------------------------------


def direct_encoder(uid: str, fmt: PixelFormat) -> Encoder:
    """The library call ``pacs/imaging/codecs.py`` (or pydicom's RLE plugin) makes for ``uid``
    with the parameters it passes at the default quality, for unsigned samples."""
    bits, colour = fmt.bits_stored, fmt.samples == 3
    if uid in (ts.JPEG_BASELINE, ts.JPEG_EXTENDED):
        if colour:
            opts: dict[str, Any] = {"colorspace": "RGB", "outcolorspace": "YCbCr"}
            return lambda a: imagecodecs.jpeg8_encode(a, level=QUALITY, subsampling="422", **opts)
        return lambda a: imagecodecs.jpeg8_encode(a, level=QUALITY, bitspersample=bits)
    if uid in (ts.JPEG_LOSSLESS, ts.JPEG_LOSSLESS_SV1):
        space = "RGB" if colour else None
        return lambda a: imagecodecs.jpeg8_encode(
            a, lossless=True, predictor=1, bitspersample=bits, colorspace=space,
            outcolorspace=space,
        )  # fmt: skip
    if uid in (ts.JPEG_LS_LOSSLESS, ts.JPEG_LS_NEAR):
        error = max(1, round((100 - QUALITY) / 11) + 1) if uid == ts.JPEG_LS_NEAR else 0
        shape = (fmt.rows, fmt.columns, fmt.samples, bits)
        mode = 2 if colour else 0
        return lambda a: jpeg_ls.encode_buffer(
            a.tobytes(), *shape, lossy_error=error, interleave_mode=mode
        )
    if uid in (ts.J2K_LOSSLESS, ts.J2K):
        level = None if uid == ts.J2K_LOSSLESS else 30 + (2 * QUALITY) // 5
        resolutions = max(1, min(6, min(fmt.rows, fmt.columns).bit_length()))
        return lambda a: imagecodecs.jpeg2k_encode(
            a, level, codecformat="J2K", reversible=level is None, mct=False,
            bitspersample=bits, resolutions=resolutions,
        )  # fmt: skip
    if uid in (ts.HTJ2K_LOSSLESS, ts.HTJ2K):
        step = None if uid == ts.HTJ2K_LOSSLESS else 10 ** (-QUALITY / 25)
        return lambda a: imagecodecs.htj2k_encode(a, step, rgb=False, reversible=step is None)
    if uid == ts.RLE:
        opts = {"rows": fmt.rows, "columns": fmt.columns, "samples_per_pixel": fmt.samples}
        opts |= {"bits_allocated": fmt.bits_allocated, "byteorder": "<"}
        return lambda a: rle_encode(a.tobytes(), **opts)
    raise ValueError(f"no direct encoder for {uid}")


@dataclass(frozen=True)
class DirectDecoder:
    name: str  # what is called, for the report
    decode: Callable[[], Array]


def direct_decoder(compressed: Dataset, how: str) -> DirectDecoder:
    """``plugin``: the pylibjpeg decoder pydicom tries first for the syntax, on the frame bytes;
    ``pixel_array``: pydicom's ``pixel_array`` on the compressed data set (what pacs calls)."""
    if how == "pixel_array":
        return DirectDecoder("pydicom pixel_array", lambda: pixel_array(compressed, as_rgb=False))
    uid = str(compressed.file_meta.TransferSyntaxUID)
    name, func = sorted(get_pixel_data_decoders(version=2)[uid].items())[0]
    fmt = PixelFormat.of(compressed)
    frame = next(generate_frames(compressed.PixelData, number_of_frames=1))
    opts = {
        "rows": fmt.rows, "columns": fmt.columns, "samples_per_pixel": fmt.samples,
        "bits_allocated": fmt.bits_allocated, "bits_stored": fmt.bits_stored,
        "pixel_representation": int(fmt.signed), "photometric_interpretation": fmt.photometric,
        "planar_configuration": fmt.planar, "byteorder": "<",
    }  # fmt: skip
    dtype = np.uint8 if fmt.bits_stored <= 8 else np.uint16

    def decode() -> Array:
        return np.frombuffer(func(frame, version=2, **opts), dtype=dtype)

    return DirectDecoder(f"pylibjpeg-{name}", decode)


# -- the case table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    key: str  # "ct" or "rgb"
    label: str
    ds: Dataset
    arr: Array
    syntaxes: tuple[str, ...]

    @property
    def nbytes(self) -> int:
        return int(self.arr.nbytes)


def images() -> list[Image]:
    ct, rgb = ct_pixels(), rgb_pixels()
    return [
        Image("ct", "CT", ct_dataset(ct), ct, CT_SYNTAXES),
        Image("rgb", "RGB", rgb_dataset(rgb), rgb, RGB_SYNTAXES),
    ]


def syntax_label(uid: str) -> str:
    syntax = ts.SYNTAXES[uid]
    return f".{uid.rsplit('.', 1)[-1]:<3} {syntax.name}"


def find_syntax(text: str) -> str:
    """``.90``, ``90``, ``rle`` or a full UID -> the UID."""
    text = text.strip().lower().lstrip(".")
    if text == "rle":
        return ts.RLE
    for uid in ts.SYNTAXES:
        if uid == text or uid.endswith(f".{text}"):
            return uid
    raise ValueError(f"unknown syntax {text!r}")


# -- one cell: pacs vs the direct calls -----------------------------------------------------------


@dataclass
class Cell:
    image: str
    syntax: str
    label: str
    enc_pacs: float  # MB/s
    enc_direct: float
    dec_pacs: float
    dec_direct: float
    compression: float  # uncompressed / compressed frame bytes
    decoder: str
    check: str
    enc_threads: float = 0.0  # pacs encode throughput, 2 threads / 1 (2.0: GIL released)
    dec_threads: float = 0.0

    @property
    def enc_ratio(self) -> float:
        return self.enc_pacs / self.enc_direct

    @property
    def dec_ratio(self) -> float:
        return self.dec_pacs / self.dec_direct


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def paired(a: Callable[[], Any], b: Callable[[], Any], budget: float) -> tuple[float, float]:
    """Median seconds per call of ``a`` and ``b``, called alternately for about ``budget``
    seconds each (at least 5 calls each), so both see the same machine state."""
    ta: list[float] = []
    tb: list[float] = []
    while len(ta) < 5 or (min(sum(ta), sum(tb)) < budget and len(ta) < 20000):
        ta.append(timed(a))
        tb.append(timed(b))
    return statistics.median(ta), statistics.median(tb)


def thread_scaling(fn: Callable[[], Any], budget: float, threads: int = 2) -> float:
    """Throughput of ``threads`` threads calling ``fn`` over one thread calling it: about
    ``threads`` when the call releases the GIL, about 1 when it holds it. Median of three
    alternating rounds (it needs idle CPUs: other load on the host pulls it towards 1)."""
    n = threads * max(1, round(budget / 3 / timed(fn) / threads))
    ratios = []
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(3):
            one = timed(lambda: [fn() for _ in range(n)])
            ratios.append(one / timed(lambda: list(pool.map(lambda _: fn(), range(n)))))
    return statistics.median(ratios)


def _same_pixels(one: Dataset, other: Dataset) -> bool:
    """Equal pixel values (the planar configuration of the bytes may differ)."""
    if one.PixelData == other.PixelData:
        return True
    return bool(np.array_equal(pixel_array(one, as_rgb=False), pixel_array(other, as_rgb=False)))


def _check(image: Image, uid: str, frame: bytes, direct: bytes, decoded: Dataset) -> str:
    """The pacs stream must be the direct call's (plus the even-length pad), and a lossless
    round trip through pacs must give back the original pixel bytes."""
    problems = []
    if frame[: len(direct)] != direct or len(frame) - len(direct) > 1:
        problems.append("stream differs")
    if not ts.SYNTAXES[uid].lossy and not _same_pixels(decoded, image.ds):
        problems.append("round trip differs")
    return ", ".join(problems) or "ok"


def run_cell(image: Image, uid: str, budget: float, decode_direct: str) -> Cell:
    encode = direct_encoder(uid, PixelFormat.of(image.ds))
    compressed = transcode(image.ds, uid)
    frame = next(generate_frames(compressed.PixelData, number_of_frames=1))
    direct = bytes(encode(image.arr))
    decoded = transcode(compressed, ts.EXPLICIT_LE)
    decoder = direct_decoder(compressed, decode_direct)
    decoder.decode()
    enc_p, enc_d = paired(lambda: transcode(image.ds, uid), lambda: encode(image.arr), budget)
    dec_p, dec_d = paired(lambda: transcode(compressed, ts.EXPLICIT_LE), decoder.decode, budget)
    mb = image.nbytes / 1e6
    return Cell(
        image.label, uid, syntax_label(uid), mb / enc_p, mb / enc_d, mb / dec_p, mb / dec_d,
        image.nbytes / len(direct), decoder.name, _check(image, uid, frame, direct, decoded),
        thread_scaling(lambda: transcode(image.ds, uid), budget),
        thread_scaling(lambda: transcode(compressed, ts.EXPLICIT_LE), budget),
    )  # fmt: skip


def profile(imgs: list[Image], spec: str, log: Callable[[str], None], runs: int = 30) -> None:
    """cProfile ``runs`` pacs transcodes of one cell: ``ct:rle`` encodes, ``ct:rle:decode``
    decodes."""
    key, syntax, *rest = spec.split(":")
    image = next(i for i in imgs if i.key == key)
    uid = find_syntax(syntax)
    decode = rest == ["decode"]
    src = transcode(image.ds, uid) if decode else image.ds
    target = ts.EXPLICIT_LE if decode else uid
    transcode(src, target)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(runs):
        transcode(src, target)
    prof.disable()
    what = "decode from" if decode else "encode to"
    log(f"profile: {runs} x transcode, {image.label} {what} {syntax_label(uid).strip()}")
    stats = pstats.Stats(prof, stream=sys.stdout).strip_dirs()
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)
