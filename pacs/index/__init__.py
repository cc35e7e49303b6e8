"""The index: SQL tables of every stored instance, written by one actor, read by many threads."""
