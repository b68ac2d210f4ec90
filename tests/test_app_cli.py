"""`inspired serve` preparation (never open without a login) and `inspired users`."""

from __future__ import annotations

import json
import stat
import tomllib

import app_env  # noqa: F401  (must precede chainlit)
import pytest
from typer.testing import CliRunner

from assistant import cli_app
from assistant.auth import ADMIN_NAME, UserStore
from assistant.chainlit_home import NOTE_UPLOAD_TYPES, config_toml, prepare_home
from assistant.cli import app as cli
from assistant.index import GuideIndex
from assistant.settings import Settings

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPIRED_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def launched(monkeypatch):
    """Instead of becoming Chainlit, remember how it would have been started."""
    calls = []
    monkeypatch.setattr(cli_app.os, "execve", lambda path, argv, env: calls.append((argv, env)))
    return calls


def test_users_add_with_hidden_prompt_then_list(data_dir):
    result = runner.invoke(cli, ["users", "add", "amina"], input="a long passphrase\na long passphrase\n")
    assert result.exit_code == 0, result.output
    assert "a long passphrase" not in result.output
    assert UserStore(data_dir / "users.json").verify("amina", "a long passphrase")
    listed = runner.invoke(cli, ["users", "list"])
    assert "amina" in listed.output and "user" in listed.output


def test_users_add_refuses_duplicates_and_weak_passwords_without_a_traceback(data_dir):
    assert runner.invoke(cli, ["users", "add", "amina", "--password", "a long passphrase"]).exit_code == 0
    duplicate = runner.invoke(cli, ["users", "add", "amina", "--password", "another passphrase"])
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    weak = runner.invoke(cli, ["users", "add", "bruno", "--password", "short"])
    assert weak.exit_code == 2 and "at least 8" in weak.output
    assert "Traceback" not in duplicate.output + weak.output


def test_serve_refuses_an_empty_index_with_a_clear_message(data_dir, launched):
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "index is empty" in result.output and "inspired ingest" in result.output
    assert not launched


def test_serve_on_a_port_in_use_says_so_and_starts_nothing(data_dir, launched, monkeypatch):
    import socket

    monkeypatch.setattr(GuideIndex, "count", lambda self: 42)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 2 and "already in use" in result.output and "--port" in result.output
    assert not launched and "Traceback" not in result.output


def test_first_serve_creates_admin_prints_password_once_and_starts_chainlit_behind_a_login(data_dir, launched, monkeypatch):
    monkeypatch.setattr(GuideIndex, "count", lambda self: 42)
    first = runner.invoke(cli, ["serve", "--host", "127.0.0.1", "--port", "8123"])
    assert first.exit_code == 0, first.output
    password = next(line.strip() for line in first.output.splitlines()[3:] if line.strip())
    assert UserStore(data_dir / "users.json").verify(ADMIN_NAME, password).role == "admin"

    secret_file = data_dir / "auth_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    argv, env = launched[0]
    assert argv[1:4] == ["-m", "chainlit", "run"] and argv[4].endswith("assistant/app.py")
    assert argv[5:] == ["--headless", "--host", "127.0.0.1", "--port", "8123"]
    assert env["CHAINLIT_AUTH_SECRET"] == secret_file.read_text().strip()
    home = data_dir.resolve() / "chainlit"
    assert env["CHAINLIT_APP_ROOT"] == str(home)
    assert (home / ".chainlit" / "config.toml").is_file() and (home / "public" / "logo_light.svg").is_file()

    second = runner.invoke(cli, ["serve", "--port", "8123"])
    assert second.exit_code == 0 and password not in second.output and "First start" not in second.output
    assert launched[1][1]["CHAINLIT_AUTH_SECRET"] == env["CHAINLIT_AUTH_SECRET"]  # logins survive restarts


def test_generated_config_is_valid_for_chainlit_and_follows_the_settings(tmp_path):
    from chainlit.config import FeaturesSettings, ProjectSettings, UISettings

    settings = Settings(_env_file=None, data_dir=tmp_path, max_upload_mb=2.5)
    parsed = tomllib.loads(config_toml(settings))
    features = FeaturesSettings(**parsed["features"])
    ui = UISettings(**parsed["UI"])
    ProjectSettings(**parsed["project"])
    upload = features.spontaneous_file_upload
    assert upload.enabled and upload.max_size_mb == 3 and upload.accept == NOTE_UPLOAD_TYPES
    assert ui.name == "INSPIRED Assistant" and ui.custom_css == "/public/inspired.css" and ui.custom_js == "/public/inspired.js"


def test_home_holds_the_welcome_page_and_every_public_asset(tmp_path):
    home = prepare_home(Settings(_env_file=None, data_dir=tmp_path))
    assert (home / "chainlit.md").read_text().startswith("# INSPIRED Assistant")
    for asset in ("logo_light.svg", "logo_dark.svg", "favicon.svg", "login.svg", "theme.json", "inspired.css", "inspired.js", "icons/ask.svg"):
        assert (home / "public" / asset).is_file(), asset
    assert not (home / "public" / "welcome.md").exists()


def test_login_asks_for_a_user_name_in_our_languages(tmp_path):
    home = prepare_home(Settings(_env_file=None, data_dir=tmp_path))
    english = json.loads((home / ".chainlit" / "translations" / "en-US.json").read_text())
    assert english["auth"]["login"]["form"]["email"]["label"] == "User name"
    assert english["auth"]["login"]["form"]["password"]["label"] == "Password"  # the rest is Chainlit's own
    spanish = json.loads((home / ".chainlit" / "translations" / "es.json").read_text())
    assert spanish["auth"]["login"]["form"]["email"]["label"] == "Nombre de usuario"
