"""Building blocks shared by every actor: supervision, thread portal, limits, request/reply."""
