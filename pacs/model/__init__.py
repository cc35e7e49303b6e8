"""Pure data model helpers."""
