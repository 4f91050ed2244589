"""Map generation time per map, and the asset store's dedup ratio and backup / restore /
verify times for 1,000 assets (local disk, SQLite, in process).

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/maps_and_storage.py [assets] [maps]
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster import migrate  # noqa: E402
from cluster.blobs import LocalBlobStore  # noqa: E402
from cluster.database import Database  # noqa: E402
from domain.assets import maintenance  # noqa: E402
from domain.assets.schemas import AssetMeta  # noqa: E402
from domain.assets.service import AssetService  # noqa: E402
from domain.maps.generate import layout_for, make_map  # noqa: E402
from domain.maps.layout import MapRequest  # noqa: E402
from domain.users.schemas import Principal  # noqa: E402


def bench_maps(n: int) -> None:
    print("| map | size (cells, px/cell) | layout ms p50 | layout+PNG+dd2vtt ms p50 | PNG KiB |")
    print("|---|---|---|---|---|")
    for kind in ("dungeon", "cave", "region"):
        for w, h, px in ((40, 30, 50), (80, 60, 50)):
            layout_ms, total_ms, size = [], [], 0
            for seed in range(n):
                req = MapRequest(kind=kind, seed=seed, width=w, height=h, grid_px=px)
                t = time.perf_counter()
                layout_for(req)
                layout_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                size = len(make_map(req).png)
                total_ms.append((time.perf_counter() - t) * 1000)
            print(
                f"| {kind} | {w}x{h}, {px} | {statistics.median(layout_ms):.0f} | "
                f"{statistics.median(total_ms):.0f} | {size // 1024} |"
            )


def image(i: int) -> bytes:
    # About a fifth of the assets repeat an earlier image (a re-run, a copy to a campaign).
    unique = i if i % 10 >= 3 else i // 2
    buf = io.BytesIO()
    img = Image.new("RGB", (64, 64), (unique % 256, (unique * 7) % 256, (unique * 13) % 256))
    img.putpixel((unique % 64, (unique // 64) % 64), (255, 255, 255))
    img.save(buf, "PNG")
    return buf.getvalue()


def bench_storage(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db, blobs = open_dir(root / "a")
        owner = Principal(1, "dm")
        t = time.perf_counter()
        logical = 0
        for start in range(0, n, 100):  # 100 assets per transaction
            with db.session() as s:
                svc = AssetService(s, owner, blobs)
                for i in range(start, min(n, start + 100)):
                    data = image(i)
                    logical += len(data)
                    svc.add(data, "image/png", AssetMeta(kind="token", seed=i))
        add_s = time.perf_counter() - t
        with db.session() as s:
            named = maintenance.referenced(s)
            from sqlalchemy import select

            from domain.assets.models import AssetVersion

            content = set(s.scalars(select(AssetVersion.sha256)))
        physical = sum(size for sha, size in named.items() if sha in content)
        variants = sum(size for sha, size in named.items() if sha not in content)
        print(
            f"\n{n} assets added in {add_s:.1f}s ({n / add_s:.0f}/s, with thumbnail, WebP "
            "and AVIF made once per distinct image)"
        )
        print(
            f"content: {logical} bytes logical, {physical} stored ({len(content)} blobs): "
            f"dedup ratio {logical / physical:.2f}x; variants {variants} bytes"
        )
        archive = root / "backup.tar"
        with db.session() as s:
            b = maintenance.backup(s, blobs, archive)
        with db.session() as s:
            v = maintenance.verify(s, blobs)
        db2, blobs2 = open_dir(root / "b")
        with db2.session() as s:
            r = maintenance.restore(s, blobs2, archive)
        print(
            f"backup {b.seconds:.2f}s ({b.blobs} blobs, {archive.stat().st_size} bytes), "
            f"verify {v.seconds:.2f}s, restore into a fresh dir {r.seconds:.2f}s "
            f"(every hash checked)"
        )
        db.dispose()
        db2.dispose()


def open_dir(path: Path) -> tuple[Database, LocalBlobStore]:
    url = f"sqlite:///{path / 'lorekeeper.db'}"
    migrate.upgrade(url)
    return Database(url), LocalBlobStore(path / "blobs")


if __name__ == "__main__":
    assets = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    maps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    bench_maps(maps)
    bench_storage(assets)
