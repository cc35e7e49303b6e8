"""Replacement values for de-identification: keyed UIDs, patient pseudonyms, per-VR dummies.

Everything here is a pure function of its arguments: the same UID or patient ID under the same
secret always gives the same replacement, which is what keeps a de-identified study consistent
across its instances, across runs and across separate exports, while a different secret gives
unrelated values (the secret is what makes the mapping impossible to reverse by guessing)."""

from __future__ import annotations

import hashlib
import hmac

DICOM_ROOT = "1.2.840.10008."  # UIDs the standard itself defines: classes, syntaxes, codes
UUID_ROOT = "2.25."
PSEUDONYM_PREFIX = "ANON"

# UI attributes whose value names a kind of thing (a class, a syntax, a coding scheme), not an
# instance; they are never remapped even when not listed in the table.
_CLASS_LIKE_MARKERS = ("ClassUID", "SyntaxUID")
_CLASS_LIKE_KEYWORDS = frozenset({"CodingSchemeUID", "ContextUID", "MappingResourceUID"})

DUMMY_TEXT = "ANONYMIZED"
_DUMMY_STR = {
    "AE": "ANONYMOUS",
    "AS": "000Y",
    "CS": DUMMY_TEXT,
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "IS": "0",
    "LO": DUMMY_TEXT,
    "LT": DUMMY_TEXT,
    "PN": DUMMY_TEXT,
    "SH": DUMMY_TEXT,
    "ST": DUMMY_TEXT,
    "TM": "000000",
    "UC": DUMMY_TEXT,
    "UR": "urn:anonymized",
    "UT": DUMMY_TEXT,
}
_NUMERIC = frozenset({"FL", "FD", "SL", "SS", "UL", "US", "SV", "UV", "US or SS"})
# Free text a "dummy" sequence (action D on a whole sequence) has replaced inside its items.
SCRUBBED_VRS = frozenset({"AE", "AS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UT"})


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def _digest(secret: str | bytes, domain: bytes, value: str) -> bytes:
    """HMAC-SHA256 of ``value``; ``domain`` keeps UIDs and patient IDs in separate spaces."""
    message = domain + b"\0" + value.encode("utf-8", "surrogateescape")
    return hmac.new(_key(secret), message, hashlib.sha256).digest()


def clean_uid(value: str) -> str:
    """A UID as compared: read values may carry the trailing NUL or space padding."""
    return value.strip("\0 ")


def is_well_known_uid(value: str) -> bool:
    """True for UIDs defined by the standard (SOP classes, transfer syntaxes, coding schemes):
    they identify no one and must survive, or the object would no longer be understood."""
    return clean_uid(value).startswith(DICOM_ROOT)


def is_class_like(keyword: str) -> bool:
    """True for UI attributes that name a class or scheme (possibly a private one) rather than an
    instance; remapping those would make the object unreadable, and they carry no identity."""
    return keyword in _CLASS_LIKE_KEYWORDS or any(m in keyword for m in _CLASS_LIKE_MARKERS)


def new_uid(uid: str, secret: str | bytes) -> str:
    """The replacement for ``uid`` under ``secret``: ``2.25.`` and the decimal form of a UUID
    (version 8, "custom") built from a keyed hash of the original.

    Deterministic, so every reference to one instance, series or frame of reference maps to the
    same new UID in every data set de-identified with the secret; at most 44 characters, well
    within the 64 a UI allows. Well-known UIDs and empty values are returned unchanged."""
    original = clean_uid(uid)
    if not original or is_well_known_uid(original):
        return original
    raw = bytearray(_digest(secret, b"uid", original)[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return UUID_ROOT + str(int.from_bytes(raw, "big"))


def pseudonym(patient_id: str, secret: str | bytes, issuer: str = "") -> str:
    """A stable Patient ID replacement: ``ANON`` and 12 hex digits of a keyed hash of the issuer
    and the ID, so one patient's studies stay linked under one secret; an empty ID stays empty
    rather than merging every anonymous patient into one pseudonym."""
    value = patient_id.strip()
    if not value:
        return ""
    digest = _digest(secret, b"patient", f"{issuer.strip()}\\{value}")
    return PSEUDONYM_PREFIX + digest.hex()[:12].upper()


def dummy_value(vr: str) -> object:
    """A short, valid, non-empty value for ``vr`` (the D action); sequences are handled by the
    caller. Binary VRs get eight zero bytes: even-length, a whole number of values for every
    OB/OW/OL/OF/OD/OV."""
    if vr in _DUMMY_STR:
        return _DUMMY_STR[vr]
    if vr in _NUMERIC:
        return 0
    if vr == "AT":
        return 0
    if vr == "UI":
        return UUID_ROOT + "0"
    return bytes(8)
