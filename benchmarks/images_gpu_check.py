"""A short check of the image pipeline on whatever device is present (CUDA with float16 when
a GPU is visible): builds the tiny seeded pipeline, then makes N images as one batched
pipeline call and as N single calls, and checks that a seed gives the same image twice.
Prints one JSON object.

    python -m benchmarks.images_gpu_check [--n 8] [--size 64] [--steps 4] [--model PATH]

Needs torch, transformers, diffusers and pydantic (no Ray, no database). `--model` takes a
real diffusers folder (SD 1.5, SD-Turbo, SDXL) instead of the tiny one.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args()

    import torch

    from models import tiny_sd
    from models.diffusion import Diffusion, DiffusionConfig, Group, Item

    started = time.perf_counter()
    model = args.model or tiny_sd.ensure(Path(tempfile.mkdtemp()) / tiny_sd.NAME)
    config = DiffusionConfig(device=args.device)
    diffusion = Diffusion(model, config)
    load_s = time.perf_counter() - started
    group = Group("txt2img", args.size, args.size, args.steps, 7.0, "euler")
    items = [Item(f"a red dragon {i}", "", seed=i) for i in range(args.n)]

    def sync() -> None:
        if diffusion.device == "cuda":
            torch.cuda.synchronize()

    def png_hash(image) -> str:
        buf = io.BytesIO()
        image.save(buf, "PNG")
        return hashlib.sha256(buf.getvalue()).hexdigest()

    diffusion.run(group, items[:2], lambda *_: None)  # warm up (kernels, allocator)
    sync()
    t = time.perf_counter()
    batched = diffusion.run(group, items, lambda *_: None)
    sync()
    batched_s = time.perf_counter() - t
    t = time.perf_counter()
    singles = [diffusion.run(group, [item], lambda *_: None)[0] for item in items]
    sync()
    unbatched_s = time.perf_counter() - t
    again = diffusion.run(group, [items[0]], lambda *_: None)[0]
    print(json.dumps({
        "device": diffusion.device,
        "gpu": torch.cuda.get_device_name(0) if diffusion.device == "cuda" else None,
        "dtype": str(config.torch_dtype(diffusion.device)),
        "model": str(model),
        "n": args.n,
        "size": args.size,
        "steps": args.steps,
        "load_s": round(load_s, 3),
        "batched_images_per_s": round(args.n / batched_s, 3),
        "unbatched_images_per_s": round(args.n / unbatched_s, 3),
        "batched_over_unbatched": round(unbatched_s / batched_s, 3),
        "same_seed_same_image": png_hash(again) == png_hash(singles[0]),
        "batched_equals_single": png_hash(batched[0]) == png_hash(singles[0]),
    }))


if __name__ == "__main__":
    main()
