"""What the HTTP edge reaches: the index, the storage area, the storage writer, the imaging
actor. One value handed to `create_app`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
from sqlalchemy import Engine

from pacs.imaging.transcoder import ImagingOutbox
from pacs.runtime.limits import Limits
from pacs.settings import Settings
from pacs.storage.area import StorageArea
from pacs.storage.deleter import Deleter
from pacs.storage.writer import StoreOutbox

if TYPE_CHECKING:
    from pacs.monitoring.sampler import Monitor


@attrs.frozen(kw_only=True)
class WebServices:
    settings: Settings
    engine: Engine
    area: StorageArea
    store: StoreOutbox
    imaging: ImagingOutbox
    limits: Limits
    deleter: Deleter
    anonymize_secret: str  # keys de-identified downloads (`[imaging] anonymize_secret`)
    monitor: Monitor | None = None  # metrics and the live view (`pacs.monitoring`)
