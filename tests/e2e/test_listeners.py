"""What `lorekeeper run` opens on the network, and how it stops: every TCP listener of Ray,
Serve, HAProxy and the replicas is on loopback; HAProxy serves the application (and its
Prometheus metrics, on loopback); a GET cut by a replica's death is retried on the other
replica; Ctrl-C stops everything within seconds. Once per ingress (HAProxy, the default, and
Serve's Python proxy), on a trivial application (listeners_app.py), not the project's.

Linux only: listeners are read from /proc.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from benchmarks.harness import Server
from tests.support import cluster_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="reads listeners from /proc"),
]

CONFIG = Path(__file__).with_name("listeners_serve_config.yaml")
STOP_WITHIN_S = 15



# --- processes and their listening sockets, from /proc --------------------------------------


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _listening_inodes() -> dict[str, tuple[str, int]]:
    """Socket inode -> (address, port) of every listening TCP socket on the machine."""
    found = {}
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # TCP_LISTEN
                continue
            hex_ip, hex_port = fields[1].split(":")
            raw = bytes.fromhex(hex_ip)
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # host order
            found[fields[9]] = (socket.inet_ntop(family, raw), int(hex_port, 16))
    return found


def listeners(pids: list[int]) -> list[tuple[str, int, int, str]]:
    """(address, port, pid, process name) of each listening TCP socket the pids hold."""
    inodes = _listening_inodes()
    rows = set()
    for pid in pids:
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            inode = target[len("socket:[") : -1] if target.startswith("socket:[") else None
            if inode in inodes:
                rows.add((*inodes[inode], pid, name))
    return sorted(rows)


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1, an IPv6 socket bound to 127.0.0.1
    return ip.is_loopback


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- the cluster ----------------------------------------------------------------------------


@dataclass
class Cluster:
    ingress: str
    server: Server
    client: httpx.Client
    ports: dict[str, int]
    log: Path


@pytest.fixture(scope="module", params=["haproxy", "proxy"])
def cluster(request, tmp_path_factory):
    # Short: Ray's unix sockets live under it (107 bytes at most).
    data = tmp_path_factory.mktemp(f"lk{request.param[0]}")
    env = cluster_env(data, LOREKEEPER_INGRESS=request.param)
    ports = {
        "http": int(env["LOREKEEPER_PORT"]),
        "stats": int(env["RAY_SERVE_HAPROXY_STATS_PORT"]),
        "metrics": int(env["RAY_SERVE_HAPROXY_METRICS_PORT"]),
        "fallback": int(env["RAY_SERVE_FALLBACK_PROXY_HTTP_PORT"]),
    }
    server = Server(["run", "--config", str(CONFIG)], env, data / "run.log")
    base = f"http://127.0.0.1:{ports['http']}"
    try:
        server.wait_ready(base, timeout=300)
        with httpx.Client(base_url=base, timeout=30) as client:
            yield Cluster(request.param, server, client, ports, data / "run.log")
    finally:
        server.stop()


def _two_replica_pids(client: httpx.Client) -> set[int]:
    pids: set[int] = set()
    deadline = time.monotonic() + 60
    while len(pids) < 2 and time.monotonic() < deadline:
        r = client.get("/pid")
        if r.status_code == 200:
            pids.add(r.json()["pid"])
    assert len(pids) == 2, pids
    return pids


def test_every_listener_is_on_loopback(cluster):
    _two_replica_pids(cluster.client)  # both replicas up, with their servers
    found = listeners(process_tree(cluster.server.proc.pid))
    table = "\n".join(f"{a:>16} {p:>6} {pid:>7} {name}" for a, p, pid, name in found)
    assert found, "no listener found in the cluster's process tree"
    assert all(is_loopback(address) for address, *_ in found), table
    names = {name for *_, name in found}
    assert {"gcs_server", "raylet"} <= names, table
    by_port = {port: name for _, port, _, name in found}
    if cluster.ingress == "haproxy":
        for port in ("http", "stats", "metrics"):
            assert by_port.get(cluster.ports[port]) == "haproxy", (port, table)
        # Each ingress replica's own HTTP server (direct ingress), in 30000-31000.
        replica_ports = [p for _, p, _, n in found if n.startswith("ray::ServeRepli")]
        assert sum(30000 <= p <= 31000 for p in replica_ports) == 2, table
    else:
        assert by_port.get(cluster.ports["http"]) == "ray::ProxyActor", table


def test_the_ingress_serves_the_application(cluster):
    r = cluster.client.get("/pid")
    assert r.status_code == 200 and r.json()["pid"] > 0
    if cluster.ingress != "haproxy":
        return
    metrics = httpx.get(f"http://127.0.0.1:{cluster.ports['metrics']}/metrics", timeout=10)
    assert metrics.status_code == 200 and "haproxy_process_" in metrics.text
    stats = httpx.get(f"http://127.0.0.1:{cluster.ports['stats']}/stats", timeout=10)
    assert stats.status_code == 200


def test_haproxy_answers_its_own_errors_as_problems(cluster):
    """502/503 (no replica could answer) -> 503 problem with Retry-After: read from the
    running HAProxy's config (its -f argument) and the errorfiles it names."""
    if cluster.ingress != "haproxy":
        pytest.skip("HAProxy only")
    haproxies = [  # more than one while a reloaded-out HAProxy drains its connections
        pid
        for pid in process_tree(cluster.server.proc.pid)
        if _alive(pid) and Path(f"/proc/{pid}/comm").read_text().strip() == "haproxy"
    ]
    assert haproxies
    for haproxy in haproxies:
        argv = Path(f"/proc/{haproxy}/cmdline").read_bytes().split(b"\0")
        config = Path(argv[argv.index(b"-f") + 1].decode()).read_text()
        assert "http-request disable-l7-retry if !METH_GET" in config
        assert "retry-on conn-failure empty-response junk-response" in config
        errorfiles = dict(re.findall(r"errorfile (\d+) (\S+)", config))
        assert set(errorfiles) == {"502", "503", "504"}
        for status in ("502", "503"):
            raw = Path(errorfiles[status]).read_bytes().decode()
            head, body = raw.split("\r\n\r\n", 1)
            assert head.startswith("HTTP/1.1 503 ")
            assert "Retry-After: 1" in head
            assert "Content-Type: application/problem+json" in head
            assert f"Content-Length: {len(body.encode())}" in head
            assert '"code":"replica_unavailable"' in body and '"status":503' in body


