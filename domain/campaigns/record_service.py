"""Campaign records: chapters, plots, NPCs, locations, factions, relationships, notes,
in-world events, sessions, player actions, awards and story impacts.

Invariants: a record is seen only by members whose access can see its visibility, and a
record that a member cannot see answers exactly like a missing one; a player writes only
notes and actions of their own, visible to the party or to themself; every write makes one
immutable version (with the visibility it had) and names the version it was based on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, func, select, true, update

from domain.campaigns.access import CampaignAccess
from domain.campaigns.base import CampaignScope
from domain.campaigns.calendar import Calendar
from domain.campaigns.messages import (
    ChapterOrder,
    Graph,
    GraphEdge,
    GraphNode,
    RecordIn,
    RecordOut,
    RecordPage,
    RecordVersionOut,
    RecordWrite,
    RestoreRequest,
)
from domain.campaigns.models import (
    CampaignCharacter,
    CampaignRecord,
    CampaignRecordRef,
    CampaignRecordVersion,
)
from domain.campaigns.records import (
    KINDS,
    LOCATION_RANK,
    PLAYER_KINDS,
    ROUTED_KINDS,
    AttitudeChange,
    Body,
    Plot,
    Relationship,
    StateChange,
    real_at,
    strip,
)
from domain.campaigns.service import check_version
from domain.campaigns.themes import world_effect
from domain.characters.diff import diff
from domain.characters.models import Character
from domain.db import utcnow
from domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from domain.sheet import shape_errors


def visible_to(access: CampaignAccess) -> ColumnElement[bool]:
    """The SQL condition for the records `access` may see."""
    if access.is_dm:
        return true()
    return CampaignRecord.visibility.in_(access.visible())


class RecordService(CampaignScope):
    # --- reading -------------------------------------------------------------------------

    def get(self, campaign_id: int, record_id: int) -> RecordOut:
        access = self.access(campaign_id)
        return self._out(access, self._visible(access, record_id))

    def list(
        self,
        campaign_id: int,
        kind: str | None = None,
        limit: int = 50,
        offset: int = 0,
        q: str | None = None,
    ) -> RecordPage:
        access = self.access(campaign_id)
        query = select(CampaignRecord).where(
            CampaignRecord.campaign_id == campaign_id, visible_to(access)
        )
        if kind:
            query = query.where(CampaignRecord.kind == kind)
        if q:  # name search: case-insensitive substring
            query = query.where(func.lower(CampaignRecord.name).contains(q.lower()))
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        order = (CampaignRecord.position, CampaignRecord.id) if kind == "chapter" else (
            CampaignRecord.id,
        )
        rows = self.session.scalars(query.order_by(*order).limit(limit).offset(offset))
        items = [self._out(access, r) for r in rows]
        return RecordPage(items=items, total=total or 0, limit=limit, offset=offset)

    def versions(self, campaign_id: int, record_id: int) -> list[RecordVersionOut]:
        """The versions the caller could see when they were written, as they may see them."""
        access = self.access(campaign_id)
        row = self._visible(access, record_id)
        out: list[RecordVersionOut] = []
        before: dict[str, Any] = {}
        for v in self._versions(record_id):
            if not access.can_see(v.visibility):
                continue
            body = strip(row.kind, v.body, access.is_dm)
            out.append(RecordVersionOut(
                number=v.number, author_id=v.author_id, reason=v.reason,
                created_at=v.created_at, diff=diff(before, body), visibility=v.visibility,
                body=body,
            ))
            before = body
        return out

    def version(self, campaign_id: int, record_id: int, number: int) -> RecordVersionOut:
        for v in self.versions(campaign_id, record_id):
            if v.number == number:
                return v
        raise NotFound(f"Record {record_id} has no version {number}.")

    # --- writing -------------------------------------------------------------------------

    def create(self, campaign_id: int, req: RecordIn) -> RecordOut:
        access = self.access(campaign_id)
        if req.kind in ROUTED_KINDS:
            route = "sessions/{sid}/awards" if req.kind == "award" else "impacts"
            raise InvalidRequest(
                f"Create {req.kind} records with POST /{{id}}/{route}: it also tells the "
                "character.",
                code="record_kind_routed",
            )
        self._may_write(access, req.kind, req.visibility, author_id=self.principal.user_id)
        body = self.parse(req.kind, req.body)
        return self.add(access, req.kind, body, req.visibility, req.reason or "created",
                        chapter_id=req.chapter_id, session_id=req.session_id)

    def add(
        self,
        access: CampaignAccess,
        kind: str,
        body: Body,
        visibility: str,
        reason: str = "created",
        *,
        chapter_id: int | None = None,
        session_id: int | None = None,
    ) -> RecordOut:
        """Store a checked body as a new record (awards, impacts and typed calls too)."""
        self._check_refs(access, kind, body, None)
        now = utcnow()
        if isinstance(body, Plot):
            body.history = [StateChange(from_state=None, to_state=body.state, at=now,
                                        chapter_id=chapter_id, session_id=session_id)]
        if isinstance(body, Relationship):
            body.history = [AttitudeChange(kind=body.kind, attitude=body.attitude, at=now,
                                           session_id=session_id)]
        data = body.model_dump(mode="json")
        position = None
        if kind == "chapter":
            position = 1 + (self.session.scalar(
                select(func.max(CampaignRecord.position)).where(
                    CampaignRecord.campaign_id == access.campaign_id,
                    CampaignRecord.kind == "chapter",
                )
            ) or 0)
        row = CampaignRecord(
            campaign_id=access.campaign_id, kind=kind, name=body.label()[:200],
            visibility=visibility, version=1, body=data, author_id=self.principal.user_id,
            position=position, created_at=now, updated_at=now,
            **self._dates(access, body),
        )
        self.session.add(row)
        self.session.flush()
        self._version_row(row, reason)
        self._set_refs(row.id, body.refs())
        self.changed(access, kind, "created", record_id=row.id, visibility=visibility,
                     summary=f"{kind} {row.name!r} created")
        return self._out(access, row)

    def update(
        self, campaign_id: int, record_id: int, req: RecordWrite, expected: int | None
    ) -> RecordOut:
        access = self.access(campaign_id)
        row = self._visible(access, record_id)
        visibility = req.visibility or row.visibility
        self._may_write(access, row.kind, visibility, author_id=row.author_id)
        if row.kind in ROUTED_KINDS and not access.is_dm:
            raise Forbidden(f"Only the campaign's DMs may change {row.kind} records.")
        check_version("Record", record_id, row.version, expected)
        incoming = dict(req.body)
        for field in KINDS[row.kind].kept:  # the service writes these
            incoming[field] = row.body.get(field, [])
        if not access.is_dm:  # a player never sees DM-only fields, so keeps them unchanged
            for field in KINDS[row.kind].dm_only:
                incoming[field] = row.body.get(field, incoming.get(field))
        body = self.parse(row.kind, incoming)
        self._check_refs(access, row.kind, body, row.id)
        self._track(row, body, req.chapter_id, req.session_id)
        return self._write(access, row, body, visibility, req.reason or "edited")

    def delete(self, campaign_id: int, record_id: int, expected: int | None) -> None:
        access = self.access(campaign_id)
        row = self._visible(access, record_id)
        self._may_write(access, row.kind, row.visibility, author_id=row.author_id)
        check_version("Record", record_id, row.version, expected)
        users = self.session.scalar(
            select(func.count()).select_from(CampaignRecordRef).where(
                CampaignRecordRef.ref == f"record:{record_id}"
            )
        )
        if users:
            raise Conflict(
                f"{users} other record(s) refer to record {record_id}: change or delete them "
                "first.",
                code="record_in_use",
            )
        self.changed(access, row.kind, "deleted", record_id=row.id, visibility=row.visibility,
                     summary=f"{row.kind} {row.name!r} deleted")
        self.session.delete(row)
        self.session.flush()

    def restore(
        self, campaign_id: int, record_id: int, number: int, expected: int | None,
        req: RestoreRequest,
    ) -> RecordOut:
        access = self.dm_access(campaign_id, "restore a version")
        row = self._visible(access, record_id)
        check_version("Record", record_id, row.version, expected)
        old = next((v for v in self._versions(record_id) if v.number == number), None)
        if old is None:
            raise NotFound(f"Record {record_id} has no version {number}.")
        body = KINDS[row.kind].model_validate(old.body)
        self._check_refs(access, row.kind, body, row.id)
        return self._write(access, row, body, old.visibility,
                           req.reason or f"restored version {number}", action="restored")

    # --- chapters and relationships --------------------------------------------------------

    def reorder_chapters(self, campaign_id: int, req: ChapterOrder) -> RecordPage:
        access = self.dm_access(campaign_id, "reorder chapters")
        rows = {r.id: r for r in self.session.scalars(
            select(CampaignRecord).where(
                CampaignRecord.campaign_id == campaign_id, CampaignRecord.kind == "chapter"
            )
        )}
        if sorted(req.chapter_ids) != sorted(rows):
            raise InvalidRequest(
                f"Send every chapter id of the campaign once, in the new order ({len(rows)} "
                "chapters).",
                code="chapter_order_incomplete",
            )
        for position, chapter_id in enumerate(req.chapter_ids, start=1):
            rows[chapter_id].position = position
        self.session.flush()
        self.changed(access, "chapter", "updated", summary="chapters reordered")
        return self.list(campaign_id, kind="chapter", limit=1000)

    def graph(self, campaign_id: int, entity: str | None = None, depth: int = 1) -> Graph:
        """The relationship graph the caller may see; from `entity`, `depth` steps out."""
        access = self.access(campaign_id)
        names = self._entity_names(access)
        edges: list[GraphEdge] = []
        for r in self.session.scalars(
            select(CampaignRecord)
            .where(CampaignRecord.campaign_id == campaign_id,
                   CampaignRecord.kind == "relationship", visible_to(access))
            .order_by(CampaignRecord.id)
        ):
            if r.body["from_ref"] in names and r.body["to_ref"] in names:  # both ends visible
                edges.append(GraphEdge(
                    id=r.id, from_ref=r.body["from_ref"], to_ref=r.body["to_ref"],
                    kind=r.body["kind"], attitude=r.body["attitude"], visibility=r.visibility,
                    history=r.body.get("history", []),
                ))
        if entity is not None:
            reached, frontier, kept = {entity}, {entity}, []
            for _ in range(depth):
                step = [e for e in edges if {e.from_ref, e.to_ref} & frontier and e not in kept]
                kept += step
                frontier = {e.from_ref for e in step} | {e.to_ref for e in step}
                frontier -= reached
                reached |= frontier
            edges = sorted(kept, key=lambda e: e.id)
        refs = {e.from_ref for e in edges} | {e.to_ref for e in edges}
        if entity in names:
            refs.add(entity)
        nodes = [GraphNode(ref=ref, kind=names[ref][0], name=names[ref][1])
                 for ref in sorted(refs)]
        return Graph(nodes=nodes, edges=edges)

    # --- shared --------------------------------------------------------------------------

    def parse(self, kind: str, data: dict[str, Any]) -> Body:
        try:
            return KINDS[kind].model_validate(data)
        except ValidationError as exc:
            errors = [{**e, "path": f"body.{e['path']}"} for e in shape_errors(exc)]
            raise InvalidRequest(
                f"The {kind} body is not valid; see errors for each path.",
                errors=errors, code="record_invalid",
            ) from None

    def visible_rows(
        self, access: CampaignAccess, kinds: Iterable[str] | None = None
    ) -> list[CampaignRecord]:
        query = select(CampaignRecord).where(
            CampaignRecord.campaign_id == access.campaign_id, visible_to(access)
        )
        if kinds is not None:
            query = query.where(CampaignRecord.kind.in_(list(kinds)))
        return list(self.session.scalars(query.order_by(CampaignRecord.id)))

    def out(self, access: CampaignAccess, row: CampaignRecord) -> RecordOut:
        return self._out(access, row)

    def _visible(self, access: CampaignAccess, record_id: int) -> CampaignRecord:
        row = self.session.get(CampaignRecord, record_id)
        if row is None or row.campaign_id != access.campaign_id or not access.can_see(
            row.visibility
        ):
            raise NotFound(f"There is no record {record_id} in campaign {access.campaign_id}.")
        return row

    def _may_write(
        self, access: CampaignAccess, kind: str, visibility: str, author_id: int
    ) -> None:
        if access.is_dm:
            return
        if kind not in PLAYER_KINDS:
            raise Forbidden(
                f"Players write notes and actions; only the campaign's DMs may write {kind} "
                "records."
            )
        if author_id != access.user_id:
            raise Forbidden("Players change only their own notes and actions.")
        if visibility not in ("party", "public", f"player:{access.user_id}"):
            raise InvalidRequest(
                f'Players give their records the visibility "party", "public" or '
                f'"player:{access.user_id}" (only to themself and the DMs).',
                code="visibility_not_allowed",
            )

    def _check_refs(
        self, access: CampaignAccess, kind: str, body: Body, record_id: int | None
    ) -> None:
        """Every record a body names exists in this campaign, has the right kind and is
        visible to the caller; a missing and a hidden one read the same."""
        errors: list[dict[str, Any]] = []
        for want, ids in body.record_refs().items():
            for ident in ids:
                row = self.session.get(CampaignRecord, ident)
                ok = (
                    row is not None
                    and row.campaign_id == access.campaign_id
                    and access.can_see(row.visibility)
                    and (want == "*" or row.kind == want)
                    and ident != record_id
                )
                if not ok:
                    what = "record" if want == "*" else want
                    errors.append({"path": "body", "code": "unknown_record",
                                   "message": f"There is no {what} {ident} in this campaign."})
        playing = set(self.session.scalars(
            select(CampaignCharacter.character_id).where(
                CampaignCharacter.campaign_id == access.campaign_id
            )
        ))
        for ident in body.character_ids():
            if ident not in playing:
                errors.append({"path": "body", "code": "unknown_character",
                               "message": f"Character {ident} does not play in this campaign."})
        if not errors and kind == "location":
            self._check_parent(body, record_id, errors)
        if errors:
            raise InvalidRequest(
                f"The {kind} names records that it cannot; see errors.",
                errors=errors, code="invalid_reference",
            )

    def _check_parent(self, body: Any, record_id: int | None, errors: list) -> None:
        """region > city > site: a parent ranks above its child, so there are no cycles."""
        parent = self.session.get(CampaignRecord, body.parent_id) if body.parent_id else None
        if parent is not None and LOCATION_RANK[parent.body["kind"]] >= LOCATION_RANK[body.kind]:
            errors.append({
                "path": "body.parent_id", "code": "location_hierarchy",
                "message": f"A {body.kind} cannot lie in a {parent.body['kind']}: regions hold "
                           "cities and sites, cities hold sites.",
            })
        if record_id is not None:
            children = self.session.scalars(
                select(CampaignRecordRef.record_id).where(
                    CampaignRecordRef.ref == f"record:{record_id}"
                )
            )
            for child_id in children:
                child = self.session.get(CampaignRecord, child_id)
                if child is not None and child.kind == "location" and (
                    LOCATION_RANK[child.body["kind"]] <= LOCATION_RANK[body.kind]
                ):
                    errors.append({"path": "body.kind", "code": "location_hierarchy",
                                   "message": f"Location {child_id} lies in this one and "
                                              f"would rank above or beside it."})

    def _track(self, row: CampaignRecord, body: Any, chapter_id, session_id) -> None:
        """Plots keep their state changes, relationships their attitude changes."""
        now = utcnow()
        if row.kind == "plot" and body.state != row.body["state"]:
            body.history = [*body.history, StateChange(
                from_state=row.body["state"], to_state=body.state, at=now,
                chapter_id=chapter_id, session_id=session_id,
            )]
        if row.kind == "relationship" and (
            body.attitude != row.body["attitude"] or body.kind != row.body["kind"]
        ):
            body.history = [*body.history, AttitudeChange(
                kind=body.kind, attitude=body.attitude, at=now, session_id=session_id,
            )]

    def _write(
        self, access: CampaignAccess, row: CampaignRecord, body: Body, visibility: str,
        reason: str, action: str = "updated",
    ) -> RecordOut:
        data = body.model_dump(mode="json")
        if not diff(row.body, data) and visibility == row.visibility:
            return self._out(access, row)
        number, now = row.version + 1, utcnow()
        moved = self.session.execute(
            update(CampaignRecord)
            .where(CampaignRecord.id == row.id, CampaignRecord.version == row.version)
            .values(version=number, body=data, name=body.label()[:200], visibility=visibility,
                    updated_at=now, **self._dates(access, body))
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            raise Conflict(f"Record {row.id} changed while this edit was being made: GET it "
                           "and retry.", code="version_conflict")
        self.session.refresh(row)
        self._version_row(row, reason)
        self._set_refs(row.id, body.refs())
        self.changed(access, row.kind, action, record_id=row.id, visibility=visibility,
                     summary=f"{row.kind} {row.name!r} {action}")
        return self._out(access, row)

    def _dates(self, access: CampaignAccess, body: Body) -> dict[str, Any]:
        """The sortable in-world date (checked against the calendar) and a session's
        real-world date, for the timeline."""
        date = body.world_date()
        if date is not None:
            doc = self.campaign(access.campaign_id).document
            try:
                Calendar.model_validate(doc["calendar"]).check(date)
            except ValueError as exc:
                raise InvalidRequest(f"The in-world date does not exist: {exc}.",
                                     code="bad_world_date") from None
        return {"world_at": date.ordinal if date else None, "real_at": real_at(body)}

    def _version_row(self, row: CampaignRecord, reason: str) -> None:
        self.session.add(CampaignRecordVersion(
            record_id=row.id, number=row.version, visibility=row.visibility, body=row.body,
            author_id=self.principal.user_id, reason=reason[:500], created_at=row.updated_at,
        ))
        self.session.flush()

    def _set_refs(self, record_id: int, refs: set[str]) -> None:
        self.session.execute(
            CampaignRecordRef.__table__.delete().where(CampaignRecordRef.record_id == record_id)
        )
        self.session.add_all(CampaignRecordRef(record_id=record_id, ref=r) for r in sorted(refs))
        self.session.flush()

    def _versions(self, record_id: int) -> list[CampaignRecordVersion]:
        return list(self.session.scalars(
            select(CampaignRecordVersion)
            .where(CampaignRecordVersion.record_id == record_id)
            .order_by(CampaignRecordVersion.number)
        ))

    def _entity_names(self, access: CampaignAccess) -> dict[str, tuple[str, str]]:
        """ref -> (kind, name) of everything a relationship may name that the caller sees."""
        names = {
            f"record:{r.id}": (r.kind, r.name)
            for r in self.visible_rows(access, ("npc", "faction", "location"))
        }
        for cid, name in self.session.execute(
            select(Character.id, Character.name)
            .join(CampaignCharacter, CampaignCharacter.character_id == Character.id)
            .where(CampaignCharacter.campaign_id == access.campaign_id)
        ):
            names[f"character:{cid}"] = ("character", name)
        return names

    def _out(self, access: CampaignAccess, row: CampaignRecord) -> RecordOut:
        effect = None
        if row.kind in ("location", "faction"):
            theme = self.campaign(access.campaign_id).document.get("theme")
            effect = world_effect(theme, row.kind)
        return RecordOut(
            id=row.id, campaign_id=row.campaign_id, kind=row.kind, name=row.name,
            visibility=row.visibility, version=row.version, author_id=row.author_id,
            position=row.position, body=strip(row.kind, row.body, access.is_dm),
            created_at=row.created_at, updated_at=row.updated_at, world_effect=effect,
        )
