"""pacs: a lightweight PACS built of supervised trio actors."""

__version__ = "0.1.0"
