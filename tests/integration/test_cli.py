from __future__ import annotations

import os
import socket
import subprocess
import sys

import yaml


def lorekeeper(*args: str, data_dir, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lorekeeper.cli", *args],
        env={**os.environ, "LOREKEEPER_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_db_upgrade(tmp_path):
    run = lorekeeper("db", "upgrade", data_dir=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "lorekeeper.db").exists()
    run = lorekeeper("db", "current", data_dir=tmp_path)
    assert "(head)" in run.stdout + run.stderr


def test_run_refuses_a_taken_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = lorekeeper("run", data_dir=tmp_path, LOREKEEPER_PORT=str(port))
    assert run.returncode == 1
    assert f"127.0.0.1:{port} is in use" in run.stderr


def test_run_refuses_a_bad_serve_config_before_starting_ray(tmp_path):
    from deployments.apps import SERVE_CONFIG

    config = yaml.safe_load(SERVE_CONFIG.read_text())
    characters = next(a for a in config["applications"] if a["name"] == "characters")
    characters["args"] = {"threads": 0, "colour": "blue"}
    bad = tmp_path / "serve_config.yaml"
    bad.write_text(yaml.safe_dump(config))
    run = lorekeeper("run", "--config", str(bad), data_dir=tmp_path)
    assert run.returncode == 1
    assert "application 'characters': invalid args" in run.stderr
    assert "threads" in run.stderr and "colour" in run.stderr
    characters["args"] = {}
    characters["route_prefix"] = "/api/v2/people"
    bad.write_text(yaml.safe_dump(config))
    run = lorekeeper("run", "--config", str(bad), data_dir=tmp_path)
    assert run.returncode == 1 and "route_prefix must be '/api/v2/characters'" in run.stderr
