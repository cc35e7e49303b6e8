"""Monitoring: Prometheus metrics summed over the server's processes (`metrics`, `collect`), the
hooks that feed them at the DICOM and HTTP edges (`dicom`, `http`), the main process's sampler
actor and the console's live snapshot (`sampler`, `snapshot`), CPU and memory of the processes
(`procs`), error records (`errors`), and a DICOM worker's part in all of it (`worker`)."""
