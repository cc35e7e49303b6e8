"""Shared cases and helpers of the charset tests."""

from __future__ import annotations

import logging

import pytest
from pydicom.charset import convert_encodings
from pydicom.valuerep import PersonName

CHINESE_NAMES = ["张三", "王小明", "欧阳娜娜", "李^四", "欧阳^娜娜", "司马^相如", "张三\\李四"]
LATIN1_NAMES = [
    "Müller",
    "José",
    "Zoë",
    "Ærøskøbing",
    "Ñúñez",
    "Conceição",
    "François^Bâton",
    "Gonçalves",
    "Hernández",
    "Ødegård",
    "Strauß",
    "Jürgen",
    "Çelik^Aylin",
]
LATIN_SETS = [
    (),
    ("",),
    ("ISO_IR 6",),
    ("ISO_IR 100",),
    ("ISO_IR 101",),
    ("ISO_IR 109",),
    ("ISO_IR 110",),
    ("ISO_IR 148",),
    ("ISO_IR 203",),
    ("ISO 2022 IR 100",),
    ("ISO 2022 IR 6", "ISO 2022 IR 100"),
]
SINGLE_BYTE = [
    *LATIN_SETS,
    ("ISO_IR 144",),
    ("ISO_IR 126",),
    ("ISO_IR 127",),
    ("ISO_IR 138",),
    ("ISO_IR 166",),
]

# PS3.5 Annex H.3.1 (ISO 2022 IR 87) and H.3.2 (ISO 2022 IR 13 + ISO 2022 IR 87)
JAPANESE = "Yamada^Tarou=山田^太郎=やまだ^たろう"
JAPANESE_H31 = (
    b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"
)
JAPANESE_H32 = (
    b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J="
    b"\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J"
)
# PS3.5 Annex I.2 (ISO 2022 IR 149): ESC $ ) C designates KS X 1001 to G1, bytes are EUC-KR
KOREAN = "Hong^Gildong=洪^吉洞=홍^길동"
KOREAN_I2 = (
    b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf"
)


def iso2022_jp_pn(name: str) -> bytes:
    """Each component group encoded separately with Python's iso2022_jp codec."""
    return b"=".join(group.encode("iso2022_jp") for group in name.split("="))


def pydicom_pn(raw: bytes, declared: list[str]) -> str:
    """What pydicom itself makes of a valid PN value (the oracle for code extensions)."""
    return str(PersonName(raw).decode(convert_encodings(declared)))


@pytest.fixture(autouse=True)
def _no_pydicom_log(caplog: pytest.LogCaptureFixture) -> object:
    caplog.set_level(logging.DEBUG, logger="pydicom")
    yield None
    assert not [r for r in caplog.records if r.name.startswith("pydicom")]
