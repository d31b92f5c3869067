"""`python -m spam_service.prediction_store`: the DDL without applying it, upgrade, and where a database stands."""

import os
import subprocess
import sys

import sqlalchemy as sa

from spam_service.prediction_store.database import head_revision


def run_migrations_cli(action: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spam_service.prediction_store", action],
        env={**os.environ, "PREDICTION_STORE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_migrations_command_prints_the_ddl_and_upgrades_a_database(store_url):
    sql = run_migrations_cli("sql", store_url)
    assert sql.returncode == 0, sql.stderr
    assert "CREATE TABLE predictions" in sql.stdout and "CREATE TABLE feedback" in sql.stdout
    assert "schema at none" in run_migrations_cli("current", store_url).stdout  # `sql` applied nothing
    upgraded = run_migrations_cli("upgrade", store_url)
    assert upgraded.returncode == 0 and f"schema at {head_revision()}" in upgraded.stdout, upgraded.stderr
    current = run_migrations_cli("current", store_url).stdout
    assert f"schema at {head_revision()}; newest is {head_revision()}" in current
    password = sa.make_url(store_url).password
    assert not password or password not in sql.stdout + sql.stderr + upgraded.stdout + upgraded.stderr + current
