"""Building a model folder once: made beside its destination and renamed into place, so
concurrent builders (replicas starting together, test clusters) never see half of one."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def build_once(dest: Path, write: Callable[[Path], None], marker: str = "config.json") -> Path:
    """`dest`, made by `write(folder)` first unless `dest/marker` already exists."""
    if (dest / marker).exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        write(work)
        work.chmod(0o755)  # mkdtemp's 0700 would hide it from other users
        work.rename(dest)
    except OSError:
        if not (dest / marker).exists():  # not a rival that finished first
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest
