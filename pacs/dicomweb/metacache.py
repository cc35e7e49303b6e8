"""Series metadata kept warm: the DICOM JSON of a series, rendered once from its files and
served again until the change log records a change to its study (an instance added, removed or
replaced: `pacs.index.retrieval.study_version`). Least recently used series leave first."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

import attrs

from pacs.dicomweb import metadata
from pacs.index.retrieval import Located


@attrs.frozen
class Entry:
    version: tuple[object, ...]
    text: str  # JSON array, URIs relative to `metadata.BASE`

    @property
    def etag(self) -> str:
        digest = hashlib.sha1(repr(self.version).encode(), usedforsecurity=False).hexdigest()
        return f'"{digest[:20]}"'


@attrs.define
class MetadataCache:
    size: int
    _entries: OrderedDict[str, Entry] = attrs.field(factory=OrderedDict)

    def get(self, series: str, version: tuple[object, ...]) -> Entry | None:
        entry = self._entries.get(series)
        if entry is None or entry.version != version:
            return None
        self._entries.move_to_end(series)
        return entry

    def put(self, series: str, entry: Entry) -> None:
        if self.size <= 0:
            return
        self._entries[series] = entry
        self._entries.move_to_end(series)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


def render(items: Sequence[Located], fallbacks: Sequence[str]) -> str:
    """Thread-only: the metadata of ``items`` as one JSON array text."""
    return metadata.dumps(
        [
            metadata.instance_json(i.path, i.study_uid, i.series_uid, i.sop_uid, fallbacks)
            for i in items
        ]
    )
