"""What the query/retrieve handlers share: the index, the settings, the way into trio, and who
may do what. Handlers run on association threads; reads go to the index directly (thread-only),
pixel work through the transcoder when this process runs one, else in the thread itself."""

from __future__ import annotations

from typing import Any

import attrs
from sqlalchemy import Engine

from pacs.dicom.nodes import NodeBook
from pacs.imaging.transcoder import ImagingOutbox
from pacs.runtime.portal import Portal
from pacs.settings import NodeSettings, Settings


@attrs.frozen(kw_only=True)
class QueryRetrieve:
    engine: Engine
    settings: Settings
    portal: Portal | None = None
    imaging: ImagingOutbox | None = None

    def calling_ae(self, event: Any) -> str:
        return str(event.assoc.requestor.ae_title).strip()

    book: NodeBook = attrs.field()

    @book.default
    def _book(self) -> NodeBook:
        return NodeBook(engine=self.engine, configured=self.settings.nodes)

    def node(self, ae_title: str) -> NodeSettings | None:
        """The node with this AE title, configured or added at run time (C-MOVE destinations
        are looked up here)."""
        return self.book.find(ae_title)

    def permitted(self, event: Any, operation: str) -> bool:
        """Whether the calling AE may ask for ``operation``: a node's ``allow`` list, or
        ``[dicom] default_permissions`` for callers that are not nodes."""
        node = self.node(self.calling_ae(event))
        allowed = node.allow if node else self.settings.dicom.default_permissions
        return operation in allowed
