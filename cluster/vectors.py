"""One small vector store adapter over Qdrant's query model, with two backends:

- `edge` (default): Qdrant Edge (`qdrant-edge-py`) in this process, on disk, one shard
  folder per collection. Measured here at 100k points (384 dims, filtered on campaign and
  visibility): p50 0.44 ms with payload indexes. Edge builds its HNSW index only when
  `optimize()` runs (1-4 min per 100k points on 2 cores), so `optimize_in_background` runs it
  on a thread, then creates the payload indexes. Edge cannot snapshot: flush, then copy the
  folder. One process owns a folder. Edge 0.9 is beta and its API has moved between
  versions: nothing outside this module touches it.
- `server`: a Qdrant server by URL through qdrant-client (tested against qdrant-client's
  local mode, `path`/":memory:", which speaks the same client API; local mode itself is
  brute force in Python, ~1.8 s per query at 100k points: for tests only).

Filters are `{payload key: value or list of values}` (all must match; a list matches any).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cluster.logs import get_logger

log = get_logger("vectors")
Filter = Mapping[str, str | int | list[str] | list[int]]
IndexKind = Literal["keyword", "integer"]
PointIn = tuple[int, list[float], dict[str, Any]]


class VectorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["edge", "server"] = "edge"
    path: Path | None = Field(
        None, description="edge: the folder of the shards; default <data dir>/vectors."
    )
    url: str | None = Field(
        None,
        description="server: the Qdrant URL (http://host:6333), or `:memory:` / a folder "
        "path for qdrant-client's local mode (tests).",
    )
    api_key: str | None = None


@dataclass(frozen=True)
class Hit:
    id: int
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class StoredPoint:
    id: int
    vector: list[float]
    payload: dict[str, Any]


class VectorStore:
    """The adapter's interface (both backends)."""

    @staticmethod
    def open(config: VectorConfig, default_path: Path) -> VectorStore:
        if config.backend == "server":
            if not config.url:
                raise ValueError("vectors.backend `server` needs vectors.url.")
            return ServerVectors(config.url, config.api_key)
        return EdgeVectors(config.path or default_path)

    def ensure_collection(
        self, name: str, dim: int, indexes: Mapping[str, IndexKind] | None = None
    ) -> None:
        raise NotImplementedError

    def upsert(self, name: str, points: Iterable[PointIn]) -> None:
        raise NotImplementedError

    def query(
        self, name: str, vector: list[float], limit: int = 10, where: Filter | None = None
    ) -> list[Hit]:
        """The nearest points by cosine similarity (higher is nearer)."""
        raise NotImplementedError

    def points(
        self, name: str, where: Filter | None = None, limit: int = 1000
    ) -> list[StoredPoint]:
        """Points with their vectors (a scroll), in id order."""
        raise NotImplementedError

    def delete(self, name: str, ids: list[int]) -> None:
        raise NotImplementedError

    def count(self, name: str, where: Filter | None = None) -> int:
        raise NotImplementedError

    def optimize_in_background(self, name: str) -> threading.Thread | None:
        """Build the search index without blocking the caller (Edge only)."""
        return None

    def close(self) -> None:
        pass


# --- Qdrant Edge ---------------------------------------------------------------------------


