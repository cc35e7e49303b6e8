"""Tables of accounts and login sessions. They live in the index database (created with it)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel


class Account(SQLModel, table=True):
    """A person or script allowed to use the HTTP edge. ``must_change``: the password was set
    by someone else (the default admin/admin, an administrator) and must be changed before the
    account may do anything else."""

    __tablename__ = "account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    password_hash: str
    role: str = Field(default="viewer")  # admin, operator or viewer
    must_change: bool = Field(default=False)
    created_at: dt.datetime
    updated_at: dt.datetime


class LoginSession(SQLModel, table=True):
    """A console login: only the SHA-256 of the token is stored, so a copy of the database does
    not hand out sessions."""

    __tablename__ = "login_session"
    token_hash: str = Field(primary_key=True)
    username: str = Field(index=True)
    expires_at: dt.datetime = Field(index=True)
