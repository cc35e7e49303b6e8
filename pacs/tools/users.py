"""`pacs user add | passwd | list`: manage the accounts of the HTTP edge from the command line.
Passwords come from standard input (one line) or an interactive prompt, never the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlalchemy import Engine

from pacs.auth import accounts, tokens
from pacs.errors import PacsError
from pacs.index.db import make_engine
from pacs.settings import Settings


def configure(user: argparse.ArgumentParser) -> None:
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", choices=accounts.ROLES, default="viewer")
    add.add_argument(
        "--temporary", action="store_true", help="the user must change the password at login"
    )
    passwd = actions.add_parser("passwd", help="set the password of an account")
    passwd.add_argument("username")
    passwd.add_argument(
        "--temporary", action="store_true", help="the user must change it at the next login"
    )
    listing = actions.add_parser("list", help="list accounts")
    token = actions.add_parser(
        "token", help="create (default), list or revoke the API tokens of an account"
    )
    token.add_argument("username")
    token.add_argument("--name", default="script", help="what the new token is for")
    token.add_argument("--days", type=float, help="the new token expires after this many days")
    token.add_argument("--list", action="store_true", help="list the account's tokens")
    token.add_argument("--revoke", type=int, metavar="ID", help="revoke the token with this id")
    for parser in (add, passwd):
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
    for parser in (
        add,
        passwd,
        listing,
        token,
    ):  # also after the action; SUPPRESS keeps the outer one
        parser.add_argument("--config", type=Path, default=argparse.SUPPRESS)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise accounts.AccountError("the two passwords differ")
    return first


def _token(engine: Engine, args: argparse.Namespace) -> None:
    if args.list:
        for info in tokens.listing(engine, args.username):
            expires = info.expires_at.isoformat(timespec="minutes") if info.expires_at else "never"
            print(f"{info.id}\t{info.prefix}...\t{info.name}\texpires {expires}")
    elif args.revoke is not None:
        if tokens.revoke(engine, args.revoke, args.username) is None:
            raise accounts.AccountError(f"{args.username!r} has no token {args.revoke}")
        print(f"token {args.revoke} revoked")
    else:
        print(tokens.create(engine, args.username, args.name, days=args.days)[1])


def main(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database.url)
    try:
        if args.user_command == "list":
            accounts.ensure_default_admin(engine)
            for who in accounts.listing(engine):
                flag = "  (must change password)" if who.must_change else ""
                print(f"{who.username}\t{who.role}{flag}")
        elif args.user_command == "token":
            _token(engine, args)
        elif args.user_command == "add":
            accounts.add(
                engine, args.username, _password(args), role=args.role, must_change=args.temporary
            )
            print(f"account {args.username!r} created")
        else:
            accounts.ensure_default_admin(engine)
            accounts.set_password(
                engine, args.username, _password(args), must_change=args.temporary
            )
            print(f"password of {args.username!r} changed")
    except PacsError as exc:
        print(f"pacs user: {exc.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0
