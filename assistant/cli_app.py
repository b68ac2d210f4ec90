"""`inspired serve` (the chat in the browser) and `inspired users …` (who may log in)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from .auth import ADMIN_NAME, AuthError, UserStore, ensure_admin, load_or_create_secret, secret_path

APP_FILE = Path(__file__).with_name("app.py")


def chainlit_launch(home: Path, secret: str, host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start Chainlit on our app.

    CHAINLIT_APP_ROOT points Chainlit at its own folder (config, assets, temporary uploads) while
    the working directory stays put, so `.env` and relative paths in the settings still resolve.
    """
    argv = [sys.executable, "-m", "chainlit", "run", str(APP_FILE), "--headless", "--host", host, "--port", str(port)]
    return argv, {**os.environ, "CHAINLIT_APP_ROOT": str(home), "CHAINLIT_AUTH_SECRET": secret}


def first_run_banner(password: str) -> str:
    line = "=" * 64
    return (
        f"{line}\n"
        f"  First start: created the user '{ADMIN_NAME}' with the password\n\n"
        f"      {password}\n\n"
        "  It is shown only this once. Log in with it, then add people with\n"
        "  `inspired users add NAME`.\n"
        f"{line}"
    )


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens there. Chainlit would fail to bind, and on its way out remove the files
    folder that a server running on the same data folder still uses."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free to use
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def register(app: typer.Typer) -> None:
    from .cli import console, fail, load_settings, user_errors

    users_app = typer.Typer(help="Manage who can log in to the chat.", no_args_is_help=True)
    app.add_typer(users_app, name="users")

    def user_store() -> UserStore:
        return UserStore.from_settings(load_settings())

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for every interface)."),
        port: int = typer.Option(8000, "--port", min=1, max=65535),
    ) -> None:
        """Start the chat in the browser (login required; the first start creates an admin account)."""
        from .chainlit_home import prepare_home
        from .index import GuideIndex

        settings = load_settings()
        if port_taken(host, port):
            fail(f"port {port} on {host} is already in use (another INSPIRED Assistant?): stop it, or pick another with --port.")
        with user_errors():
            if GuideIndex(settings).count() == 0:
                fail("the guide index is empty: run `inspired ingest` first (or `make run`, which does both).")
        try:
            password = ensure_admin(UserStore.from_settings(settings))
        except AuthError as exc:
            fail(str(exc))
        if password:
            console.print(first_run_banner(password), highlight=False)
        secret = load_or_create_secret(secret_path(settings))
        argv, env = chainlit_launch(prepare_home(settings), secret, host, port)
        console.print(f"INSPIRED Assistant on http://{host}:{port} (Ctrl+C to stop)")
        sys.stdout.flush()
        os.execve(argv[0], argv, env)  # become the Chainlit process: one PID to stop

    @users_app.command("add")
    def users_add(
        name: str = typer.Argument(..., help="Login name (letters, digits, . _ - @)."),
        password: Optional[str] = typer.Option(
            None, "--password", help="The password (asked for, hidden, when left out).", show_default=False
        ),
        admin: bool = typer.Option(False, "--admin", help="Mark the user as an administrator."),
        replace: bool = typer.Option(False, "--replace", help="Set a new password for an existing user."),
    ) -> None:
        """Add a user who can log in to the chat."""
        if password is None:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user_store().add(name, password, role="admin" if admin else "user", replace=replace)
        except AuthError as exc:
            fail(str(exc))
        console.print(f"User [bold]{escape(name)}[/] can now log in.")

    @users_app.command("list")
    def users_list() -> None:
        """List the users who can log in."""
        try:
            records = user_store().list()
        except AuthError as exc:
            fail(str(exc))
        if not records:
            console.print("No users yet: `inspired serve` creates an admin on its first start, or run `inspired users add NAME`.")
            return
        table = Table("User", "Role", "Created")
        for name, record in records.items():
            table.add_row(escape(name), record.role, record.created.strftime("%Y-%m-%d %H:%M"))
        console.print(table)
