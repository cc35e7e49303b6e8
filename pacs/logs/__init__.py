"""Logging: one logger per service, JSON-lines files and readable console output."""
