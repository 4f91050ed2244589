"""A KubeRay `RayService` for Lorekeeper, rendered from serve_config.yaml (and overlays such
as serve_config.gpu.yaml), so Kubernetes runs the same applications and options as `make
run`. The head runs Serve's controller and proxy; workers run the replicas: a CPU group, and
a GPU group whose nodes take the deployments that ask for `num_gpus`.

Secrets (database URL, Redis URL, JWT secret) come from a Kubernetes Secret, never the file.
"""

from __future__ import annotations

from typing import Any

import yaml

from cluster.ray_runtime import LEAN_ENV

RAY_VERSION = "2.60.0"
# Settings that must be the same on every pod, from the Secret named by `secret`.
SECRET_ENV = ("LOREKEEPER_DATABASE_URL", "LOREKEEPER_REDIS_URL", "LOREKEEPER_JWT_SECRET")


def rayservice(
    serve_config: dict[str, Any],
    *,
    image: str,
    name: str = "lorekeeper",
    secret: str = "lorekeeper",
    cpu_workers: tuple[int, int] = (1, 4),
    gpu_workers: tuple[int, int] = (0, 0),
    gpu_type: str = "nvidia.com/gpu",
) -> dict[str, Any]:
    """`cpu_workers` / `gpu_workers`: (min, max) replicas of each worker group; a group
    with max 0 is left out."""
    config = dict(serve_config)
    # In a pod Serve must listen beyond loopback: the Kubernetes Service fronts it.
    config["http_options"] = {**config.get("http_options", {}), "host": "0.0.0.0", "port": 8000}
    groups = [
        _group("cpu", image, secret, cpu_workers, {"cpu": "4", "memory": "16Gi"}),
        _group("gpu", image, secret, gpu_workers, {"cpu": "8", "memory": "32Gi", gpu_type: "1"}),
    ]
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": name},
        "spec": {
            "serveConfigV2": dump(config),
            "rayClusterConfig": {
                "rayVersion": RAY_VERSION,
                "enableInTreeAutoscaling": True,
                "headGroupSpec": {
                    # No replicas on the head: it keeps the controller and proxy responsive.
                    "rayStartParams": {"num-cpus": "0", "dashboard-host": "127.0.0.1"},
                    "template": _pod(
                        "ray-head",
                        image,
                        secret,
                        {"cpu": "2", "memory": "8Gi"},
                        ports={"gcs": 6379, "serve": 8000, "metrics": 8080},
                    ),
                },
                "workerGroupSpecs": [g for g in groups if g["maxReplicas"] > 0],
            },
        },
    }


def _group(
    name: str, image: str, secret: str, replicas: tuple[int, int], limits: dict[str, str]
) -> dict[str, Any]:
    low, high = replicas
    pod = _pod(f"ray-{name}-worker", image, secret, limits)
    if name == "gpu":  # GPU nodes are usually tainted: tolerate it
        pod["spec"]["tolerations"] = [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    return {
        "groupName": name,
        "replicas": low,
        "minReplicas": low,
        "maxReplicas": high,
        "rayStartParams": {},
        "template": pod,
    }


def _pod(
    container: str,
    image: str,
    secret: str,
    limits: dict[str, str],
    ports: dict[str, int] | None = None,
) -> dict[str, Any]:
    env: list[dict[str, Any]] = [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for key in SECRET_ENV
    ]
    # The environment `make run` starts Ray with (request-id middleware, worker niceness,
    # Serve's throughput profile...): `ray start` in a pod reads it from here.
    env += [{"name": "LOREKEEPER_DATA_DIR", "value": "/data"}]
    env += [{"name": key, "value": value} for key, value in LEAN_ENV.items()]
    spec: dict[str, Any] = {
        "name": container,
        "image": image,
        "env": env,
        "resources": {"limits": dict(limits), "requests": dict(limits)},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    if ports:
        spec["ports"] = [{"name": n, "containerPort": p} for n, p in ports.items()]
    return {
        "spec": {
            "containers": [spec],
            # Models and blobs: mount a shared volume here in production (see docs/platform.md).
            "volumes": [{"name": "data", "emptyDir": {}}],
        }
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors: each app spelled out
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None  # serveConfigV2 reads as the YAML it is
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False)
