"""A trivial Serve application for tests/e2e/test_listeners.py: the cluster's plumbing
(Ray, Serve, the ingress) without the project's applications. Replicas answer with their
pid, so that a test can kill one."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from fastapi import FastAPI
from pydantic import BaseModel
from ray import serve

api = FastAPI()


@serve.deployment
@serve.ingress(api)
class Echo:
    @api.get("/readyz")
    async def readyz(self) -> dict:
        return {"status": "ready"}

    @api.get("/pid")
    async def pid(self) -> dict:
        return {"pid": os.getpid()}


class EchoConfig(BaseModel):
    pass


class INGRESS:
    """What `lorekeeper run` checks of an application before starting Ray
    (deployments.apps.load_specs): its route prefix and config type."""

    route_prefix: ClassVar[str] = "/"
    config_type: ClassVar[type[BaseModel]] = EchoConfig


def build(args: dict[str, Any]):
    EchoConfig.model_validate(args)
    return Echo.bind()
