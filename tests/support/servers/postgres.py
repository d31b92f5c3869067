"""A real PostgreSQL server for tests, from Debian's binaries, in a temporary directory on a loopback port.

PostgreSQL refuses to run as root: as root, `initdb`, `pg_ctl` and `psql`-free administration run as the
`postgres` system user (which Debian's package creates) through `runuser`, in a directory that user owns.
Password authentication (scram-sha-256) is on, so URLs carry a password as in production.

Run it alone: `python -m tests.support.servers.postgres` (prints a URL, stops on Ctrl-C).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL's server binaries (initdb, pg_ctl, postgres) are missing: run scripts/install_system_packages.sh "
    "(or `sudo apt-get install postgresql`); `make test` and .ci/run do it"
)


def postgres_bin_dir() -> Path:
    """Debian's newest /usr/lib/postgresql/<major>/bin, else the directory of `pg_ctl` on PATH; fail loudly."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    found = candidates[-1] if candidates else shutil.which("pg_ctl")
    if not found:
        raise RuntimeError(INSTALL_HINT)
    bin_dir = Path(found).resolve().parent
    if not (bin_dir / "initdb").exists() or not (bin_dir / "postgres").exists():
        raise RuntimeError(INSTALL_HINT)
    return bin_dir


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            f"running as root and there is no `postgres` user to run PostgreSQL as; {INSTALL_HINT}"
        ) from None
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass
class PostgresServer:
    port: int
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    user: str = "postgres"
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="spam-service-pg-")))

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(
            _as_server_user([str(postgres_bin_dir() / args[0]), *args[1:]]),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            log = self.directory / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr[-2000:]}{tail}")

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        password_file = self.directory / "password"
        password_file.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(password_file, "postgres", "postgres")
        password_file.chmod(0o600)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            self.user,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        )
        password_file.unlink()

    def start(self) -> None:
        # Loopback TCP only, the socket in our directory (not /var/run/postgresql), fsync off: tests, not data.
        options = f"-p {self.port} -h 127.0.0.1 -k {self.directory} -c fsync=off -c full_page_writes=off"
        log = str(self.directory / "server.log")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir), "-l", log, "-o", options)

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir))

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, password=self.password, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_postgres(port: int) -> PostgresServer:
    server = PostgresServer(port)
    try:
        server.init()
        server.start()
    except BaseException:
        server.stop()
        server.remove()
        raise
    return server


if __name__ == "__main__":
    from tests.support.live_server import free_port

    pg = start_postgres(free_port())
    print(pg.url(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        pg.stop()
        pg.remove()
