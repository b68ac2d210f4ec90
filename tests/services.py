"""Real services for the scale tests, each on a free loopback port, started once per session and
stopped at its end: a Chroma server (`chroma run`) and a throw-away PostgreSQL cluster built
from Debian's binaries. Test modules import the fixtures they need from here."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMA = Path(sys.executable).with_name("chroma")
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 60
POSTGRES_USER = "inspired"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], what: str, process: subprocess.Popen | None = None, timeout_s: float = START_TIMEOUT_S) -> None:
    """Poll ``condition``; give up early when the process we wait for has died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with code {process.returncode}")
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def stop_process(process: subprocess.Popen, timeout_s: float = 15) -> None:
    """SIGTERM the process we started (by its PID), SIGKILL if it will not go."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout_s)


# -- Chroma ---------------------------------------------------------------------------------------


@dataclass
class ChromaServer:
    port: int
    path: Path
    host: str = LOOPBACK

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def client(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        return chromadb.HttpClient(host=self.host, port=self.port, settings=ChromaSettings(anonymized_telemetry=False))

    def wipe(self) -> None:
        """Drop every collection, so each test starts from an empty server."""
        client = self.client()
        for collection in client.list_collections():
            client.delete_collection(collection if isinstance(collection, str) else collection.name)


def start_chroma(path: Path) -> tuple[ChromaServer, subprocess.Popen]:
    server = ChromaServer(port=free_port(), path=path)
    with open(path / "chroma.log", "wb") as log:
        process = subprocess.Popen(
            [str(CHROMA), "run", "--host", server.host, "--port", str(server.port), "--path", str(path / "db")],
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_until(server.answers, f"the Chroma server on port {server.port}", process)
    except Exception:
        stop_process(process)
        raise
    return server, process


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    if not CHROMA.exists():
        pytest.skip(f"the Chroma server executable {CHROMA} is missing (it comes with the chromadb package)")
    server, process = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    try:
        yield server
    finally:
        stop_process(process)


# -- PostgreSQL -----------------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The newest of Debian's PostgreSQL server installs (/usr/lib/postgresql/<version>/bin)."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    newest = max(found, key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(newest).parent


def cluster_owner_prefix() -> list[str]:
    """initdb and postgres refuse to run as root; as root they run as Debian's `postgres` user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no `postgres` user to own a test cluster (apt-get install postgresql)")
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PostgresServer:
    port: int
    password: str
    host: str = LOOPBACK

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{POSTGRES_USER}:{self.password}@{self.host}:{self.port}/{database}"

    async def _admin(self, statement: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(
            user=POSTGRES_USER, password=self.password, host=self.host, port=self.port, database="postgres"
        )
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    async def create_database(self, name: str) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        await self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    async def drop_database(self, name: str) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_as_owner(prefix: list[str], argv: list[str]) -> None:
    result = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=START_TIMEOUT_S)
    if result.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr or result.stdout}")


def init_cluster(bin_dir: Path, root: Path, prefix: list[str], password: str) -> Path:
    """A new cluster in ``root/data``: password logins over TCP, trusted only on its own socket."""
    password_file = root / "password"
    password_file.write_text(password + "\n")
    if prefix:
        shutil.chown(root, user="postgres")
        shutil.chown(password_file, user="postgres")
    data = root / "data"
    run_as_owner(
        prefix,
        [
            str(bin_dir / "initdb"), "-D", str(data), "-U", POSTGRES_USER, f"--pwfile={password_file}",
            "--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8", "--no-locale",
        ],
    )
    return data


@pytest.fixture(scope="session")
def postgres_server():
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")
    prefix = cluster_owner_prefix()
    # Not under pytest's tmp dir: that is private to root, and the cluster's owner must reach it.
    root = Path(tempfile.mkdtemp(prefix="inspired-pg-"))
    server = PostgresServer(port=free_port(), password=os.urandom(12).hex())
    try:
        data = init_cluster(bin_dir, root, prefix, server.password)
        # fsync off: a cluster that lives for one test session need not survive a power cut.
        options = f"-c listen_addresses={server.host} -p {server.port} -c unix_socket_directories={root} -c fsync=off"
        run_as_owner(prefix, [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "start"])
        try:
            yield server
        finally:
            run_as_owner(prefix, [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
