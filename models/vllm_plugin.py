"""A vLLM general plugin (entry point `vllm.general_plugins` in pyproject.toml), which vLLM
loads in each of its processes: the frontend, the engine core and the workers.

It sets how long a reader of vLLM's shared-memory queues spins (`sched_yield` in a loop)
before it sleeps on a socket until the writer notifies it. vLLM spins for a second after each
read, so under load the engine core spins on one core for as long as the worker computes a
step. With two cores that spin takes the core the worker's second thread needs: measured on
2 vCPUs (Gemma 3 270M, 8 streams), not spinning took the engine core from 61-79% of a core to
2% and output from 53-67 to 73-80 tokens/s. `LLMConfig.env()` sets the variable on CPU; where
it is unset (GPUs) vLLM keeps its own spin."""

from __future__ import annotations

import inspect
import logging
import os

READER_SPIN_ENV = "LOREKEEPER_VLLM_READER_SPIN_S"
RECHECK_MS = 10

logger = logging.getLogger(__name__)


def register() -> None:
    value = os.environ.get(READER_SPIN_ENV)
    if value is None:
        return
    try:
        from vllm.distributed.device_communicators import shm_broadcast
    except ImportError:  # moved in a vLLM upgrade: its own spin, not a failed start
        logger.warning("vLLM has no shm_broadcast: %s ignored", READER_SPIN_ENV)
        return
    spin = getattr(shm_broadcast, "SpinCondition", None)
    if set_default(spin.__init__ if spin else None, "busy_loop_s", float(value)) and hasattr(
        shm_broadcast, "SHM_READER_RECHECK_INTERVAL_MS"
    ):
        # A sleeping reader can miss a notification (measured: about one step in 2,000 sat
        # out vLLM's 5 s recheck); it looks at the queue itself this often instead.
        shm_broadcast.SHM_READER_RECHECK_INTERVAL_MS = RECHECK_MS


def set_default(function: object, name: str, value: object) -> bool:
    """Replaces a positional parameter's default; False (and a warning) where `function` has
    no such parameter, as when a vLLM upgrade renames it."""
    if not callable(function):
        logger.warning("vLLM has no %r to set: left as it is", name)
        return False
    parameters = inspect.signature(function).parameters
    defaulted = [p for p in parameters.values() if p.default is not inspect.Parameter.empty]
    names = [p.name for p in defaulted if p.kind is p.POSITIONAL_OR_KEYWORD]
    defaults = getattr(function, "__defaults__", None)
    if name not in names or defaults is None or len(defaults) != len(names):
        logger.warning("vLLM's %s has no default %r: left as it is", function, name)
        return False
    changed = list(defaults)
    changed[names.index(name)] = value
    function.__defaults__ = tuple(changed)  # type: ignore[attr-defined]
    return True
