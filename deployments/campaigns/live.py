"""One shared poller per campaign per replica for the live event stream.

Every SSE subscriber of a campaign registers with its campaign's `Feed`. The feed reads the
event log once per poll for all of them (`CampaignLog.read`: the new events and each
subscriber's current role, in one transaction), renders each event once, and hands the batch
to every subscriber's queue. A subscriber filters with its own `CampaignAccess`, rebuilt from
the role of that poll: a removed member gets `None` and its stream ends with an `error`
event. So 100 subscribers of one campaign cost one database call per poll, not 100.

A subscriber catches up on its own reads first (resume, and a queue that overflowed); the
feed's batches then carry it, and it skips what it already sent by `seq`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import anyio

from cluster.database import Database
from cluster.logs import get_logger
from domain.campaigns.access import CampaignAccess, CampaignRole
from domain.campaigns.messages import EventOut
from domain.campaigns.stream import CampaignLog, LogRead

log = get_logger("campaigns.live")
POLL_S = 0.5
QUEUE = 64  # batches a subscriber may fall behind before it reads on its own again


def frame(event: EventOut) -> str:
    data = json.dumps(event.model_dump(mode="json"), separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n"


@dataclass(frozen=True)
class Batch:
    """What one poll found: events with their visibility and SSE frame, and the role of
    the subscriber it is handed to (None: no longer a member)."""

    events: list[tuple[int, str, str]]  # (seq, visibility, frame)
    role: CampaignRole | None


@dataclass(eq=False)
class Subscriber:
    campaign_id: int
    user_id: int
    role: CampaignRole | None
    queue: asyncio.Queue[Batch] = field(default_factory=lambda: asyncio.Queue(QUEUE))
    lagged: bool = False  # the queue overflowed: catch up from the log, then go on

    @property
    def access(self) -> CampaignAccess | None:
        if self.role is None:
            return None
        return CampaignAccess(self.campaign_id, self.user_id, self.role)

    def push(self, batch: Batch) -> None:
        try:
            self.queue.put_nowait(batch)
        except asyncio.QueueFull:
            self.lagged = True
            while not self.queue.empty():
                self.queue.get_nowait()


class Feed:
    def __init__(self, feeds: Feeds, campaign_id: int, after: int):
        self.feeds = feeds
        self.campaign_id = campaign_id
        self.cursor = after
        self.subscribers: set[Subscriber] = set()
        self.polls = 0
        self.task: asyncio.Task[None]

    async def run(self) -> None:
        try:
            while self.subscribers:
                users = {s.user_id for s in self.subscribers}
                try:
                    read = await self.feeds.read(self.campaign_id, self.cursor, users)
                except Exception:
                    log.exception("campaign feed read failed", extra={"campaign": self.campaign_id})
                    await asyncio.sleep(POLL_S)
                    continue
                self.polls += 1
                self._hand_out(read, users)
                if not read.more:
                    await asyncio.sleep(POLL_S)
        finally:
            self.feeds.ended(self)

    def _hand_out(self, read: LogRead, users: set[int]) -> None:
        self.cursor = read.last_seq
        events = [(e.seq, e.visibility, frame(e)) for e in read.events]
        for sub in list(self.subscribers):
            # One who subscribed during the read keeps its role until the next poll.
            role = read.roles.get(sub.user_id) if sub.user_id in users else sub.role
            if events or role != sub.role:  # nothing new: no wake-up
                sub.push(Batch(events, role))


class Feeds:
    """The replica's feeds, one per campaign with subscribers; they live in its event loop."""

    def __init__(self, db: Database, threads: int = 4):
        self.db = db
        self.feeds: dict[int, Feed] = {}
        self._limiter = anyio.CapacityLimiter(threads)

    def subscribe(self, access: CampaignAccess, after: int) -> Subscriber:
        """Register before catching up: whatever the feed reads from now on is queued."""
        sub = Subscriber(access.campaign_id, access.user_id, access.role)
        loop = asyncio.get_running_loop()
        feed = self.feeds.get(access.campaign_id)
        if feed is None or feed.task.done() or feed.task.get_loop() is not loop:
            feed = self.feeds[access.campaign_id] = Feed(self, access.campaign_id, after)
            feed.subscribers.add(sub)
            feed.task = loop.create_task(feed.run())
        else:
            feed.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        feed = self.feeds.get(sub.campaign_id)
        if feed is not None:
            feed.subscribers.discard(sub)  # its task ends after its current poll

    def ended(self, feed: Feed) -> None:
        # Its last subscriber left; nothing awaits between that check and this call, so no
        # one joined it meanwhile: the next subscriber starts a fresh feed.
        if self.feeds.get(feed.campaign_id) is feed:
            del self.feeds[feed.campaign_id]

    async def read(self, campaign_id: int, after: int, users: set[int]) -> LogRead:
        def read() -> LogRead:
            with self.db.session() as session:
                return CampaignLog(session).read(campaign_id, after, users)

        return await anyio.to_thread.run_sync(read, limiter=self._limiter)
