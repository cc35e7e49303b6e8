"""Offline tools behind the CLI: import and reindex."""
