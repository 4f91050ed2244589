"""Operating the store: backup to a verifiable archive, restore from one, verify every
blob, and collect the blobs nothing names (`lorekeeper storage ...`).

The archive is a tar: `manifest.json` first (format, the sha256 and size of every blob, the
sha256 of every table file), then `tables/<table>.json` (the asset rows), then
`blobs/<sha256>`. Rows are read in one snapshot transaction and blobs never change, so the
archive is consistent; every blob is hashed as it is written and again as it is restored.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from domain.assets.blobs import BlobMissing, BlobStore, is_sha256, sha256_hex
from domain.assets.models import Asset, AssetVersion, BlobVariant
from domain.db import UTCDateTime

FORMAT = "lorekeeper-assets-backup/1"
TABLES = (Asset, AssetVersion, BlobVariant)  # in insert order (versions name assets)


class StorageError(Exception):
    """A backup or restore that cannot be done safely; the message says why and what next."""


@dataclass
class Report:
    seconds: float = 0.0
    blobs: int = 0
    bytes: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)
    deleted: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing and not self.corrupt


def referenced(session: Session) -> dict[str, int]:
    """Every blob a row names (versions and their variants), with its size."""
    found = dict(
        session.execute(
            select(AssetVersion.sha256, func.max(AssetVersion.size)).group_by(AssetVersion.sha256)
        )
        .tuples()
        .all()
    )
    found |= dict(session.execute(select(BlobVariant.sha256, BlobVariant.size)).tuples().all())
    return found


# --- backup and restore -----------------------------------------------------------------


def backup(session: Session, blobs: BlobStore, path: Path) -> Report:
    """Run inside a snapshot transaction (REPEATABLE READ on PostgreSQL)."""
    start, report = time.perf_counter(), Report()
    tables = {t.__tablename__: _dump(session, t) for t in TABLES}
    files = {
        name: json.dumps(rows, separators=(",", ":")).encode() for name, rows in tables.items()
    }
    shas = referenced(session)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now().astimezone().isoformat(),
        "tables": {
            name: {"sha256": sha256_hex(data), "rows": len(tables[name])}
            for name, data in files.items()
        },
        "blobs": dict(sorted(shas.items())),
    }
    partial = path.with_name(path.name + ".partial")
    try:
        with tarfile.open(partial, "w") as tar:
            _add(tar, "manifest.json", json.dumps(manifest, indent=1).encode())
            for name, data in files.items():
                _add(tar, f"tables/{name}.json", data)
            for sha in manifest["blobs"]:
                try:
                    data = blobs.get(sha)
                except BlobMissing:
                    report.missing.append(sha)
                    continue
                if sha256_hex(data) != sha:
                    report.corrupt.append(sha)
                    continue
                _add(tar, f"blobs/{sha}", data)
                report.blobs += 1
                report.bytes += len(data)
        if not report.ok:
            raise StorageError(
                f"{len(report.missing)} blob(s) missing and {len(report.corrupt)} corrupt: no "
                "backup written. Run `lorekeeper storage verify` for the list."
            )
        partial.replace(path)  # a finished archive only ever appears whole
    finally:
        partial.unlink(missing_ok=True)
    report.rows = {name: len(rows) for name, rows in tables.items()}
    report.seconds = time.perf_counter() - start
    return report


def restore(session: Session, blobs: BlobStore, path: Path, blobs_only: bool = False) -> Report:
    """Every blob is hashed before it is stored and the rows are inserted only once all
    blobs are in: a bad archive leaves no rows (at most some verified, unnamed blobs)."""
    start, report = time.perf_counter(), Report()
    if not blobs_only and any(session.scalar(select(func.count()).select_from(t)) for t in TABLES):
        raise StorageError(
            "The asset tables are not empty: restore into a fresh data dir and database, or "
            "pass --blobs-only to put back the blobs alone (the rows are kept)."
        )
    with tarfile.open(path, "r") as tar:
        manifest = _manifest(tar)
        tables: dict[str, list[dict[str, Any]]] = {}
        seen: set[str] = set()
        for member in tar:
            if member.name == "manifest.json" or not member.isfile():
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("tables/"):
                name = member.name.removeprefix("tables/").removesuffix(".json")
                expected = manifest["tables"].get(name, {}).get("sha256")
                if sha256_hex(data) != expected:
                    raise StorageError(f"{member.name} does not match the manifest: corrupt.")
                tables[name] = json.loads(data)
            elif member.name.startswith("blobs/"):
                sha = member.name.removeprefix("blobs/")
                if not is_sha256(sha) or sha not in manifest["blobs"] or sha256_hex(data) != sha:
                    raise StorageError(f"{member.name} is corrupt: its bytes hash differently.")
                blobs.put(data)
                seen.add(sha)
                report.blobs += 1
                report.bytes += len(data)
    if lost := sorted(set(manifest["blobs"]) - seen):
        raise StorageError(
            f"The archive lacks {len(lost)} blob(s) its manifest lists: {', '.join(lost[:5])}..."
        )
    if not blobs_only:
        for table in TABLES:
            rows = [_load(table, r) for r in tables.get(table.__tablename__, [])]
            if rows:
                session.execute(insert(table), rows)
            report.rows[table.__tablename__] = len(rows)
        _advance_sequences(session)
    report.seconds = time.perf_counter() - start
    return report


def _manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    except (KeyError, ValueError, AttributeError):
        raise StorageError(
            "Not a Lorekeeper asset backup: it has no readable manifest.json."
        ) from None
    if manifest.get("format") != FORMAT:
        raise StorageError(f"Unknown backup format {manifest.get('format')!r}; expected {FORMAT}.")
    return manifest


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _dump(session: Session, table: Any) -> list[dict[str, Any]]:
    columns = table.__table__.columns
    rows = session.execute(select(table.__table__).order_by(*table.__table__.primary_key))
    return [
        {
            c.name: (v.isoformat() if isinstance(v, datetime) else v)
            for c, v in zip(columns, row, strict=True)
        }
        for row in rows
    ]


def _load(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for c in table.__table__.columns:
        if isinstance(c.type, UTCDateTime) and out.get(c.name) is not None:
            out[c.name] = datetime.fromisoformat(out[c.name])
    return out


def _advance_sequences(session: Session) -> None:
    """Rows came with their ids: PostgreSQL's id sequences must move past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in ("assets", "asset_versions"):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )


