"""Delivery through the event hub on both transports (the database queue and the real Redis):
awards reaching characters, dedupe, retry, dead letters and redrive, replay, priorities and
the circuit breaker. The same handlers run on both."""

from __future__ import annotations

import pytest
from sqlalchemy import event as sqla_event
from sqlalchemy import func, select, update

from domain.campaigns.events import ItemAwarded, XpAwarded
from domain.characters.examples import EXAMPLE_2024
from domain.errors import Unavailable
from domain.events import outbox
from domain.events.handlers import ConsumerGroup, Handler
from domain.events.models import OutboxEvent
from domain.events.schemas import Event
from tests import events_support
from tests.events_support import emit, settle

make_hub = events_support.make_hub  # the fixture: a hub on each transport


def _character(api) -> int:
    r = api.post("/api/v2/characters", json=EXAMPLE_2024)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _award(dm, character_id: int, amount: int = 1800, **kw) -> XpAwarded:
    return XpAwarded(
        campaign_id=1,
        character_id=character_id,
        actor_id=dm.user_id,
        visibility="party",
        amount=amount,
        reason="the red dragon",
        session_id=7,
        **kw,
    )


def test_a_session_award_levels_the_character_up_and_the_item_lands(make_hub, db, player, dm):
    hub = make_hub()
    char = _character(player)
    emit(
        db,
        _award(dm, char),
        ItemAwarded(
            campaign_id=1,
            character_id=char,
            actor_id=dm.user_id,
            visibility="party",
            session_id=7,
            item={"item": "potion-of-healing", "quantity": 2},
        ),
    )
    assert hub.drain() == 2

    history = player.get(f"/api/v2/characters/{char}/xp").json()
    assert [(h["amount"], h["level_before"], h["level_after"]) for h in history] == [(1800, 3, 4)]
    assert history[0]["reason"] == "campaign 1, session 7: the red dragon"
    assert history[0]["author_id"] == dm.user_id
    doc = player.get(f"/api/v2/characters/{char}").json()
    assert doc["derived"]["total_level"] == 4 and doc["version"] == 3
    potions = [i for i in doc["document"]["inventory"] if i["item"] == "potion-of-healing"]
    assert [(p["quantity"], p["equipped"], p["container"]) for p in potions] == [(2, False, None)]
    assert hub.drain() == 0  # acknowledged: nothing comes back
    assert [s.model_dump(include={"lag", "pending", "dead"}) for s in hub.status()] == [
        {"lag": 0, "pending": 0, "dead": 0}
    ]


def test_an_event_published_or_replayed_again_applies_once(make_hub, db, player, dm):
    hub = make_hub()
    char = _character(player)
    emit(db, _award(dm, char, amount=100), _award(dm, char, amount=200))
    hub.drain()
    # The relay died after publishing and before marking the rows: it publishes them again.
    with db.session() as session:
        session.execute(update(OutboxEvent).values(published_at=None))
    assert hub.relay.publish_once() == 2
    hub.drain()
    assert hub.replay("characters", "1") == 2  # an operator replays the whole log
    hub.drain()
    history = player.get(f"/api/v2/characters/{char}/xp").json()
    assert [h["amount"] for h in history] == [100, 200]
    assert player.get(f"/api/v2/characters/{char}").json()["document"]["xp"] == 1200


def test_a_poison_event_is_dead_lettered_with_its_error_and_the_rest_flow(
    make_hub, db, admin, player, dm
):
    hub = make_hub()
    char = _character(player)
    unknown = ItemAwarded(
        campaign_id=1,
        character_id=char,
        actor_id=dm.user_id,
        visibility="party",
        item={"item": "sword-of-later"},
    )
    emit(db, unknown, _award(dm, char, amount=100), _award(dm, 424242, amount=5))
    settle(hub, lambda: hub.status()[0].dead == 2)

    assert [h["amount"] for h in player.get(f"/api/v2/characters/{char}/xp").json()] == [100]
    letters = {d.event_id: d for d in hub.dead_letters("characters")}
    assert letters.keys() == {str(unknown.id), str(_event_id(db, 3))}
    assert "sword-of-later" in letters[str(unknown.id)].error
    assert letters[str(unknown.id)].deliveries == 3  # max_deliveries
    assert "There is no character 424242" in letters[str(_event_id(db, 3))].error

    # The fix (the item exists now), then the redrive of that one dead letter.
    r = admin.post(
        "/api/v2/rules/2024/homebrew",
        json={"kind": "item", "slug": "sword-of-later", "name": "Sword of Later", "weight": 3},
    )
    assert r.status_code == 201, r.text
    assert hub.redrive("characters", [letters[str(unknown.id)].id]) == 1
    settle(hub, lambda: hub.status()[0].lag == 0)
    inventory = player.get(f"/api/v2/characters/{char}").json()["document"]["inventory"]
    assert any(i["item"] == "sword-of-later" for i in inventory)
    assert [d.event_id for d in hub.dead_letters("characters")] == [str(_event_id(db, 3))]


def test_a_failed_delivery_is_retried_after_a_backoff(make_hub, db, admin, player, dm):
    hub = make_hub(retry_base_ms=500, retry_max_ms=500, max_deliveries=5)
    char = _character(player)
    emit(
        db,
        ItemAwarded(
            campaign_id=1,
            character_id=char,
            actor_id=dm.user_id,
            visibility="party",
            item={"item": "lantern-of-soon"},
        ),
    )
    hub.drain()
    assert hub.status()[0].retrying == 1
    assert hub.drain() == 0  # not before its backoff
    admin.post(
        "/api/v2/rules/2024/homebrew",
        json={"kind": "item", "slug": "lantern-of-soon", "name": "Lantern", "weight": 1},
    )
    # Nothing left anywhere: `retrying` alone reads 0 once the backoff is over and before the
    # redelivery is taken (on the database transport).
    settle(hub, lambda: _idle(hub.status()[0]))
    inventory = player.get(f"/api/v2/characters/{char}").json()["document"]["inventory"]
    assert any(i["item"] == "lantern-of-soon" for i in inventory)
    assert hub.status()[0].dead == 0


