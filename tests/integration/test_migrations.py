from __future__ import annotations

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cluster import migrate
from domain.models_registry import metadata


def test_models_match_the_migrations(database):
    """A model changed without a migration shows up here as a difference."""
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)


def test_cli_db_upgrade(tmp_path):
    env = {**os.environ, "LOREKEEPER_DATA_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "lorekeeper.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "lorekeeper.db").exists()
    run = subprocess.run(
        [sys.executable, "-m", "lorekeeper.cli", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "0001" in run.stdout + run.stderr
