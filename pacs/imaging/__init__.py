"""Imaging: transcoding between transfer syntaxes, rendering frames for display, de-identification.

Pure, thread-safe functions on pydicom datasets; the transcoder actor runs them off the trio thread.
Every failure is an ``ImagingError`` (``UnsupportedConversion`` when the target cannot hold the
pixel data), which the DICOM and HTTP edges turn into a status or problem response."""
