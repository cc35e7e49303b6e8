"""One error tree for the whole server; each edge translates it once (DIMSE status, HTTP status)."""

from __future__ import annotations

from collections.abc import Sequence


class PacsError(Exception):
    """Base of every expected failure. ``dimse_status`` and ``http_status`` say how edges answer."""

    dimse_status: int = 0xC000
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(PacsError):
    """What a request names does not exist (an unknown UID, a missing attribute)."""

    dimse_status = 0xC000
    http_status = 404


class SettingsError(PacsError):
    """The configuration has one or more problems; ``problems`` lists each one, readable alone."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.problems))


class InvalidDataset(PacsError):
    """The received object cannot be parsed (truncated, corrupt, not DICOM)."""

    dimse_status = 0xC000
    http_status = 400


class MissingAttribute(PacsError):
    """A required identifying attribute (a UID) is absent or empty."""

    dimse_status = 0xA900
    http_status = 400


class DuplicateRejected(PacsError):
    """The instance already exists and ``[storage] duplicates = reject``."""

    dimse_status = 0x0111
    http_status = 409


class OutOfResources(PacsError):
    """A service could not answer in time or has no room (queue full, disk full, timeout)."""

    dimse_status = 0xA700
    http_status = 503


class ServiceStopped(OutOfResources):
    """The server is shutting down and no longer takes new work."""


class StorageFailure(OutOfResources):
    """The file could not be written into the storage area."""


class IndexFailure(OutOfResources):
    """The index could not commit the instance."""


class ImagingError(PacsError):
    """Pixel data could not be processed (decoded, encoded, rendered, de-identified)."""

    dimse_status = 0xC000
    http_status = 422


class UnsupportedConversion(ImagingError):
    """The pixel data cannot be expressed in the requested form (e.g. 16-bit into JPEG baseline,
    video into anything, a syntax no installed codec writes)."""

    dimse_status = 0xC000
    http_status = 406


class BadRenderRequest(ImagingError):
    """A rendering request the client got wrong (a frame the object does not have, a malformed
    window, size or quality): the fault is in the request, not the pixel data, hence 400."""

    http_status = 400


class QueryError(PacsError):
    """A query key the server cannot match as asked: a malformed value (a date that is not a
    date), a matching type its VR does not allow (a range on a number, a wildcard in a UID), or
    a key the index cannot answer. The fault is in the request, hence C-FIND's 0xA900
    "Identifier does not match SOP Class" and HTTP 400; the message names the attribute."""

    dimse_status = 0xA900
    http_status = 400
