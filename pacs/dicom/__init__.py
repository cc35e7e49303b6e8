"""The DICOM edge: pynetdicom listener, association handlers and (later) outbound SCU."""
