"""The campaign SSE stream's shared poller: one read of the event log per poll serves every
subscriber of a campaign on the replica, each filtered by its own access, and a member
removed mid-stream is cut off before the next event."""

from __future__ import annotations

import json
import threading
import time

from fastapi.testclient import TestClient
from sqlalchemy import event

from deployments.apps import compose_local
from deployments.campaigns.live import QUEUE, Batch, Subscriber
from tests.support import Api, signup

BASE = "/api/v2/campaigns"


def _read(user: Api, url: str, after: int, out: list[dict]) -> None:
    headers = {**user.headers, "Accept": "text/event-stream", "Last-Event-ID": str(after)}
    with user.client.stream("GET", url, headers=headers) as r:
        assert r.status_code == 200
        current: dict = {}
        for line in r.iter_lines():
            if line.startswith(("id: ", "event: ", "data: ")):
                key, value = line.split(": ", 1)
                current[key] = json.loads(value) if key == "data" else value
            elif line == "" and current:
                out.append(current)
                current = {}


def _add(dm: Api, cid: int, name: str, visibility: str) -> None:
    r = dm.post(
        f"{BASE}/{cid}/records",
        json={"kind": "npc", "visibility": visibility, "body": {"name": name}},
    )
    assert r.status_code == 201, r.text


def _names(events: list[dict]) -> set[str]:
    return {
        name
        for e in events
        for name in ("Ismark", "Vampire", "Whisper", "Later")
        if name in json.dumps(e.get("data", ""))
    }


def test_one_poll_serves_every_subscriber_each_with_its_own_view(db, settings, wait=0.2):
    app, ingresses = compose_local(settings, db)
    feeds = ingresses["campaigns"].feeds
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = signup(client, "admin-user")
        dm = signup(client, "dungeon-master", granted_by=admin, role="dm")
        one, two = signup(client, "player-one"), signup(client, "player-two")
        r = dm.post(BASE, json={"name": "Curse of Strahd", "ruleset": "2024"})
        cid = r.json()["id"]
        for p in (one, two):
            assert dm.post(f"{BASE}/{cid}/members", json={"user_id": p.user_id}).status_code == 201
        start = dm.get(f"{BASE}/{cid}/events").json()["last_seq"]

        # Four subscribers (player one twice: two tabs), one feed.
        readers = {"dm": dm, "one": one, "one-again": one, "two": two}
        seen: dict[str, list[dict]] = {name: [] for name in readers}
        threads = [
            threading.Thread(
                target=_read, args=(user, f"{BASE}/{cid}/events?timeout=6", start, seen[name])
            )
            for name, user in readers.items()
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 5
        while cid not in feeds.feeds or len(feeds.feeds[cid].subscribers) < 4:
            assert time.monotonic() < deadline, "the subscribers did not register"
            time.sleep(0.02)
        assert len(feeds.feeds) == 1

        # While they wait, the log is read once per poll, not once per subscriber.
        reads: list[str] = []

        def count(_conn, _cursor, statement, *_args):
            if "FROM event_outbox" in statement:
                reads.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            time.sleep(2)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert 2 <= len(reads) <= 6  # 2 s / 0.5 s polls; one poller per subscriber makes 16

        _add(dm, cid, "Ismark", "party")
        _add(dm, cid, "Vampire", "dm")
        _add(dm, cid, "Whisper", f"player:{one.user_id}")
        time.sleep(1)  # delivered live
        assert {k: _names(v) for k, v in seen.items()} == {
            "dm": {"Ismark", "Vampire", "Whisper"},
            "one": {"Ismark", "Whisper"},
            "one-again": {"Ismark", "Whisper"},
            "two": {"Ismark"},
        }
        r = dm.delete(f"{BASE}/{cid}/members/{two.user_id}")
        assert r.status_code == 204, r.text
        _add(dm, cid, "Later", "party")
        for t in threads:
            t.join(15)

    assert seen["two"][-1] == {"event": "error", "data": {"code": "not_found"}}
    assert "Later" not in _names(seen["two"])
    assert "Later" in _names(seen["one"]) and "Later" in _names(seen["dm"])
    ids = [e["id"] for e in seen["one"] if "id" in e]
    assert ids == sorted(set(ids))  # in order, none twice
    assert not feeds.feeds  # the last subscriber gone, the feed stopped


def test_a_subscriber_that_falls_behind_is_told_to_catch_up():
    sub = Subscriber(1, 2, "player")
    for n in range(QUEUE):
        sub.push(Batch([(n, "party", "")], "player"))
    assert not sub.lagged and sub.queue.qsize() == QUEUE
    sub.push(Batch([(QUEUE, "party", "")], "player"))
    assert sub.lagged and sub.queue.empty()  # it reads the log itself from where it was