class EdgeVectors(VectorStore):
    def __init__(self, root: Path):
        self.root = root
        self._shards: dict[str, Any] = {}
        self._indexes: dict[str, Mapping[str, IndexKind]] = {}
        self._lock = threading.Lock()

    def ensure_collection(
        self, name: str, dim: int, indexes: Mapping[str, IndexKind] | None = None
    ) -> None:
        import qdrant_edge as q

        with self._lock:
            if name in self._shards:
                return
            path = self.root / name
            config = q.EdgeConfig(vectors=q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine))
            if path.exists() and any(path.iterdir()):
                self._shards[name] = q.EdgeShard.load(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._shards[name] = q.EdgeShard.create(str(path), config)
            self._indexes[name] = dict(indexes or {})

    def _shard(self, name: str) -> Any:
        try:
            return self._shards[name]
        except KeyError:
            raise KeyError(f"No collection {name!r}: call ensure_collection first.") from None

    def upsert(self, name: str, points: Iterable[PointIn]) -> None:
        import qdrant_edge as q

        batch = [q.Point(pid, vector, payload) for pid, vector, payload in points]
        if batch:
            self._shard(name).update(q.UpdateOperation.upsert_points(batch))

    def query(
        self, name: str, vector: list[float], limit: int = 10, where: Filter | None = None
    ) -> list[Hit]:
        import qdrant_edge as q

        request = q.QueryRequest(
            limit=limit,
            query=q.Query.Nearest(vector),
            filter=_edge_filter(where),
            with_payload=True,
        )
        return [Hit(int(p.id), p.score, p.payload or {}) for p in self._shard(name).query(request)]

    def points(
        self, name: str, where: Filter | None = None, limit: int = 1000
    ) -> list[StoredPoint]:
        import qdrant_edge as q

        out: list[StoredPoint] = []
        offset = None
        while len(out) < limit:
            records, offset = self._shard(name).scroll(
                q.ScrollRequest(
                    offset=offset,
                    limit=min(256, limit - len(out)),
                    filter=_edge_filter(where),
                    with_payload=True,
                    with_vector=True,
                )
            )
            out += [StoredPoint(int(r.id), _dense(r.vector), r.payload or {}) for r in records]
            if offset is None or not records:
                break
        return out

    def delete(self, name: str, ids: list[int]) -> None:
        import qdrant_edge as q

        self._shard(name).update(q.UpdateOperation.delete_points(ids))

    def count(self, name: str, where: Filter | None = None) -> int:
        import qdrant_edge as q

        return self._shard(name).count(q.CountRequest(filter=_edge_filter(where)))

    def optimize_in_background(self, name: str) -> threading.Thread:
        import qdrant_edge as q

        shard, indexes = self._shard(name), self._indexes.get(name, {})

        def run() -> None:
            try:
                shard.optimize()  # blocks for minutes at 100k points
                for field, kind in indexes.items():
                    schema = {"keyword": q.PayloadSchemaType.Keyword,
                              "integer": q.PayloadSchemaType.Integer}[kind]
                    shard.update(q.UpdateOperation.create_field_index(field, schema))
                shard.flush()
            except Exception:
                log.exception("vector index build failed", extra={"collection": name})

        thread = threading.Thread(target=run, name=f"optimize-{name}", daemon=True)
        thread.start()
        return thread

    def flush(self) -> None:
        for shard in self._shards.values():
            shard.flush()

    def close(self) -> None:
        with self._lock:
            for shard in self._shards.values():
                shard.flush()
                shard.close()
            self._shards.clear()


def _edge_filter(where: Filter | None) -> Any:
    import qdrant_edge as q

    if not where:
        return None
    must = [
        q.FieldCondition(
            key=key,
            match=q.MatchAny(list(value)) if isinstance(value, list) else q.MatchValue(value),
        )
        for key, value in where.items()
    ]
    return q.Filter(must=must)


def _dense(vector: Any) -> list[float]:
    if isinstance(vector, dict):  # a named-vector shard answers {"": [...]}
        vector = next(iter(vector.values()))
    return [float(x) for x in vector]


# --- a Qdrant server (qdrant-client) --------------------------------------------------------


class ServerVectors(VectorStore):
    def __init__(self, url: str, api_key: str | None = None):
        from qdrant_client import QdrantClient

        if url == ":memory:":
            self.client = QdrantClient(location=":memory:")
        elif url.startswith(("http://", "https://")):
            self.client = QdrantClient(url=url, api_key=api_key)
        else:  # local mode in a folder
            self.client = QdrantClient(path=url)

    def ensure_collection(
        self, name: str, dim: int, indexes: Mapping[str, IndexKind] | None = None
    ) -> None:
        from qdrant_client import models as m

        if not self.client.collection_exists(name):
            self.client.create_collection(
                name, vectors_config=m.VectorParams(size=dim, distance=m.Distance.COSINE)
            )
            for field, kind in (indexes or {}).items():
                schema = {"keyword": m.PayloadSchemaType.KEYWORD,
                          "integer": m.PayloadSchemaType.INTEGER}[kind]
                self.client.create_payload_index(name, field, field_schema=schema)

    def upsert(self, name: str, points: Iterable[PointIn]) -> None:
        from qdrant_client import models as m

        batch = [m.PointStruct(id=pid, vector=vector, payload=payload)
                 for pid, vector, payload in points]
        if batch:
            self.client.upsert(name, points=batch, wait=True)

    def query(
        self, name: str, vector: list[float], limit: int = 10, where: Filter | None = None
    ) -> list[Hit]:
        result = self.client.query_points(
            name, query=vector, query_filter=_server_filter(where), limit=limit,
            with_payload=True,
        )
        return [Hit(int(p.id), p.score, p.payload or {}) for p in result.points]

    def points(
        self, name: str, where: Filter | None = None, limit: int = 1000
    ) -> list[StoredPoint]:
        out: list[StoredPoint] = []
        offset = None
        while len(out) < limit:
            records, offset = self.client.scroll(
                name,
                scroll_filter=_server_filter(where),
                limit=min(256, limit - len(out)),
                offset=offset,
                with_payload=True,
                with_vectors=True,
            )
            out += [StoredPoint(int(r.id), _dense(r.vector), r.payload or {}) for r in records]
            if offset is None or not records:
                break
        return out

    def delete(self, name: str, ids: list[int]) -> None:
        from qdrant_client import models as m

        self.client.delete(name, points_selector=m.PointIdsList(points=ids), wait=True)

    def count(self, name: str, where: Filter | None = None) -> int:
        return self.client.count(name, count_filter=_server_filter(where), exact=True).count

    def close(self) -> None:
        self.client.close()


def _server_filter(where: Filter | None) -> Any:
    from qdrant_client import models as m

    if not where:
        return None
    return m.Filter(
        must=[
            m.FieldCondition(
                key=key,
                match=m.MatchAny(any=list(value)) if isinstance(value, list)
                else m.MatchValue(value=value),
            )
            for key, value in where.items()
        ]
    )
