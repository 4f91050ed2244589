"""Redis Streams: one stream per priority that every consumer group reads (`XREADGROUP`),
a direct stream per group for replays and redrives, a dead-letter stream per group.

Delivery is at least once: the relay's `XADD` can repeat after a crash, and a consumer can
die between its commit and its `XACK`; the handlers' dedupe by event id makes each event
apply once. A failed delivery stays in the group's pending list and is claimed again when
it has been idle for its backoff (`XPENDING ... IDLE`, then `XCLAIM`: `XAUTOCLAIM` takes
everything past one idle time and counts a delivery for each, which would spend retries on
entries whose backoff has not run out). After `max_deliveries` it goes to the dead letters.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from redis.exceptions import ResponseError
from sqlalchemy.orm import Session

from cluster.events.config import HubSettings
from cluster.events.transport import DeadLetterOut, Delivery, GroupStats
from domain.events.envelope import PRIORITIES, Envelope
from domain.events.models import OutboxEvent

Entry = tuple[str, dict[str, str] | None]


class RedisTransport:
    name = "redis"

    def __init__(self, url: str, hub: HubSettings):
        self.redis = Redis.from_url(url, decode_responses=True)
        self.hub = hub
        self.prefix = hub.redis_prefix
        self._recovered_at: dict[str, float] = {}

    # --- keys ------------------------------------------------------------------------------

    def stream(self, priority: str) -> str:
        return f"{self.prefix}{priority}"

    def direct(self, group: str) -> str:
        return f"{self.prefix}direct:{group}"

    def dead(self, group: str) -> str:
        return f"{self.prefix}dead:{group}"

    def errors(self, group: str) -> str:
        return f"{self.prefix}errors:{group}"

    def streams(self, group: str) -> list[str]:
        """The streams a group reads, in the order it drains them."""
        return [*(self.stream(p) for p in PRIORITIES), self.direct(group)]

    # --- relay -----------------------------------------------------------------------------

    def ensure_group(self, group: str) -> None:
        for key in self.streams(group):
            try:  # from the stream's start: a new group gets what is still in it
                self.redis.xgroup_create(key, group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def publish(self, session: Session, rows: Sequence[OutboxEvent]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for row in rows:
            key = self.stream(row.priority if row.priority in PRIORITIES else "normal")
            self._add(pipe, key, Envelope.from_row(row))
        pipe.execute()

    def _add(self, pipe: Any, key: str, envelope: Envelope, **extra: Any) -> None:
        fields = {"e": envelope.model_dump_json(), **{k: str(v) for k, v in extra.items()}}
        pipe.xadd(key, fields, maxlen=self.hub.stream_maxlen, approximate=True)

    # --- consumers -------------------------------------------------------------------------

    def fetch(self, group: str, consumer: str, count: int) -> list[Delivery]:
        out = self._recover(group, consumer, count)
        room = count - len(out)
        if room <= 0:
            return out
        high = self.stream("high")
        read = self.redis.xreadgroup(group, consumer, {high: ">"}, count=room)
        if not read:  # nothing urgent: take from every stream, waiting a little if idle
            keys = dict.fromkeys(self.streams(group), ">")
            read = self.redis.xreadgroup(
                group, consumer, keys, count=room, block=None if out else self.hub.poll_ms
            )
        for key, entries in read or []:
            out.extend(self._deliveries(group, consumer, key, entries, {}))
        return out

    def _recover(self, group: str, consumer: str, count: int) -> list[Delivery]:
        """Claim the pending entries whose backoff has run out (failed, or held by a consumer
        that died); checked at most every half base backoff."""
        now = time.monotonic()
        if now - self._recovered_at.get(group, 0) < self.hub.retry_base_ms / 2000:
            return []
        self._recovered_at[group] = now
        out: list[Delivery] = []
        for key in self.streams(group):
            pending = self.redis.xpending_range(
                key, group, min="-", max="+", count=count, idle=self.hub.retry_base_ms
            )
            counts: dict[str, int] = {}
            for entry in pending:
                delivered = entry["times_delivered"]
                wait_ms = int(self.hub.backoff_s(delivered) * 1000)
                if entry["time_since_delivered"] < wait_ms:
                    continue
                # Claimed one by one, each with its own idle floor: of two consumers racing
                # for an entry only one gets it.
                if self.redis.xclaim(
                    key, group, consumer, wait_ms, [entry["message_id"]], justid=True
                ):
                    counts[entry["message_id"]] = delivered + 1
            if counts:
                entries = self.redis.xclaim(key, group, consumer, 0, list(counts))
                out.extend(self._deliveries(group, consumer, key, entries, counts))
        return out

    def _deliveries(
        self, group: str, consumer: str, key: str, entries: list[Entry], counts: dict[str, int]
    ) -> list[Delivery]:
        out = []
        for entry_id, fields in entries:
            if not fields:  # trimmed or deleted while pending: nothing left to deliver
                self.redis.xack(key, group, entry_id)
                continue
            envelope = Envelope.model_validate_json(fields["e"])
            delivered = counts.get(entry_id, 1)
            out.append(Delivery(envelope, delivered, (key, entry_id, group, consumer)))
        return out

    def ack_in(self, session: Session, deliveries: Sequence[Delivery]) -> None:
        return None  # Redis is not in the database transaction: `acked` after the commit

    def acked(self, deliveries: Sequence[Delivery]) -> None:
        """One round trip for a batch: an XACK per stream, and the entries' errors."""
        by_stream: dict[tuple[str, str], list[str]] = {}
        for delivery in deliveries:
            key, entry_id, group, _ = delivery.handle
            by_stream.setdefault((key, group), []).append(entry_id)
        if not by_stream:
            return
        pipe = self.redis.pipeline(transaction=False)
        for (key, group), ids in by_stream.items():
            pipe.xack(key, group, *ids)
            pipe.hdel(self.errors(group), *ids)
        pipe.execute()

    def retry(self, delivery: Delivery, error: str, *, counted: bool = True) -> None:
        key, entry_id, group, consumer = delivery.handle
        self.redis.hset(self.errors(group), entry_id, error)
        if not counted:  # give the delivery back; the claim also restarts its idle clock
            self.redis.xclaim(
                key,
                group,
                consumer,
                0,
                [entry_id],
                retrycount=max(0, delivery.deliveries - 1),
                justid=True,
            )

    def dead_letter(self, delivery: Delivery, error: str) -> None:
        key, entry_id, group, _ = delivery.handle
        pipe = self.redis.pipeline(transaction=True)
        self._add(
            pipe,
            self.dead(group),
            delivery.envelope,
            error=error,
            deliveries=delivery.deliveries,
            stream=key,
            entry=entry_id,
        )
        pipe.xack(key, group, entry_id)
        pipe.hdel(self.errors(group), entry_id)
        pipe.execute()

    def last_error(self, delivery: Delivery) -> str | None:
        _, entry_id, group, _ = delivery.handle
        return self.redis.hget(self.errors(group), entry_id)

    # --- operations ------------------------------------------------------------------------

    def stats(self, group: str) -> GroupStats:
        lag = pending = 0
        for key in self.streams(group):
            for info in self.redis.xinfo_groups(key):
                if info["name"] == group:
                    lag += info.get("lag") or 0  # None: entries were trimmed before reads
                    pending += info["pending"]
        retrying = self.redis.hlen(self.errors(group))
        return GroupStats(group, lag, pending, retrying, self.redis.xlen(self.dead(group)))

    def dead_letters(self, group: str, limit: int = 100) -> list[DeadLetterOut]:
        return [
            _dead_letter(group, entry_id, fields)
            for entry_id, fields in self.redis.xrevrange(self.dead(group), count=limit)
        ]

    def redrive(self, group: str, ids: Sequence[str] | None = None) -> int:
        dead = self.dead(group)
        if ids is None:
            entries = self.redis.xrange(dead)
        else:
            entries = [e for i in ids for e in self.redis.xrange(dead, i, i)]
        pipe = self.redis.pipeline(transaction=True)
        for entry_id, fields in entries:
            self._add(pipe, self.direct(group), Envelope.model_validate_json(fields["e"]))
            pipe.xdel(dead, entry_id)
        pipe.execute()
        return len(entries)

    def replay(self, group: str, envelopes: Sequence[Envelope]) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for envelope in envelopes:
            self._add(pipe, self.direct(group), envelope)
        pipe.execute()
        return len(envelopes)


def _dead_letter(group: str, entry_id: str, fields: dict[str, str]) -> DeadLetterOut:
    envelope = Envelope.model_validate_json(fields["e"])
    millis = int(entry_id.split("-", 1)[0])
    return DeadLetterOut(
        id=entry_id,
        group=group,
        seq=envelope.seq,
        event_id=str(envelope.id),
        type=envelope.type,
        error=fields.get("error", ""),
        deliveries=int(fields.get("deliveries", 0)),
        created_at=datetime.fromtimestamp(millis / 1000, UTC),
    )
