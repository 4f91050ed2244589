"""Starting Ray lean on one machine and deploying serve_config.yaml onto it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import yaml

from cluster import ingress
from cluster.settings import Settings

# Set before Ray starts so that every worker inherits them.
LEAN_ENV = {
    # Serve's proxy and direct-ingress servers wrap every app with these (safe request ids).
    "RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH": "cluster.request_ids:middlewares",
    "RAY_USAGE_STATS_ENABLED": "0",
    "OMP_WAIT_POLICY": "PASSIVE",  # PyTorch on 2 vCPUs is 10-30x slower with busy-waiting OpenMP
    "OMP_NUM_THREADS": "1",
    "HF_HUB_OFFLINE": "1",
    "RAY_SERVE_ENABLE_TASK_EVENTS": "0",
    # Ray starts workers at nice 15, below its own daemons and any client on the machine: the
    # LLM engine's threads lost their cores to them (2-3% of its output at 16 streams here).
    "RAY_worker_niceness": "0",
    # Serve's own low-overhead profile (user code on the replica's loop, gRPC between
    # replicas, buffered request logs): ~20% lower latency here, see benchmarks/README.md.
    # Its direct ingress follows LOREKEEPER_INGRESS: see cluster/ingress.py (ray_env).
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
}


def start_ray(settings: Settings) -> None:
    """Joins LOREKEEPER_RAY_ADDRESS, or starts a head on this machine, on loopback only.

    Environment variables already set win over LEAN_ENV and ingress.ray_env(). Joining a
    running cluster, its workers keep the environment they were started with (the ingress
    among it): set the same variables where `ray start` runs."""
    local_head = not settings.ray_address
    env = {**LEAN_ENV, **ingress.ray_env(settings.ingress, local_head=local_head)}
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})
    import ray  # after the environment: Ray and Serve read some of it at import

    if not local_head:
        ray.init(address=settings.ray_address, namespace="serve")
        return
    ingress.check_patches(settings.ingress)
    ingress.keep_ray_on_loopback()
    temp_dir = (settings.data_dir / "ray").resolve()
    temp_dir.mkdir(parents=True, exist_ok=True)
    # A local head: GCS on a free port (6379 is Redis's), every listener on 127.0.0.1 (see
    # cluster/ingress.py), no dashboard (~950 MB RSS) unless asked for.
    ray.init(
        namespace="serve",
        num_cpus=settings.ray_num_cpus or max(os.cpu_count() or 1, 4),
        include_dashboard=settings.ray_dashboard,
        _node_ip_address="127.0.0.1",
        _temp_dir=str(temp_dir),
        _metrics_export_port=settings.metrics_port,
        # Every worker imports this module first: it patches what Ray has no option for.
        _system_config={"preload_python_modules": [ingress.WORKER_MODULE]},
        logging_level="WARNING",
        log_to_driver=True,
    )


def deploy_config(path: Path, settings: Settings, timeout_s: float = 300) -> None:
    """What `serve run serve_config.yaml` does, without needing the dashboard's REST API.

    The HTTP host and port come from the settings (LOREKEEPER_HOST, LOREKEEPER_PORT)."""
    from ray import serve
    from ray.serve._private import api as serve_api
    from ray.serve.config import gRPCOptions
    from ray.serve.schema import ServeDeploySchema

    raw = yaml.safe_load(path.read_text())
    raw.setdefault("http_options", {}).update(host=settings.host, port=settings.port)
    config = ServeDeploySchema.model_validate(raw)
    client = serve_api.serve_start(
        http_options=config.http_options.model_dump(),
        proxy_location=config.proxy_location,
        grpc_options=gRPCOptions(**config.grpc_options.model_dump()),
    )
    client.deploy_apps(config, _blocking=False)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        apps = serve.status().applications
        states = {name: str(app.status) for name, app in apps.items()}
        if apps and all(s.endswith("RUNNING") for s in states.values()):
            return
        failed = {n: a.message for n, a in apps.items() if str(a.status).endswith("FAILED")}
        if failed:
            raise RuntimeError(f"Serve applications failed to deploy: {failed}")
        time.sleep(1)
    raise TimeoutError(f"Serve applications not running after {timeout_s}s: {states}")
