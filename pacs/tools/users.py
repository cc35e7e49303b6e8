"""`pacs user add | passwd | list`: manage the accounts of the HTTP edge from the command line.
Passwords come from standard input (one line) or an interactive prompt, never the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from pacs.auth import accounts
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
    for parser in (add, passwd):
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
    for parser in (add, passwd, listing):  # also after the action; SUPPRESS keeps the outer one
        parser.add_argument("--config", type=Path, default=argparse.SUPPRESS)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise accounts.AccountError("the two passwords differ")
    return first


def main(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database.url)
    try:
        if args.user_command == "list":
            accounts.ensure_default_admin(engine)
            for who in accounts.listing(engine):
                flag = "  (must change password)" if who.must_change else ""
                print(f"{who.username}\t{who.role}{flag}")
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
