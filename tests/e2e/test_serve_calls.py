"""Typed calls over real Serve handles (unary, streaming, errors), and one application
redeployed while the others keep answering. Ray runs in this test process."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import httpx
import pytest
import yaml

from cluster import migrate
from cluster.database import Database
from cluster.settings import Settings
from deployments.apps import SERVE_CONFIG
from deployments.calls.characters import CharacterCalls
from deployments.calls.remote import remote
from domain.characters.examples import EXAMPLE_2024
from domain.characters.service import CharacterService
from domain.errors import NotFound
from domain.sheet import CharacterDoc
from domain.users.models import User
from domain.users.schemas import Principal
from tests.support import cluster_env

pytestmark = pytest.mark.e2e



@pytest.fixture(scope="module")
def serve_cluster(tmp_path_factory):
    import ray
    from ray import serve

    from cluster.ray_runtime import deploy_config, start_ray

    data = tmp_path_factory.mktemp("sc")  # short: Ray's socket paths must fit 107 bytes
    env = cluster_env(data, LOREKEEPER_JWT_SECRET="e2e-secret-" + "x" * 32)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the replicas inherit them through Ray's workers
    settings = Settings()
    migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    with db.session() as session:  # an owner with three characters, made directly
        user = User(username="owner", password_hash="-", role="player")
        session.add(user)
        session.flush()
        owner = Principal(user.id, "player")
        chars = CharacterService(session, owner)
        ids = [chars.create(CharacterDoc.model_validate(EXAMPLE_2024)).id for _ in range(3)]
    try:
        start_ray(settings)
        deploy_config(SERVE_CONFIG, settings)
        yield settings, owner, ids
    finally:
        serve.shutdown()
        ray.shutdown()
        db.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_unary_streaming_and_errors_over_handles(serve_cluster):
    from ray import serve

    _, owner, ids = serve_cluster
    calls = remote(CharacterCalls, serve.get_app_handle("characters"))

    async def scenario():
        got = await calls.get(owner, ids[1])
        streamed = [s.id async for s in calls.summaries(owner, page_size=2)]
        with pytest.raises(NotFound):  # a domain error crosses Ray as itself
            await calls.get(Principal(owner.user_id + 1000, "player"), ids[0])
        return got, streamed, await calls.ready(), await calls.openapi()

    got, streamed, ready, spec = asyncio.run(scenario())
    assert got.id == ids[1] and got.document["name"] == EXAMPLE_2024["name"]
    assert streamed == ids
    assert ready.ready and ready.dependencies["database"] == "ok"
    assert "/api/v2/characters/{character_id}" in spec["paths"]


def _replica_ids(app: str, deployment: str) -> set[str]:
    from ray.serve.context import _get_global_client

    details = _get_global_client().get_serve_details()
    replicas = details["applications"][app]["deployments"][deployment]["replicas"]
    return {r["replica_id"] for r in replicas}


def test_redeploying_one_application_leaves_the_others_answering(serve_cluster, tmp_path):
    from ray import serve

    from cluster.ray_runtime import deploy_config

    settings, _, _ = serve_cluster
    base = f"http://127.0.0.1:{settings.port}"
    statuses: list[int] = []
    stop = threading.Event()

    def hammer() -> None:  # the rules application, bounded in count and time
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(2000):
                if stop.is_set():
                    return
                statuses.append(client.get("/api/v2/rules/2024").status_code)
                time.sleep(0.01)

    config = yaml.safe_load(SERVE_CONFIG.read_text())
    for app in config["applications"]:
        if app["name"] == "characters":
            app["args"]["threads"] = 7  # a changed config object: Serve redeploys this one
    changed = tmp_path / "serve_config.yaml"
    changed.write_text(yaml.safe_dump(config))
    rules_before = _replica_ids("rules", "Rules")
    characters_before = serve.status().applications["characters"].last_deployed_time_s
    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        time.sleep(1)
        deploy_config(changed, settings)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until the new characters replica serves
            app = serve.status().applications["characters"]
            if app.last_deployed_time_s > characters_before and app.status == "RUNNING":
                break
            time.sleep(0.5)
        time.sleep(1)
    finally:
        stop.set()
        worker.join()
    apps = serve.status().applications
    assert apps["characters"].status == "RUNNING"
    assert apps["characters"].last_deployed_time_s > characters_before
    assert _replica_ids("rules", "Rules") == rules_before  # not restarted
    assert statuses and set(statuses) == {401}  # every request answered (no token: 401)
    assert httpx.get(f"{base}/api/v2/characters/1").status_code == 401
