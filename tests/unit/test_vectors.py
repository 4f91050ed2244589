"""The vector store adapter on both backends: Qdrant Edge in process (on disk) and the
qdrant-client path (its local mode, which speaks the server's client API)."""

from __future__ import annotations

import math

import pytest

from cluster.vectors import EdgeVectors, ServerVectors, VectorConfig, VectorStore

# qdrant-client's local mode warns that it ignores payload indexes (a server uses them).
pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
INDEXES = {"campaign_id": "integer", "visibility": "keyword"}


def unit(*xs: float) -> list[float]:
    norm = math.sqrt(sum(x * x for x in xs))
    return [x / norm for x in xs]


@pytest.fixture(params=["edge", "server-memory", "server-path"])
def store(request, tmp_path):
    if request.param == "edge":
        s = VectorStore.open(VectorConfig(), tmp_path / "vectors")
    elif request.param == "server-memory":
        s = VectorStore.open(VectorConfig(backend="server", url=":memory:"), tmp_path)
    else:
        s = VectorStore.open(VectorConfig(backend="server", url=str(tmp_path / "q")), tmp_path)
    s.ensure_collection("styles", 3, INDEXES)
    s.ensure_collection("styles", 3, INDEXES)  # twice is fine
    yield s
    s.close()


def test_upsert_query_filter_scroll_count_delete(store):
    store.upsert("styles", [
        (1, unit(1, 0, 0), {"campaign_id": 1, "visibility": "party"}),
        (2, unit(0.9, 0.1, 0), {"campaign_id": 1, "visibility": "dm"}),
        (3, unit(0, 1, 0), {"campaign_id": 2, "visibility": "party"}),
    ])
    hits = store.query("styles", unit(1, 0, 0), limit=3)
    assert [h.id for h in hits] == [1, 2, 3]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5) and hits[0].payload["campaign_id"] == 1
    seen = store.query("styles", unit(1, 0, 0), where={"campaign_id": 1,
                                                       "visibility": ["party", "public"]})
    assert [h.id for h in seen] == [1]
    assert store.count("styles") == 3 and store.count("styles", {"campaign_id": 2}) == 1
    points = store.points("styles", {"campaign_id": 1})
    assert [p.id for p in points] == [1, 2]
    assert points[0].vector == pytest.approx(unit(1, 0, 0), abs=1e-6)
    store.upsert("styles", [(3, unit(0, 0, 1), {"campaign_id": 2, "visibility": "party"})])
    assert store.query("styles", unit(0, 0, 1), limit=1)[0].id == 3  # replaced, not added
    store.delete("styles", [1, 3])
    assert store.count("styles") == 1


def test_edge_persists_and_indexes_in_the_background(tmp_path):
    store = EdgeVectors(tmp_path / "v")
    store.ensure_collection("c", 3, INDEXES)
    store.upsert("c", [(i, unit(1, i, 0), {"campaign_id": i % 2, "visibility": "party"})
                       for i in range(1, 200)])
    store.optimize_in_background("c").join(timeout=60)
    assert {"campaign_id", "visibility"} <= set(store._shard("c").info().payload_schema)
    assert store.query("c", unit(1, 1, 0), limit=1, where={"campaign_id": 1})[0].id == 1
    store.close()
    again = EdgeVectors(tmp_path / "v")
    again.ensure_collection("c", 3)
    assert again.count("c", {"campaign_id": 0}) == 99
    again.close()


def test_the_server_backend_needs_a_url(tmp_path):
    with pytest.raises(ValueError, match=r"vectors\.url"):
        VectorStore.open(VectorConfig(backend="server"), tmp_path)
    assert isinstance(VectorStore.open(VectorConfig(backend="server", url=":memory:"),
                                       tmp_path), ServerVectors)
