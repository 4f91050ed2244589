"""serve_config.yaml overlays and the KubeRay RayService rendered from them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cluster import kuberay, serve_config
from deployments.apps import SERVE_CONFIG, load_specs
from lorekeeper.cli import main

GPU_OVERLAY = SERVE_CONFIG.with_name("serve_config.gpu.yaml")


def _app(config: dict, name: str) -> dict:
    return next(app for app in config["applications"] if app["name"] == name)


def test_gpu_overlay_changes_only_what_it_names():
    base = serve_config.read(SERVE_CONFIG)
    merged = serve_config.read(SERVE_CONFIG, [GPU_OVERLAY])
    llm = _app(merged, "llm")
    assert llm["args"]["llm"]["accelerator"] == "gpu"
    assert "kv_cache_gib" not in llm["args"]["llm"]  # null removes the key
    assert llm["args"]["llm"]["model"] == _app(base, "llm")["args"]["llm"]["model"]
    assert llm["deployments"][0]["ray_actor_options"]["num_gpus"] == 1
    assert llm["deployments"][0]["graceful_shutdown_timeout_s"] == 10  # kept from the base
    others = [a["name"] for a in base["applications"] if a["name"] != "llm"]
    assert all(_app(merged, n) == _app(base, n) for n in others)


def test_merged_config_passes_the_checks_run_makes(tmp_path):
    merged = serve_config.write(
        serve_config.read(SERVE_CONFIG, [GPU_OVERLAY]), tmp_path / "merged.yaml"
    )
    spec = next(s for s in load_specs(merged) if s.name == "llm")
    assert spec.config.llm.accelerator == "gpu" and spec.config.llm.num_gpus == 1


@pytest.mark.parametrize(
    "overlay, message",
    [
        ({"applications": {"nope": {"args": {}}}}, "no application 'nope'"),
        ({"applications": {"llm": {"deployments": {"Nope": {}}}}}, "no deployment 'Nope'"),
    ],
)
def test_an_overlay_naming_nothing_is_refused(overlay, message):
    with pytest.raises(serve_config.OverlayError, match=message):
        serve_config.merge(serve_config.read(SERVE_CONFIG), overlay)


def test_rayservice_has_a_gpu_group_and_the_serve_config():
    config = serve_config.read(SERVE_CONFIG, [GPU_OVERLAY])
    manifest = kuberay.rayservice(config, image="lk:1", gpu_workers=(0, 2))
    cluster = manifest["spec"]["rayClusterConfig"]
    groups = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}
    assert set(groups) == {"cpu", "gpu"}
    gpu = groups["gpu"]["template"]["spec"]
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert gpu["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert (groups["gpu"]["minReplicas"], groups["gpu"]["maxReplicas"]) == (0, 2)
    served = yaml.safe_load(manifest["spec"]["serveConfigV2"])
    assert served["http_options"]["host"] == "0.0.0.0"
    assert served["applications"] == config["applications"]
    # Secrets come by reference, never as values in the manifest.
    env = cluster["headGroupSpec"]["template"]["spec"]["containers"][0]["env"]
    refs = {e["name"] for e in env if "valueFrom" in e}
    assert set(kuberay.SECRET_ENV) <= refs
    # Every pod starts Ray with the environment `make run` gives its workers.
    for group in [cluster["headGroupSpec"], *groups.values()]:
        values = {
            e["name"]: e.get("value") for e in group["template"]["spec"]["containers"][0]["env"]
        }
        assert values["RAY_worker_niceness"] == "0"
        assert (
            values["RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"] == "cluster.request_ids:middlewares"
        )


def test_cpu_only_manifest_leaves_the_gpu_group_out():
    manifest = kuberay.rayservice(serve_config.read(SERVE_CONFIG), image="lk:1")
    groups = manifest["spec"]["rayClusterConfig"]["workerGroupSpecs"]
    assert [g["groupName"] for g in groups] == ["cpu"]


def test_cli_prints_a_manifest(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("LOREKEEPER_DATA_DIR", str(tmp_path))
    argv = ["kuberay", "--image", "lk:1", "--config", str(SERVE_CONFIG)]
    assert main([*argv, "--overlay", str(GPU_OVERLAY), "--gpu-workers", "1", "1"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert manifest["kind"] == "RayService"
    served = yaml.safe_load(manifest["spec"]["serveConfigV2"])
    assert _app(served, "llm")["args"]["llm"]["accelerator"] == "gpu"