# --- verify and collect -----------------------------------------------------------------


def verify(session: Session, blobs: BlobStore) -> Report:
    """Reads and hashes every blob a row names; lists the missing and corrupt ones, and
    counts blobs no row names (GC's to collect)."""
    start, report = time.perf_counter(), Report()
    named = referenced(session)
    for sha in sorted(named):
        try:
            data = blobs.get(sha)
        except BlobMissing:
            report.missing.append(sha)
            continue
        if sha256_hex(data) != sha:
            report.corrupt.append(sha)
        report.blobs += 1
        report.bytes += len(data)
    report.unreferenced = sorted(sha for sha in blobs.iter_all() if sha not in named)
    report.seconds = time.perf_counter() - start
    return report


def collect(
    session: Session, blobs: BlobStore, dry_run: bool = True, grace_s: float = 3600
) -> Report:
    """Deletes blobs that no version or variant names and that are older than `grace_s`
    (a younger one may belong to a transaction still open). Variant rows of deleted
    versions go first. With `dry_run`, only reports."""
    start, report = time.perf_counter(), Report()
    live = select(AssetVersion.sha256)
    if not dry_run:
        session.execute(delete(BlobVariant).where(BlobVariant.source_sha256.not_in(live)))
        session.flush()
        named = referenced(session)
    else:
        named = dict(session.execute(select(AssetVersion.sha256, AssetVersion.size)).tuples().all())
        named |= dict(
            session.execute(
                select(BlobVariant.sha256, BlobVariant.size).where(
                    BlobVariant.source_sha256.in_(live)
                )
            )
            .tuples()
            .all()
        )
    for sha in blobs.iter_all():
        if sha in named:
            continue
        try:
            if blobs.age_seconds(sha) < grace_s:
                continue
            size = blobs.size(sha)
        except BlobMissing:  # removed meanwhile
            continue
        report.unreferenced.append(sha)
        report.bytes += size
        if not dry_run:
            blobs.delete(sha)
            report.deleted += 1
    report.blobs = len(named)
    report.seconds = time.perf_counter() - start
    return report
