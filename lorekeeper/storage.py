"""`lorekeeper storage`: backup, restore, verify and garbage-collect the asset store
(docs/storage.md). Works on the store and database the settings name."""

from __future__ import annotations

import argparse
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.assets.maintenance import Report


def add_parser(sub: argparse._SubParsersAction) -> None:
    storage = sub.add_parser("storage", help="asset store: backup, restore, verify, gc")
    cmds = storage.add_subparsers(dest="storage_command", required=True)
    backup = cmds.add_parser("backup", help="write a verifiable archive of blobs and rows")
    backup.add_argument("path", type=Path)
    restore = cmds.add_parser("restore", help="restore an archive into a fresh data dir")
    restore.add_argument("path", type=Path)
    restore.add_argument(
        "--blobs-only", action="store_true", help="put back the blobs, keep the rows there are"
    )
    cmds.add_parser("verify", help="hash every blob the rows name; report missing and corrupt")
    gc = cmds.add_parser("gc", help="delete blobs that no asset version names")
    gc.add_argument("--dry-run", action="store_true", help="only list what would go")
    gc.add_argument(
        "--grace-seconds",
        type=float,
        default=3600,
        help="spare blobs younger than this (their write may still be committing)",
    )


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from cluster import migrate
    from cluster.blobs import blob_store
    from cluster.database import Database
    from cluster.settings import get_settings
    from domain.assets.maintenance import StorageError

    settings = get_settings()
    migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    blobs = blob_store(settings)
    # One snapshot for the whole backup: rows that agree with each other.
    level = "SERIALIZABLE" if db.url.startswith("sqlite") else "REPEATABLE READ"
    try:
        engine = db.engine.execution_options(isolation_level=level)
        with Session(engine) as session, session.begin():
            report = _dispatch(args, session, blobs)
    except (StorageError, tarfile.TarError, OSError) as exc:
        print(f"storage {args.storage_command} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0 if report.ok else 1


def _dispatch(args: argparse.Namespace, session: Any, blobs: Any) -> Report:
    from domain.assets import maintenance

    cmd = args.storage_command
    if cmd == "backup":
        r = maintenance.backup(session, blobs, args.path)
        print(
            f"backup {args.path}: {r.blobs} blobs, {r.bytes} bytes, rows {r.rows}, {r.seconds:.2f}s"
        )
    elif cmd == "restore":
        r = maintenance.restore(session, blobs, args.path, blobs_only=args.blobs_only)
        print(
            f"restored {args.path}: {r.blobs} blobs verified, {r.bytes} bytes, rows "
            f"{r.rows}, {r.seconds:.2f}s"
        )
    elif cmd == "verify":
        r = maintenance.verify(session, blobs)
        print(
            f"verified {r.blobs} blobs ({r.bytes} bytes): {len(r.missing)} missing, "
            f"{len(r.corrupt)} corrupt, {len(r.unreferenced)} unreferenced (for gc)"
        )
        for sha in r.missing:
            print(f"missing {sha}")
        for sha in r.corrupt:
            print(f"corrupt {sha}")
    else:
        r = maintenance.collect(session, blobs, dry_run=args.dry_run, grace_s=args.grace_seconds)
        verb = "would delete" if args.dry_run else "deleted"
        print(f"gc: {verb} {len(r.unreferenced)} unreferenced blobs, {r.bytes} bytes")
        for sha in r.unreferenced:
            print(f"{'unreferenced' if args.dry_run else 'deleted'} {sha}")
    return r
