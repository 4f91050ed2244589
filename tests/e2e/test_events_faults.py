"""Faults: the relay and a consumer, each in a process of its own
(`python -m cluster.events.worker`), are killed with SIGKILL mid-stream and restarted while
a producer keeps writing XP awards. Every event is applied exactly once: none lost, none
twice. On PostgreSQL, with each transport (the database queue, and the real Redis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from cluster import migrate
from cluster.database import Database
from domain.campaigns.events import XpAwarded
from domain.characters.examples import EXAMPLE_2024
from domain.characters.models import Character, XpAward
from domain.characters.service import CharacterService
from domain.events.models import DeadLetter, OutboxEvent, ProcessedEvent
from domain.sheet import CharacterDoc
from domain.users.bootstrap import create_or_promote_admin
from domain.users.schemas import Principal
from tests.conftest import POSTGRES_URL
from tests.events_support import REDIS_URL, clear_redis, emit

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EVENTS = 200
CHARACTERS = 4


def _fresh_database() -> str:
    base, name = POSTGRES_URL.rsplit("/", 1)
    name = f"{name}_faults"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{base}/{name}"


class Worker:
    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cluster.events.worker", *self.args],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill9(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-2000:]
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _count(db: Database, what) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(what)) or 0


def _published(db: Database) -> int:
    with db.session() as session:
        return (
            session.scalar(select(func.count()).where(OutboxEvent.published_at.is_not(None))) or 0
        )


def _wait(condition, timeout: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs)
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.05)


@pytest.mark.parametrize("transport", ["database", "redis"])
def test_kill_9_of_relay_and_consumer_loses_nothing_and_applies_nothing_twice(transport, tmp_path):
    url = _fresh_database()
    migrate.upgrade(url)
    db = Database(url)
    with db.session() as session:
        dm, _ = create_or_promote_admin(session, "dm-of-faults", lambda: "a long password")
    with db.session() as session:
        service = CharacterService(session, Principal(dm.id, "admin"))
        doc = CharacterDoc.model_validate(EXAMPLE_2024)
        chars = [service.create(doc).id for _ in range(CHARACTERS)]

    prefix = f"lk-faults:{uuid.uuid4().hex[:8]}:"
    env = {
        "LOREKEEPER_DATABASE_URL": url,
        "LOREKEEPER_DATA_DIR": str(tmp_path),
        "LOREKEEPER_EVENTS_REDIS_PREFIX": prefix,
        "LOREKEEPER_EVENTS_BATCH": "5",  # small rounds, so a kill lands mid-stream
        "LOREKEEPER_EVENTS_LEASE_S": "2",  # the dead consumer's leases come back soon
        "LOREKEEPER_EVENTS_RETRY_BASE_MS": "300",
        "LOREKEEPER_LOG_LEVEL": "WARNING",
    }
    if transport == "redis":
        env["LOREKEEPER_REDIS_URL"] = REDIS_URL
    else:
        env["LOREKEEPER_REDIS_URL"] = ""
    relay = Worker(["--no-consumers"], env, tmp_path / "relay.log")
    consumer = Worker(["--no-relay"], env, tmp_path / "consumer.log")
    logs = [relay.log, consumer.log]

    def produce() -> None:  # about 30 events/s, each in its own transaction
        for i in range(EVENTS):
            emit(
                db,
                XpAwarded(
                    campaign_id=1,
                    character_id=chars[i % CHARACTERS],
                    actor_id=dm.id,
                    amount=1 + i % 7,
                    reason=f"award {i}",
                ),
            )
            time.sleep(0.03)

    producer = threading.Thread(target=produce)
    try:
        relay.start()
        consumer.start()
        producer.start()
        _wait(lambda: _published(db) >= 40, 90, "40 events published", logs)
        relay.kill9()
        assert producer.is_alive(), "the producer finished before the relay's kill"
        time.sleep(0.5)
        relay.start()
        _wait(lambda: _count(db, XpAward) >= 30, 90, "30 awards applied", logs)
        consumer.kill9()
        applied_at_kill = _count(db, XpAward)
        time.sleep(0.5)
        consumer.start()
        producer.join()
        _wait(lambda: _count(db, XpAward) >= EVENTS, 120, f"{EVENTS} awards applied", logs)
        time.sleep(3)  # redeliveries of anything the dead consumer held have come and gone
    finally:
        relay.stop()
        consumer.stop()
        if transport == "redis":
            clear_redis(prefix)

    assert applied_at_kill < EVENTS
    assert _count(db, XpAward) == EVENTS
    assert _count(db, ProcessedEvent) == EVENTS
    assert _count(db, DeadLetter) == 0
    with db.session() as session:
        xp = dict(
            session.execute(select(Character.id, Character.document["xp"].as_integer())).all()
        )
    expected = {c: 900 for c in chars}
    for i in range(EVENTS):
        expected[chars[i % CHARACTERS]] += 1 + i % 7
    assert xp == expected
    db.dispose()
