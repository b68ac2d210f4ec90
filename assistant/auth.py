"""Password login for the chat: a small JSON file of bcrypt hashes, a first-run admin, a kept JWT secret."""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import bcrypt
from pydantic import BaseModel, Field

from .settings import Settings

Role = Literal["admin", "user"]
ADMIN_NAME = "admin"
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (bcrypt 5 rejects) anything longer
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# Compared against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt()).decode()


class AuthError(Exception):
    """A user-management problem the person at the keyboard can fix; str(e) is the message."""


class UserRecord(BaseModel):
    password_hash: str
    role: Role = "user"
    created: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


class UsersFile(BaseModel):
    users: dict[str, UserRecord] = Field(default_factory=dict)


def users_path(settings: Settings) -> Path:
    return settings.data_dir / "users.json"


def secret_path(settings: Settings) -> Path:
    return settings.data_dir / "auth_secret"


def hash_password(password: str) -> str:
    check_password_rules(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def password_matches(password: str, password_hash: str) -> bool:
    encoded = password.encode()
    if len(encoded) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode())


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(f"The password must have at least {MIN_PASSWORD_CHARS} characters.")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise AuthError(f"The password must be at most {MAX_PASSWORD_BYTES} bytes long.")


def check_username(name: str) -> None:
    if not USERNAME_PATTERN.match(name):
        raise AuthError(
            f"{name!r} is not a valid user name: use 1–64 letters, digits, dots, dashes, underscores or @, "
            "starting with a letter or digit."
        )


def write_private(path: Path, text: str) -> None:
    """Atomically replace ``path`` with ``text``, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


class UserStore:
    """Users live in ``<data_dir>/users.json``; it is re-read on every call so `inspired users add` needs no restart."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def from_settings(cls, settings: Settings) -> "UserStore":
        return cls(users_path(settings))

    def load(self) -> UsersFile:
        if not self.path.exists():
            return UsersFile()
        try:
            return UsersFile.model_validate_json(self.path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise AuthError(f"{self.path} is not a valid users file ({exc.__class__.__name__}); fix or delete it.") from exc

    def save(self, users: UsersFile) -> None:
        write_private(self.path, json.dumps(users.model_dump(mode="json"), indent=2) + "\n")

    def is_empty(self) -> bool:
        return not self.load().users

    def list(self) -> dict[str, UserRecord]:
        return dict(sorted(self.load().users.items()))

    def add(self, name: str, password: str, *, role: Role = "user", replace: bool = False) -> UserRecord:
        check_username(name)
        users = self.load()
        if name in users.users and not replace:
            raise AuthError(f"The user {name!r} already exists.")
        record = UserRecord(password_hash=hash_password(password), role=role)
        users.users[name] = record
        self.save(users)
        return record

    def verify(self, name: str, password: str) -> UserRecord | None:
        """The user's record when the password is right, else None (same cost either way)."""
        record = self.load().users.get(name)
        if record is None:
            password_matches(password, _DUMMY_HASH)
            return None
        return record if password_matches(password, record.password_hash) else None


def random_password() -> str:
    return secrets.token_urlsafe(12)


def ensure_admin(store: UserStore) -> str | None:
    """On a machine with no users yet, create ``admin`` and return its one-time password (else None)."""
    if not store.is_empty():
        return None
    password = random_password()
    store.add(ADMIN_NAME, password, role="admin")
    return password


def load_or_create_secret(path: Path) -> str:
    """The JWT signing secret: made once, kept owner-readable only, so logins survive restarts."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        secret = path.read_text(encoding="utf-8").strip()
        if secret:
            return secret
    secret = secrets.token_urlsafe(48)
    write_private(path, secret + "\n")
    return secret
