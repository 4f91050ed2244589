"""`lorekeeper events ...`: the worker, status, replay and the dead letters."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the hub imports every handler: only when a command runs
    from cluster.events.hub import EventHub


def add_parser(sub: argparse._SubParsersAction) -> None:
    events = sub.add_parser("events", help="the event hub: worker, status, replay, dead letters")
    ev = events.add_subparsers(dest="events_command", required=True)
    worker = ev.add_parser("worker", help="run the outbox relay and the consumers until stopped")
    worker.add_argument("--no-relay", action="store_true", help="consumers only")
    worker.add_argument("--no-consumers", action="store_true", help="the relay only")
    ev.add_parser("status", help="lag, pending and dead letters per consumer group (JSON)")
    replay = ev.add_parser("replay", help="deliver logged events to one group again")
    replay.add_argument("--group", required=True)
    replay.add_argument(
        "--from", dest="start", required=True, help="an outbox seq, an event id or an ISO time"
    )
    dlq = ev.add_parser("dlq", help="dead letters")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = dlq_sub.add_parser("list", help="a group's dead letters, newest first (JSON)")
    listing.add_argument("--group", required=True)
    listing.add_argument("--limit", type=int, default=100)
    redrive = dlq_sub.add_parser("redrive", help="deliver dead letters to their group again")
    redrive.add_argument("--group", required=True)
    redrive.add_argument("--id", dest="ids", action="append", help="one dead letter (repeat)")


def run(args: argparse.Namespace) -> int:
    from cluster import migrate
    from cluster.database import Database
    from cluster.events.hub import EventHub
    from cluster.logs import configure_logging
    from cluster.settings import get_settings
    from domain.errors import DomainError

    settings = get_settings()
    configure_logging(settings.log_level)
    migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        hub = EventHub(db, settings)
        if args.events_command == "worker":
            return _worker(hub, relay=not args.no_relay, consumers=not args.no_consumers)
        if args.events_command == "status":
            _print([s.model_dump() for s in hub.status()])
        elif args.events_command == "replay":
            count = hub.replay(args.group, args.start)
            print(f"{count} event(s) queued for {args.group}; those it applied before are skipped")
        elif args.dlq_command == "list":
            _print([vars(d) for d in hub.dead_letters(args.group, args.limit)])
        else:
            print(f"{hub.redrive(args.group, args.ids)} dead letter(s) redriven to {args.group}")
    except DomainError as exc:
        raise SystemExit(f"{exc.code}: {exc.detail}") from None
    finally:
        db.dispose()
    return 0


def _worker(hub: EventHub, relay: bool, consumers: bool) -> int:
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    hub.start(relay=relay, consumers=consumers)
    print(f"event worker running ({hub.transport.name} transport); Ctrl-C stops", flush=True)
    stopped.wait()
    hub.stop()
    return 0


def _print(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))
