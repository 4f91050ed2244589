"""Campaigns: the timeline of a campaign with 10,000 events, and the live stream's fan-out.

The server is `lorekeeper serve-local` (every application in one uvicorn process) on a
PostgreSQL database of its own; the load comes from this process.

1. Timeline: a campaign with `--events` timeline entries (in-world events, one in 20 a game
   session; 70% party, 20% DM-only, 10% private to a player; placed in 3 regions of 4 cities
   of 3 sites, 10 factions): places and factions through the campaign service, the
   entries in bulk as it writes them (`record_row`). `GET /{id}/timeline` in
   five shapes, as the DM and as a player, one request at a time: p50/p99.
2. SSE fan-out: `--subscribers` streams of `GET /{id}/events` (the DM and 5 players), then
   `--fanout-events` events committed one by one, 0.2-0.5 s apart: for each, the time from
   its commit to its arrival at every subscriber (p50/p99 of the last arrival, and of single
   deliveries), and the server's CPU while the streams sit idle.

Run: .venv/bin/python -m benchmarks.campaigns_events \\
       [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/lk_events] \\
       [--events 10000] [--requests 200] [--subscribers 100] [--fanout-events 40]
It drops and recreates the database `<name>_campaigns_bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from benchmarks.harness import Server
from cluster import migrate
from cluster.database import Database
from domain.campaigns.events import CampaignChanged
from domain.campaigns.messages import RecordIn
from domain.campaigns.models import CampaignRecord, CampaignRecordRef, CampaignRecordVersion
from domain.campaigns.records import KINDS, Body, real_at
from domain.campaigns.services import Campaigns
from domain.db import utcnow
from domain.events import outbox
from domain.users.schemas import Principal
from tests.support import free_port

BASE = "/api/v2/campaigns"
PLAYERS = 5


def fresh_database(url: str) -> str:
    base, name = url.rsplit("/", 1)
    name = f"{name}_campaigns_bench"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    migrate.upgrade(f"{base}/{name}")
    return f"{base}/{name}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Api:
    def __init__(self, base: str, name: str, admin: Api | None = None, role: str = ""):
        creds = {"username": name, "password": "benchmark-password"}
        r = httpx.post(f"{base}/api/v2/auth/register", json=creds, timeout=60)
        r.raise_for_status()
        self.id = r.json()["id"]
        if admin is not None:
            admin.put(f"/api/v2/auth/users/{self.id}/role", {"role": role})
        r = httpx.post(f"{base}/api/v2/auth/login", json=creds, timeout=60)
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        self.base = base

    def post(self, path: str, body: dict) -> dict:
        r = httpx.post(self.base + path, json=body, headers=self.headers, timeout=60)
        r.raise_for_status()
        return r.json()

    def put(self, path: str, body: dict) -> dict:
        r = httpx.put(self.base + path, json=body, headers=self.headers, timeout=60)
        r.raise_for_status()
        return r.json()


def build_campaign(db: Database, dm_id: int, player_ids: list[int], cid: int, n: int):
    """Places, factions and `n` timeline entries, through the campaign service."""
    principal = Principal(dm_id, "dm")

    def create(svc: Campaigns, kind: str, body: dict, visibility: str = "party") -> int:
        return svc.records.create(cid, RecordIn(kind=kind, visibility=visibility, body=body)).id

    with db.session() as session:
        svc = Campaigns(session, principal)
        regions, cities, sites = [], [], []
        for r in range(3):
            regions.append(create(svc, "location", {"name": f"Region {r}", "kind": "region"}))
            for c in range(4):
                city = create(
                    svc,
                    "location",
                    {"name": f"City {r}.{c}", "kind": "city", "parent_id": regions[-1]},
                )
                cities.append(city)
                for s in range(3):
                    sites.append(
                        create(
                            svc,
                            "location",
                            {"name": f"Site {r}.{c}.{s}", "kind": "site", "parent_id": city},
                        )
                    )
        factions = [create(svc, "faction", {"name": f"Faction {f}"}) for f in range(10)]
    rng = random.Random(7)
    made = 0
    while made < n:
        with db.session() as session:
            rows: list[tuple[CampaignRecord, Body]] = []
            for _ in range(min(1000, n - made)):
                made += 1
                roll = rng.random()
                visibility = (
                    "party"
                    if roll < 0.7
                    else "dm"
                    if roll < 0.9
                    else f"player:{rng.choice(player_ids)}"
                )
                date = {
                    "year": 1400 + made // 100,
                    "month": rng.randint(1, 12),
                    "day": rng.randint(1, 28),
                }
                place = rng.choice(sites + cities)
                if made % 20 == 0:
                    kind, data = (
                        "session",
                        {
                            "title": f"Session {made // 20}",
                            "date": f"2026-{1 + made % 12:02d}-01",
                            "in_world": date,
                            "location_id": place,
                        },
                    )
                else:
                    kind, data = (
                        "event",
                        {
                            "title": f"Event {made}",
                            "summary": "Something happened.",
                            "date": date,
                            "location_id": place,
                            "faction_ids": rng.sample(factions, 2),
                        },
                    )
                rows.append(record_row(cid, dm_id, kind, data, visibility))
            session.add_all(row for row, _ in rows)
            session.flush()
            session.add_all(
                CampaignRecordVersion(
                    record_id=row.id,
                    number=1,
                    visibility=row.visibility,
                    body=row.body,
                    author_id=dm_id,
                    reason="created",
                )
                for row, _ in rows
            )
            session.add_all(
                CampaignRecordRef(record_id=row.id, ref=ref)
                for row, body in rows
                for ref in sorted(body.refs())
            )
    return regions, factions


def record_row(
    cid: int, author: int, kind: str, data: dict, visibility: str
) -> tuple[CampaignRecord, Body]:
    """A timeline entry as the campaign service writes it (its body checked by the kind's
    schema, the sortable in-world date, a session's real date); written in bulk, as 10,000
    one by one through the service take several minutes on this machine."""
    body = KINDS[kind].model_validate(data)
    date = body.world_date()
    now = utcnow()
    row = CampaignRecord(
        campaign_id=cid,
        kind=kind,
        name=body.label()[:200],
        visibility=visibility,
        version=1,
        body=body.model_dump(mode="json"),
        author_id=author,
        created_at=now,
        updated_at=now,
        world_at=date.ordinal if date else None,
        real_at=real_at(body),
    )
    return row, body


def timeline(base: str, users: dict[str, Api], cid: int, regions, factions, requests: int):
    shapes = {
        "first page (50)": "",
        "page at offset 5,000": "&offset=5000",
        "in-world range (10 years)": "&world_from=1450-1-1&world_to=1459-12-28",
        "location (a region and all inside)": f"&location={regions[0]}",
        "faction": f"&faction={factions[0]}",
    }
    rows = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for who, user in users.items():
            for name, query in shapes.items():
                url = f"{BASE}/{cid}/timeline?limit=50{query}"
                total = client.get(url, headers=user.headers).json()["total"]
                for _ in range(10):  # warm-up
                    client.get(url, headers=user.headers)
                times = []
                for _ in range(requests):
                    began = time.perf_counter()
                    r = client.get(url, headers=user.headers)
                    times.append((time.perf_counter() - began) * 1000)
                    assert r.status_code == 200, r.text
                rows.append((who, name, total, statistics.median(times), percentile(times, 0.99)))
    return rows


async def fanout(
    base: str,
    db: Database,
    dm: Api,
    players: list[Api],
    cid: int,
    subs: int,
    events: int,
    server_pid: int,
):
    users = [dm, *players]
    arrivals: dict[int, list[float]] = {}  # event number -> arrival times
    ready = 0
    head = httpx.get(f"{base}{BASE}/{cid}/events", headers=dm.headers).json()["last_seq"]

    async def subscribe(client: httpx.AsyncClient, user: Api) -> None:
        nonlocal ready
        headers = {**user.headers, "Accept": "text/event-stream", "Last-Event-ID": str(head)}
        async with client.stream("GET", f"{BASE}/{cid}/events?timeout=600", headers=headers) as r:
            async for line in r.aiter_lines():
                if line == ": connected":
                    ready += 1
                elif line.startswith("data: "):
                    now = time.perf_counter()
                    summary = json.loads(line[6:])["payload"].get("summary", "")
                    if summary.startswith("fanout "):
                        arrivals.setdefault(int(summary[7:]), []).append(now)

    limits = httpx.Limits(max_connections=subs + 10)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=None) as client:
        tasks = [asyncio.create_task(subscribe(client, users[i % len(users)])) for i in range(subs)]
        while ready < subs:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)
        cpu_before, idle_began = cpu_seconds(server_pid), time.perf_counter()
        await asyncio.sleep(10)
        idle_cpu = (cpu_seconds(server_pid) - cpu_before) / (time.perf_counter() - idle_began)

        committed: dict[int, float] = {}
        for n in range(events):

            def commit(n: int = n) -> None:
                with db.session() as session:
                    outbox.record(
                        session,
                        CampaignChanged(
                            campaign_id=cid,
                            actor_id=dm.id,
                            kind="npc",
                            action="updated",
                            summary=f"fanout {n}",
                            visibility="party",
                        ),
                    )

            await asyncio.to_thread(commit)
            committed[n] = time.perf_counter()
            await asyncio.sleep(random.uniform(0.2, 0.5))
        deadline = time.perf_counter() + 10
        while any(len(arrivals.get(n, [])) < subs for n in committed):
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    complete = [n for n in committed if len(arrivals.get(n, [])) == subs]
    last = [(max(arrivals[n]) - committed[n]) * 1000 for n in complete]
    each = [(t - committed[n]) * 1000 for n in complete for t in arrivals[n]]
    return len(complete), last, each, idle_cpu


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/lk_events"
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--fanout-events", type=int, default=40)
    args = parser.parse_args()

    url = fresh_database(args.postgres)
    db = Database(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="lk-campaigns-bench-")
    env = {
        "LOREKEEPER_DATABASE_URL": url,
        "LOREKEEPER_DATA_DIR": data,
        "LOREKEEPER_REDIS_URL": "",
        "LOREKEEPER_LOG_LEVEL": "WARNING",
    }
    server = Server(["serve-local", "--port", str(port)], env, Path(data) / "server.log")
    try:
        server.wait_ready(base)
        admin = Api(base, "bench-admin")
        dm = Api(base, "bench-dm", admin, "dm")
        players = [Api(base, f"bench-player-{i}") for i in range(PLAYERS)]
        cid = dm.post(BASE, {"name": "Bench campaign", "ruleset": "2024"})["id"]
        for p in players:
            dm.post(f"{BASE}/{cid}/members", {"user_id": p.id})
        began = time.perf_counter()
        regions, factions = build_campaign(db, dm.id, [p.id for p in players], cid, args.events)
        with db.engine.connect() as conn:  # what autovacuum does after a bulk load
            conn.execute(text("ANALYZE"))
        print(
            f"built {args.events} timeline entries in {time.perf_counter() - began:.0f} s",
            file=sys.stderr,
        )
        rows = timeline(
            base, {"DM": dm, "player": players[0]}, cid, regions, factions, args.requests
        )
        done, last, each, idle_cpu = asyncio.run(
            fanout(
                base, db, dm, players, cid, args.subscribers, args.fanout_events, server.proc.pid
            )
        )
    finally:
        server.stop()
        db.dispose()

    print(f"$ {' '.join(['.venv/bin/python -m benchmarks.campaigns_events', *sys.argv[1:]])}")
    print(
        f"\nTimeline of a campaign with {args.events:,} entries, {args.requests} requests "
        "each, one at a time:\n"
    )
    print("| caller | query | matches | p50 ms | p99 ms |\n|---|---|---|---|---|")
    for who, name, total, p50, p99 in rows:
        print(f"| {who} | {name} | {total:,} | {p50:.1f} | {p99:.1f} |")
    print(
        f"\nSSE fan-out: {args.subscribers} subscribers of one campaign "
        f"({PLAYERS} players and the DM), {args.fanout_events} events:\n"
    )
    print("| measure | p50 ms | p99 ms |\n|---|---|---|")
    print(
        f"| commit to the last of {args.subscribers} subscribers | "
        f"{statistics.median(last):.0f} | {percentile(last, 0.99):.0f} |"
    )
    print(
        f"| commit to each subscriber | {statistics.median(each):.0f} | "
        f"{percentile(each, 0.99):.0f} |"
    )
    print(
        f"\n{done} of {args.fanout_events} events reached all {args.subscribers}; server CPU "
        f"with the {args.subscribers} streams idle: {idle_cpu * 100:.1f}% of a core."
    )


if __name__ == "__main__":
    main()
