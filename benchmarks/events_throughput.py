"""The event hub end to end: outbox -> relay -> transport -> consumer -> handler.

1. Throughput: N events already in the outbox; a relay and a consumer (threads of this
   process) deliver them all; events/s from start to the last handled.
2. Latency at an offered rate (default 1,000 events/s): a producer commits 10 events every
   10 ms for `--seconds`; each event's delay from its commit time (`occurred_at`, set just
   before) to its handler; p50/p99/max.

The handler does no work of its own beyond the hub's: the dedupe row (`event_processed`) in
its transaction, so the numbers are the hub's cost. PostgreSQL, with Redis Streams and with
the database transport (`--transport redis|database|both`).

Run: .venv/bin/python benchmarks/events_throughput.py \
       [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/lk_events] \
       [--redis redis://127.0.0.1:6379/2] [--transport both] [--events 20000] \
       [--rate 1000] [--seconds 10] [--poll-ms 50]
It drops and recreates the database `<name>_bench`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from redis import Redis
from sqlalchemy import create_engine, insert, text

from cluster import migrate
from cluster.database import Database
from cluster.events.config import HubSettings
from cluster.events.hub import EventHub
from cluster.settings import Settings
from domain.events.handlers import ConsumerGroup, Handler
from domain.events.models import OutboxEvent
from domain.events.schemas import Event


class Tick(Event):
    type = "bench.tick"
    priority = "high"
    n: int


class Recorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.lock = threading.Lock()

    def handle(self, _session, event: Tick) -> None:
        delay = (datetime.now(UTC) - event.occurred_at).total_seconds()
        with self.lock:
            self.latencies.append(delay)

    def count(self) -> int:
        with self.lock:
            return len(self.latencies)


def fresh_database(url: str) -> str:
    base, name = url.rsplit("/", 1)
    name = f"{name}_bench"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    migrate.upgrade(f"{base}/{name}")
    return f"{base}/{name}"


def rows(events: list[Tick]) -> list[dict]:
    return [
        {
            "id": e.id,
            "type": e.type,
            "version": e.version,
            "priority": e.priority,
            "occurred_at": e.occurred_at,
            "actor_id": None,
            "campaign_id": None,
            "character_id": None,
            "visibility": "dm",
            "payload": e.payload(),
            "created_at": e.occurred_at,
        }
        for e in events
    ]


def make_hub(db: Database, args, recorder: Recorder, prefix: str) -> EventHub:
    settings = Settings(
        database_url=db.url, redis_url=args.redis if args.transport == "redis" else None
    )
    hub = HubSettings(poll_ms=args.poll_ms, batch=args.batch, redis_prefix=prefix)
    group = ConsumerGroup.of("bench", Handler(Tick, recorder.handle))
    return EventHub(db, settings, hub, groups=[group])


def wait_for(recorder: Recorder, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while recorder.count() < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {recorder.count()} of {n} handled after {timeout} s")
        time.sleep(0.01)


def throughput(db: Database, args, prefix: str) -> float:
    with db.session() as session:
        for start in range(0, args.events, 1000):
            batch = [Tick(n=i) for i in range(start, min(args.events, start + 1000))]
            session.execute(insert(OutboxEvent), rows(batch))
    recorder = Recorder()
    hub = make_hub(db, args, recorder, prefix)
    began = time.perf_counter()
    hub.start()
    wait_for(recorder, args.events, 600)
    elapsed = time.perf_counter() - began
    hub.stop()
    return args.events / elapsed


def latency(db: Database, args, prefix: str) -> tuple[list[float], float]:
    recorder = Recorder()
    hub = make_hub(db, args, recorder, prefix)
    hub.start()
    per_tick, tick_s = max(1, args.rate // 100), 0.01
    total = per_tick * int(args.seconds / tick_s)
    began = time.perf_counter()
    for t in range(int(args.seconds / tick_s)):
        with db.session() as session:  # occurred_at is set here, just before the commit
            session.execute(insert(OutboxEvent), rows([Tick(n=t) for _ in range(per_tick)]))
        delay = began + (t + 1) * tick_s - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    offered = total / (time.perf_counter() - began)
    wait_for(recorder, total, 600)
    hub.stop()
    return recorder.latencies, offered


def run(args, transport: str) -> tuple[float, list[float], float]:
    args.transport = transport
    prefix = f"lk-bench:{uuid.uuid4().hex[:8]}:"
    db = Database(fresh_database(args.postgres))
    try:
        rate = throughput(db, args, prefix + "t:")
        lat, offered = latency(db, args, prefix + "l:")
    finally:
        db.dispose()
        if transport == "redis":
            redis = Redis.from_url(args.redis)
            keys = list(redis.scan_iter(f"{prefix}*"))
            if keys:
                redis.delete(*keys)
    return rate, sorted(x * 1000 for x in lat), offered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/lk_events"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--transport", choices=["redis", "database", "both"], default="both")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--poll-ms", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    transports = ["redis", "database"] if args.transport == "both" else [args.transport]
    results = {t: run(args, t) for t in transports}
    print(f"$ .venv/bin/python benchmarks/events_throughput.py {' '.join(sys.argv[1:])}\n")
    print(
        f"| transport | events/s end to end ({args.events:,} queued) | offered events/s | "
        "delivered | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|"
    )
    for transport, (rate, lat_ms, offered) in results.items():
        p99 = lat_ms[min(len(lat_ms) - 1, int(len(lat_ms) * 0.99))]
        print(
            f"| {transport} | {rate:,.0f} | {offered:,.0f} for {args.seconds:g} s | "
            f"{len(lat_ms):,} | {statistics.median(lat_ms):.0f} | {p99:.0f} | {lat_ms[-1]:.0f} |"
        )
    print(f"\n(poll {args.poll_ms} ms, batch {args.batch}; PostgreSQL and Redis on this host)")


if __name__ == "__main__":
    main()
