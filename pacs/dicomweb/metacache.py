"""Study and series metadata kept warm: the DICOM JSON of a study or series, rendered once from
its files and served again until the change log records a change to the study (an instance
added, removed or replaced: `pacs.index.retrieval.study_version`). A hit costs one indexed query
and no file. The finished body is kept per base URL too (clients behind one proxy share it).
Least recently used entries leave first."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

import attrs

from pacs.dicomweb import metadata
from pacs.index.retrieval import Located


@attrs.define
class Entry:
    version: int
    text: str  # JSON array, URIs relative to `metadata.BASE`
    bodies: dict[str, bytes] = attrs.field(factory=dict)  # base URL -> finished body

    @property
    def etag(self) -> str:
        digest = hashlib.sha1(f"{self.version}:{self.text[:200]}".encode(), usedforsecurity=False)
        return f'"{self.version}-{digest.hexdigest()[:12]}"'

    def body(self, base: str) -> bytes:
        found = self.bodies.get(base)
        if found is None:
            if len(self.bodies) >= 4:
                self.bodies.clear()
            found = self.bodies[base] = metadata.with_base(self.text, base).encode()
        return found


@attrs.define
class MetadataCache:
    size: int
    _entries: OrderedDict[str, Entry] = attrs.field(factory=OrderedDict)

    def get(self, key: str, version: int) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.version != version:
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        if self.size <= 0:
            return
        self._entries[key] = entry
        self._entries.move_to_end(key)
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
