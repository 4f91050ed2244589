"""The Serve-handle implementation of a calls Protocol, made from the Protocol itself.

`remote(CharacterCalls, handle).award_xp(...)` calls the replica's `award_xp` through
`handle.award_xp.remote(...)`; an async-generator method streams
(`handle.options(stream=True)`). Domain errors raised in the callee come back as themselves,
and a callee replica that died answers 503 `replica_unavailable`, so callers handle one set
of errors whichever implementation they hold.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, cast

from ray.exceptions import ActorDiedError, ActorUnavailableError, RayTaskError
from ray.serve.handle import DeploymentHandle

from domain.errors import DomainError, Unavailable

T = TypeVar("T")


def remote(api: type[T], handle: DeploymentHandle) -> T:
    """An object with `api`'s methods, each forwarded to the deployment behind `handle`."""
    methods: dict[str, Callable[..., Any]] = {}
    for name, fn in inspect.getmembers(api, inspect.isfunction):
        if name.startswith("_"):
            continue
        if inspect.isasyncgenfunction(fn):
            methods[name] = _streaming(handle, name)
        elif inspect.iscoroutinefunction(fn):
            methods[name] = _unary(handle, name)
        else:
            raise TypeError(f"{api.__name__}.{name} must be async to be called over Serve")
    return cast(T, type(f"Remote{api.__name__}", (), methods)())


def _unary(handle: DeploymentHandle, name: str) -> Callable[..., Any]:
    method = getattr(handle, name)

    async def call(_self: object, *args: Any, **kwargs: Any) -> Any:
        with _errors(name):
            return await method.remote(*args, **kwargs)

    call.__name__ = name
    return call


def _streaming(handle: DeploymentHandle, name: str) -> Callable[..., AsyncIterator[Any]]:
    method = getattr(handle.options(stream=True), name)

    async def stream(_self: object, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        with _errors(name):
            response = method.remote(*args, **kwargs)
            try:
                async for item in response:
                    yield item
            except (GeneratorExit, asyncio.CancelledError):
                response.cancel()  # the caller stopped early: the callee stops too
                raise

    stream.__name__ = name
    return stream


class _errors:
    """Unwraps domain errors from Ray's wrapper; a dead replica becomes a retryable 503."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, _type: type | None, exc: BaseException | None, _tb: object) -> bool:
        if isinstance(exc, RayTaskError) and isinstance(exc.cause, DomainError):
            raise exc.cause from None
        if isinstance(exc, ActorDiedError | ActorUnavailableError):
            raise Unavailable(
                f"The replica answering {self.name} stopped mid-call; retry in a moment.",
                code="replica_unavailable",
                retry_after=1,
            ) from None
        return False
