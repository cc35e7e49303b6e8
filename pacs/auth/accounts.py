"""Accounts: create, verify, change passwords. Thread-only: every function blocks on the database.

Passwords are hashed with Argon2id (argon2-cffi's defaults); a hash made with older parameters
is upgraded on the next successful login. The first start creates admin/admin, marked so that
its password must be changed before anything else is allowed."""

from __future__ import annotations

import datetime as dt
import logging

import attrs
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, Table, insert, select, update

from pacs.auth.schema import Account
from pacs.errors import PacsError

log = logging.getLogger("pacs.auth")

ACCOUNT: Table = Account.__table__  # type: ignore[attr-defined]
# admin: everything; operator: store, delete, send; viewer: search and view.
ROLES = ("admin", "operator", "viewer")
WRITERS = frozenset({"admin", "operator"})
MIN_PASSWORD = 8
DEFAULT_ADMIN = ("admin", "admin")

_hasher = PasswordHasher()
# Verifying a missing user costs what verifying a real one does, so timing does not tell
# which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(PacsError):
    """A request about accounts the server refuses (weak password, unknown user, bad role)."""

    http_status = 400


@attrs.frozen(kw_only=True)
class Principal:
    """Who a request acts for."""

    username: str
    role: str
    must_change: bool = False

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    @property
    def may_write(self) -> bool:
        """May add or change data (STOW-RS, uploads, deletes)."""
        return self.role in WRITERS


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _principal(row: object) -> Principal:
    return Principal(
        username=str(row.username),  # type: ignore[attr-defined]
        role=str(row.role),  # type: ignore[attr-defined]
        must_change=bool(row.must_change),  # type: ignore[attr-defined]
    )


def ensure_default_admin(engine: Engine) -> bool:
    """Create admin/admin (must change) when there is no account at all; True if created."""
    with engine.begin() as conn:
        if conn.execute(select(ACCOUNT.c.id).limit(1)).first() is not None:
            return False
        name, password = DEFAULT_ADMIN
        now = _now()
        conn.execute(
            insert(ACCOUNT).values(
                username=name,
                password_hash=_hasher.hash(password),
                role="admin",
                must_change=True,
                created_at=now,
                updated_at=now,
            )
        )
    log.warning("created the default account admin/admin: its password must be changed")
    return True


def check_password(username: str, password: str) -> None:
    """Refuse passwords that are short or equal to the username or the default."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if password.casefold() in {username.casefold(), DEFAULT_ADMIN[1]}:
        raise AccountError("the password must differ from the username and the default")


def verify(engine: Engine, username: str, password: str) -> Principal | None:
    """The account if ``password`` is its password, else None."""
    with engine.connect() as conn:
        row = conn.execute(select(ACCOUNT).where(ACCOUNT.c.username == username)).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        _store_hash(engine, username, _hasher.hash(password), must_change=bool(row.must_change))
    return _principal(row)


def find(engine: Engine, username: str) -> Principal | None:
    with engine.connect() as conn:
        row = conn.execute(select(ACCOUNT).where(ACCOUNT.c.username == username)).first()
    return _principal(row) if row else None


def add(
    engine: Engine, username: str, password: str, *, role: str = "viewer", must_change: bool = False
) -> Principal:
    if not username or len(username) > 64 or not username.isprintable():
        raise AccountError("a username is 1 to 64 printable characters")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    check_password(username, password)
    if find(engine, username) is not None:
        raise AccountError(f"account {username!r} already exists")
    now = _now()
    with engine.begin() as conn:
        conn.execute(
            insert(ACCOUNT).values(
                username=username,
                password_hash=_hasher.hash(password),
                role=role,
                must_change=must_change,
                created_at=now,
                updated_at=now,
            )
        )
    return Principal(username=username, role=role, must_change=must_change)


def set_password(
    engine: Engine, username: str, password: str, *, must_change: bool = False
) -> None:
    """Set a new password (checked); ``must_change`` when someone else chose it."""
    check_password(username, password)
    if find(engine, username) is None:
        raise AccountError(f"no account {username!r}")
    _store_hash(engine, username, _hasher.hash(password), must_change=must_change)


def set_role(engine: Engine, username: str, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    with engine.begin() as conn:
        conn.execute(
            update(ACCOUNT)
            .where(ACCOUNT.c.username == username)
            .values(role=role, updated_at=_now())
        )


def _store_hash(engine: Engine, username: str, hashed: str, *, must_change: bool) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(ACCOUNT)
            .where(ACCOUNT.c.username == username)
            .values(password_hash=hashed, must_change=must_change, updated_at=_now())
        )


def listing(engine: Engine) -> list[Principal]:
    with engine.connect() as conn:
        rows = conn.execute(select(ACCOUNT).order_by(ACCOUNT.c.username)).all()
    return [_principal(row) for row in rows]
