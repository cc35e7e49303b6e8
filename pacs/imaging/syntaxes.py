"""The transfer syntaxes the imaging layer reads and writes, and what pixel data each can hold.

One table answers every "can this become that?" question before any codec runs, so a request the
pixel data cannot satisfy fails fast with a message that names the reason."""

from __future__ import annotations

import enum

import attrs


class Kind(enum.Enum):
    NATIVE = "native"  # uncompressed pixel data, the data set's own encoding
    DEFLATED = "deflated"  # native, the whole data set deflated
    ENCAPSULATED = "encapsulated"  # compressed frames in fragments
    VIDEO = "video"  # MPEG/HEVC streams: stored and sent as they are, never transcoded


@attrs.frozen(kw_only=True)
class Syntax:
    uid: str
    name: str
    kind: Kind
    lossy: bool = False
    little_endian: bool = True
    explicit_vr: bool = True
    max_bits: int = 16  # Bits Stored a sample may have
    max_allocated: int = 16  # Bits Allocated a sample may have
    allocated: tuple[int, ...] = (8, 16)  # Bits Allocated values the codec takes
    signed: bool = True  # Pixel Representation 1 allowed
    colour: bool = True  # Samples per Pixel 3 allowed
    method: str = ""  # Lossy Image Compression Method (0028,2114) when lossy

    @property
    def encapsulated(self) -> bool:
        return self.kind in (Kind.ENCAPSULATED, Kind.VIDEO)


def _native(uid: str, name: str, *, little_endian: bool = True, explicit_vr: bool = True) -> Syntax:
    return Syntax(uid=uid, name=name, kind=Kind.NATIVE, max_bits=32, max_allocated=32,
                  allocated=(1, 8, 16, 32), little_endian=little_endian,
                  explicit_vr=explicit_vr)  # fmt: skip


IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80"
JPEG_LS_NEAR = "1.2.840.10008.1.2.4.81"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
J2K = "1.2.840.10008.1.2.4.91"
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
HTJ2K_LOSSLESS_RPCL = "1.2.840.10008.1.2.4.202"
HTJ2K = "1.2.840.10008.1.2.4.203"
RLE = "1.2.840.10008.1.2.5"

_TABLE = (
    _native(IMPLICIT_LE, "Implicit VR Little Endian", explicit_vr=False),
    _native(EXPLICIT_LE, "Explicit VR Little Endian"),
    _native(EXPLICIT_BE, "Explicit VR Big Endian", little_endian=False),
    attrs.evolve(_native(DEFLATED_LE, "Deflated Explicit VR Little Endian"), kind=Kind.DEFLATED),
    Syntax(uid=JPEG_BASELINE, name="JPEG Baseline", kind=Kind.ENCAPSULATED, lossy=True,
           max_bits=8, max_allocated=8, allocated=(8,), signed=False, method="ISO_10918_1"),
    Syntax(uid=JPEG_EXTENDED, name="JPEG Extended", kind=Kind.ENCAPSULATED, lossy=True,
           max_bits=12, signed=False, colour=False, method="ISO_10918_1"),
    Syntax(uid=JPEG_LOSSLESS, name="JPEG Lossless", kind=Kind.ENCAPSULATED),
    Syntax(uid=JPEG_LOSSLESS_SV1, name="JPEG Lossless SV1", kind=Kind.ENCAPSULATED),
    Syntax(uid=JPEG_LS_LOSSLESS, name="JPEG-LS Lossless", kind=Kind.ENCAPSULATED),
    # Signed samples are coded as bit patterns: an error of NEAR across 0x7FFF/0x8000 would
    # flip a sample from one end of the range to the other.
    Syntax(uid=JPEG_LS_NEAR, name="JPEG-LS Near-Lossless", kind=Kind.ENCAPSULATED, lossy=True,
           signed=False, method="ISO_14495_1"),
    Syntax(uid=J2K_LOSSLESS, name="JPEG 2000 Lossless", kind=Kind.ENCAPSULATED),
    Syntax(uid=J2K, name="JPEG 2000", kind=Kind.ENCAPSULATED, lossy=True, method="ISO_15444_1"),
    Syntax(uid=HTJ2K_LOSSLESS, name="HTJ2K Lossless", kind=Kind.ENCAPSULATED),
    Syntax(uid=HTJ2K_LOSSLESS_RPCL, name="HTJ2K Lossless RPCL", kind=Kind.ENCAPSULATED),
    Syntax(uid=HTJ2K, name="HTJ2K", kind=Kind.ENCAPSULATED, lossy=True, method="ISO_15444_15"),
    Syntax(uid=RLE, name="RLE Lossless", kind=Kind.ENCAPSULATED, max_bits=32, max_allocated=32,
           allocated=(8, 16, 32)),
)  # fmt: skip

VIDEO_UIDS = frozenset(
    {
        "1.2.840.10008.1.2.4.100",  # MPEG-2 MP@ML
        "1.2.840.10008.1.2.4.100.1",
        "1.2.840.10008.1.2.4.101",  # MPEG-2 MP@HL
        "1.2.840.10008.1.2.4.101.1",
        "1.2.840.10008.1.2.4.102",  # MPEG-4 AVC/H.264
        "1.2.840.10008.1.2.4.102.1",
        "1.2.840.10008.1.2.4.103",
        "1.2.840.10008.1.2.4.103.1",
        "1.2.840.10008.1.2.4.104",
        "1.2.840.10008.1.2.4.104.1",
        "1.2.840.10008.1.2.4.105",
        "1.2.840.10008.1.2.4.105.1",
        "1.2.840.10008.1.2.4.106",
        "1.2.840.10008.1.2.4.106.1",
        "1.2.840.10008.1.2.4.107",  # HEVC/H.265
        "1.2.840.10008.1.2.4.108",
    }
)

SYNTAXES: dict[str, Syntax] = {s.uid: s for s in _TABLE}
LOSSLESS_TARGETS = tuple(s.uid for s in _TABLE if not s.lossy)


def lookup(uid: str) -> Syntax | None:
    """The syntax for ``uid``; video syntaxes are known but only as VIDEO (never a target)."""
    if uid in VIDEO_UIDS:
        return Syntax(uid=uid, name="video", kind=Kind.VIDEO)
    return SYNTAXES.get(uid)
