"""A real PostgreSQL server for the tests, started and stopped by the test session.

Finds initdb/pg_ctl (PATH, then /usr/lib/postgresql/*/bin); where they are missing and this
runs as root with apt-get (CI: a clean Debian machine), installs Debian's `postgresql`
package. initdb's a throw-away cluster in a temporary directory (trust auth, fsync off),
listening on a free 127.0.0.1 port and a Unix socket in that directory only. PostgreSQL
refuses to run as root: as root the cluster is owned and run by the `postgres` user (or a
`redline-pg` user made for it). When no server can be had, the tests that need one are
skipped with the reason, unless it could have been had: a failed install (root with apt-get,
as on CI), a server that does not start, or REDLINE_REQUIRE_POSTGRES=1 fail instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "redline"


class NoPostgres(Exception):
    """No PostgreSQL server can be started here (the message says why)."""


class BrokenPostgres(NoPostgres):
    """PostgreSQL could be had here (binaries, or root with apt-get) but failed: an error."""


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0)
    for d in reversed(dirs):
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    return None


def _install() -> None:
    """Debian's postgresql package, as root with apt-get; NoPostgres when that is not it."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise NoPostgres("PostgreSQL binaries (initdb, pg_ctl) not found, and not root with "
                         "apt-get to install Debian's postgresql package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            raise BrokenPostgres(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")


def _run_as() -> str | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "redline-pg"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(["useradd", "--system", "--no-create-home", "redline-pg"], check=True,
                   capture_output=True)
    return "redline-pg"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    bin_dir: Path
    root: Path
    port: int
    user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        return (["runuser", "-u", self.user, "--"] if self.user else []) + list(args)

    def run(self, *args: str, timeout: float = 120) -> None:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True,
                              timeout=timeout, cwd=self.root)
        if proc.returncode != 0:
            log = (self.root / "server.log")
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise BrokenPostgres(f"{Path(args[0]).name} failed: {proc.stderr.strip()[-800:]}"
                             f" {tail}")

    def start(self, durable: bool = False) -> None:
        self.run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                 "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
                " -c max_connections=60")
        if not durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self.run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l",
                 str(self.root / "server.log"), "-o", opts, "-w", "-t", "60", "start")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                     "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_server(durable: bool = False) -> Iterator[Server]:
    """A running throw-away PostgreSQL server; NoPostgres (with the reason) if none can be."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise NoPostgres("psycopg is not installed (the dev and postgres extras have it)"
                         ) from exc
    bin_dir = _bin_dir()
    if bin_dir is None:
        _install()
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise BrokenPostgres("installed postgresql, but found no initdb/pg_ctl")
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="redline-pg-"))
    if user:
        os.chmod(root, 0o755)
        shutil.chown(root, user)
    server = Server(bin_dir, root, _free_port(), user)
    try:
        server.start(durable)
        yield server
    finally:
        server.stop()
