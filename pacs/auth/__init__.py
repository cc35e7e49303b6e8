"""Accounts, password hashing and sessions of the HTTP edge."""