def test_gets_survive_a_replica_death(cluster):
    """kill -9 one of the two replicas under a bounded GET load: HAProxy retries the cut
    requests on the other replica (retry-on empty-response, option redispatch)."""
    if cluster.ingress != "haproxy":
        pytest.skip("retries are HAProxy's")
    victim = min(_two_replica_pids(cluster.client))
    # Only ever kill a process this test started.
    assert victim in process_tree(cluster.server.proc.pid)
    statuses: Counter = Counter()

    async def load(total: int = 400, concurrency: int = 4, kill_at: int = 100) -> None:
        sent = 0
        async with httpx.AsyncClient(base_url=str(cluster.client.base_url), timeout=30) as c:

            async def worker() -> None:
                nonlocal sent
                while sent < total:
                    sent += 1
                    if sent == kill_at:
                        os.kill(victim, signal.SIGKILL)
                    try:
                        statuses[(await c.get("/pid")).status_code] += 1
                    except httpx.HTTPError as exc:
                        statuses[type(exc).__name__] += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))

    asyncio.run(load())
    assert statuses == Counter({200: 400}), statuses


def test_ctrl_c_stops_everything_within_seconds(cluster):
    server, log = cluster.server, cluster.log
    pids = process_tree(server.proc.pid)
    began = time.monotonic()
    os.killpg(server.proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
    try:
        returncode = server.proc.wait(STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_WITHIN_S}s after SIGINT; see {log}")
    took = time.monotonic() - began
    assert returncode == 0, log.read_text()[-3000:]
    deadline = time.monotonic() + 5  # ray.shutdown() has signalled; let the kernel reap
    while (left := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, [(p, Path(f"/proc/{p}/cmdline").read_bytes()[:120]) for p in left]
    assert cluster.ports["http"] not in {port for _, port in _listening_inodes().values()}
    print(f"SIGINT to exit: {took:.1f}s")
