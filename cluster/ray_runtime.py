"""Starting Ray lean on one machine and deploying serve_config.yaml onto it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import yaml

from cluster.settings import Settings

# Set before Ray starts so that every worker inherits them.
LEAN_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "OMP_WAIT_POLICY": "PASSIVE",  # PyTorch on 2 vCPUs is 10-30x slower with busy-waiting OpenMP
    "OMP_NUM_THREADS": "1",
    "HF_HUB_OFFLINE": "1",
    "RAY_SERVE_ENABLE_TASK_EVENTS": "0",
    # Serve's own low-overhead profile (user code on the replica's loop, gRPC between
    # replicas, buffered request logs): ~20% lower latency here, see benchmarks/README.md.
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    # ...but not its direct ingress: with it, Serve's controller hangs 30 s on shutdown.
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "0",
}


def start_ray(settings: Settings) -> None:
    import ray

    os.environ.update({k: v for k, v in LEAN_ENV.items() if k not in os.environ})
    if settings.ray_address:
        ray.init(address=settings.ray_address, namespace="serve")
        return
    temp_dir = (settings.data_dir / "ray").resolve()
    temp_dir.mkdir(parents=True, exist_ok=True)
    # A local head: GCS on a free port (6379 is Redis's), bound to 127.0.0.1, no dashboard
    # (~950 MB RSS) unless asked for.
    ray.init(
        namespace="serve",
        include_dashboard=settings.ray_dashboard,
        _node_ip_address="127.0.0.1",
        _temp_dir=str(temp_dir),
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
