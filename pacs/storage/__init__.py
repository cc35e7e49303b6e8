"""The storage area: files on disk, organised by a layout over level tags."""
