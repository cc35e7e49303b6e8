"""Tables of the HTTP edge and the console: accounts, sessions, API tokens, the audit log,
preferences, and remote nodes added at run time. They live in the index database (created with
it)."""

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


class ApiToken(SQLModel, table=True):
    """A long-lived bearer token for scripts, named by its owner and revocable. Only its
    SHA-256 is stored; ``prefix`` (its first characters) lets a person tell tokens apart."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    prefix: str
    username: str = Field(index=True)
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None


class AuditEntry(SQLModel, table=True):
    """Who did what: logins (and failed ones), deletes, settings and account changes."""

    __tablename__ = "audit"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(index=True)
    username: str = Field(index=True)
    action: str = Field(index=True)
    target: str = ""
    detail: str = ""
    address: str = ""


class Preference(SQLModel, table=True):
    """One setting of one account's console (e.g. its language)."""

    __tablename__ = "preference"
    username: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    value: str = ""


class RemoteNode(SQLModel, table=True):
    """A remote DICOM node added from the console or the API (nodes of the configuration file
    stand beside them, read-only)."""

    __tablename__ = "remote_node"
    name: str = Field(primary_key=True)
    ae_title: str = Field(unique=True, index=True)
    host: str
    port: int
    allow: str = ""  # operations it may ask for, comma-separated
    description: str = ""