def _idle(status) -> bool:
    return status.lag == 0 and status.pending == 0 and status.retrying == 0


class Reindexed(Event):
    type = "test.reindexed"
    n: int


class Awarded(Event):
    type = "test.awarded"
    priority = "high"
    n: int


def test_high_priority_events_are_handled_before_bulk_work(make_hub, db):
    seen: list[str] = []
    group = ConsumerGroup.of(
        "ordering",
        Handler(Reindexed, lambda _s, e: seen.append(f"bulk{e.n}")),
        Handler(Awarded, lambda _s, e: seen.append(f"award{e.n}")),
    )
    hub = make_hub(groups=[group], batch=5)
    emit(db, *(Reindexed(n=i) for i in range(30)))
    emit(db, *(Awarded(n=i) for i in range(5)))
    while hub.relay.publish_once():
        pass
    hub.consumers[0].poll_once()
    assert seen == [f"award{i}" for i in range(5)]
    hub.drain()
    assert len(seen) == 35 and len(set(seen)) == 35


def test_the_circuit_breaker_opens_and_the_events_wait(make_hub, db):
    calls: list[int] = []
    outage = [True]

    def downstream(_session, event: Reindexed) -> None:
        calls.append(event.n)
        if outage[0]:
            raise Unavailable("the downstream service is not answering")

    group = ConsumerGroup.of("fragile", Handler(Reindexed, downstream))
    hub = make_hub(groups=[group], max_deliveries=2)
    emit(db, *(Reindexed(n=i) for i in range(6)))
    hub.drain()
    consumer = hub.consumers[0]
    assert consumer.breaker.state == "open"
    assert len(calls) == 2  # breaker_failures; the other four were not tried
    assert consumer.poll_once() == 0  # open: nothing is taken

    outage[0] = False
    settle(hub, lambda: sorted(set(calls)) == list(range(6)) and hub.status()[0].lag == 0)
    assert consumer.breaker.state == "closed"
    stats = hub.status()[0]
    # Downstream failures spent no deliveries: nothing was dead-lettered (max_deliveries=2).
    assert stats.dead == 0 and stats.pending == 0


def test_a_failed_transaction_publishes_nothing(make_hub, db, player, dm):
    hub = make_hub()
    char = _character(player)
    with pytest.raises(RuntimeError):
        emit(db, _award(dm, char), _not_an_event())
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
    assert hub.drain() == 0
    assert player.get(f"/api/v2/characters/{char}/xp").json() == []


def _not_an_event():
    raise RuntimeError("the change failed after its event was recorded")


def _event_id(db, seq_rank: int):
    """The id of the n-th logged event (1-based)."""
    with db.session() as session:
        return session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.seq)).all()[seq_rank - 1]


def test_a_batch_commits_once_and_a_failing_handler_rolls_back_alone(make_hub, db):
    calls: list[int] = []

    def handle(session, event: Reindexed) -> None:
        calls.append(event.n)
        outbox.record(session, Awarded(n=event.n))  # the handler's effect
        if event.n == 7:
            raise ValueError("event 7 is poison")

    group = ConsumerGroup.of("batched", Handler(Reindexed, handle))
    hub = make_hub(groups=[group], batch=50, retry_base_ms=60_000, retry_max_ms=60_000)
    emit(db, *(Reindexed(n=i) for i in range(20)))
    assert hub.relay.publish_once() == 20
    commits: list[object] = []

    def count(conn) -> None:
        commits.append(conn)

    sqla_event.listen(db.engine, "commit", count)
    try:
        assert hub.consumers[0].poll_once() == 20
    finally:
        sqla_event.remove(db.engine, "commit", count)

    assert sorted(calls) == list(range(20))
    with db.session() as session:
        effects = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.type == Awarded.type)
        ).all()
    assert sorted(p["n"] for p in effects) == [i for i in range(20) if i != 7]
    stats = hub.status()[0]
    assert stats.dead == 0 and stats.retrying == 1  # 7 alone, waiting for its backoff
    if db.engine.dialect.name == "postgresql":
        # The 19 handlers and their acknowledgements in one transaction (the database
        # transport adds its lease and the retry of 7); one per event before.
        assert len(commits) <= 3, commits


def test_an_event_twice_in_one_batch_applies_once(make_hub, db):
    calls: list[int] = []
    group = ConsumerGroup.of("twice", Handler(Reindexed, lambda _s, e: calls.append(e.n)))
    hub = make_hub(groups=[group])
    if hub.transport.name != "redis":
        pytest.skip("the database transport queues an event once per group")
    emit(db, Reindexed(n=1), Reindexed(n=2))
    assert hub.relay.publish_once() == 2
    with db.session() as session:  # the relay died before marking them: they go again
        session.execute(update(OutboxEvent).values(published_at=None))
    assert hub.relay.publish_once() == 2
    assert hub.consumers[0].poll_once() == 4  # both copies in one batch
    assert sorted(calls) == [1, 2]
    assert hub.drain() == 0 and hub.status()[0].pending == 0
