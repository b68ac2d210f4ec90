"""Users file, password hashing, first-run admin and the kept login secret."""

from __future__ import annotations

import json
import stat

import pytest

from assistant.auth import (
    ADMIN_NAME,
    AuthError,
    UserStore,
    ensure_admin,
    hash_password,
    load_or_create_secret,
    password_matches,
)


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "users.json")


def test_hash_is_salted_bcrypt_and_verifies_only_the_right_password():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("$2")
    assert password_matches("correct horse", first)
    assert not password_matches("correct horsE", first)


@pytest.mark.parametrize("password", ["short", "x" * 73])
def test_passwords_outside_bcrypts_range_are_refused_with_a_reason(password):
    with pytest.raises(AuthError, match="password"):
        hash_password(password)


def test_users_file_keeps_hashes_never_passwords_and_is_private(store):
    store.add("amina", "a long passphrase")
    text = store.path.read_text()
    assert "a long passphrase" not in text
    assert json.loads(text)["users"]["amina"]["password_hash"].startswith("$2")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_verify_accepts_the_right_password_only(store):
    store.add("amina", "a long passphrase", role="admin")
    assert store.verify("amina", "a long passphrase").role == "admin"
    assert store.verify("amina", "wrong passphrase") is None
    assert store.verify("nobody", "a long passphrase") is None


def test_adding_an_existing_user_needs_replace(store):
    store.add("amina", "first passphrase")
    with pytest.raises(AuthError, match="already exists"):
        store.add("amina", "second passphrase")
    store.add("amina", "second passphrase", replace=True)
    assert store.verify("amina", "second passphrase") is not None
    assert store.verify("amina", "first passphrase") is None


@pytest.mark.parametrize("name", ["", "has space", "../etc", "-dash-first", "x" * 65])
def test_bad_user_names_are_refused(store, name):
    with pytest.raises(AuthError, match="not a valid user name"):
        store.add(name, "a long passphrase")


def test_a_broken_users_file_gives_a_clear_error(store):
    store.path.write_text("{not json")
    with pytest.raises(AuthError, match="not a valid users file"):
        store.verify("amina", "a long passphrase")


def test_first_run_creates_admin_once_with_a_random_password(store):
    password = ensure_admin(store)
    assert password and len(password) >= 12
    assert store.verify(ADMIN_NAME, password).role == "admin"
    assert ensure_admin(store) is None  # second start: nothing new, nothing printed
    assert list(store.list()) == [ADMIN_NAME]


def test_no_admin_is_created_when_users_exist(store):
    store.add("amina", "a long passphrase")
    assert ensure_admin(store) is None
    assert ADMIN_NAME not in store.list()


def test_two_first_runs_make_different_passwords(tmp_path):
    assert ensure_admin(UserStore(tmp_path / "a.json")) != ensure_admin(UserStore(tmp_path / "b.json"))


def test_secret_is_created_private_and_kept_across_starts(tmp_path):
    path = tmp_path / "auth_secret"
    secret = load_or_create_secret(path)
    assert len(secret) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == secret


def test_secret_file_with_loose_permissions_is_tightened(tmp_path):
    path = tmp_path / "auth_secret"
    path.write_text("kept-secret-value\n")
    path.chmod(0o644)
    assert load_or_create_secret(path) == "kept-secret-value"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
