"""Export and import of a whole campaign as one JSON document (`CampaignExport`).

An export holds only what the caller may see. An import checks everything first (every
record body, every reference, calendar dates, users and characters) and writes nothing
when anything is wrong; record ids are renumbered and every reference follows.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from domain.campaigns.base import CampaignScope
from domain.campaigns.calendar import Calendar
from domain.campaigns.events import CampaignChanged
from domain.campaigns.messages import CampaignExport, CampaignOut, ExportMember, ExportRecord
from domain.campaigns.models import (
    Campaign,
    CampaignCharacter,
    CampaignMember,
    CampaignRecord,
    CampaignRecordRef,
    CampaignRecordVersion,
    CampaignVersion,
)
from domain.campaigns.record_service import RecordService
from domain.campaigns.records import KINDS, LOCATION_RANK, Body, real_at, strip
from domain.campaigns.themes import check_campaign_transition
from domain.characters.models import Character
from domain.errors import DomainError, InvalidRequest
from domain.sheet import shape_errors
from domain.users.models import User
from domain.users.permissions import Permission, require


class TransferService(CampaignScope):
    def export(self, campaign_id: int) -> CampaignExport:
        access = self.access(campaign_id)
        campaign = self.campaign(campaign_id)
        members = self.session.scalars(
            select(CampaignMember).where(CampaignMember.campaign_id == campaign_id)
            .order_by(CampaignMember.id)
        )
        rows = RecordService(self.session, self.principal).visible_rows(access)
        characters = self.session.scalars(
            select(CampaignCharacter.character_id)
            .where(CampaignCharacter.campaign_id == campaign_id)
            .order_by(CampaignCharacter.id)
        )
        return CampaignExport(
            campaign=campaign.document,
            members=[ExportMember(user_id=m.user_id, role=m.role) for m in members],
            records=[
                ExportRecord(id=r.id, kind=r.kind, visibility=r.visibility, position=r.position,
                             body=strip(r.kind, r.body, access.is_dm))
                for r in rows
            ],
            characters=list(characters),
        )

    def import_(self, doc: CampaignExport) -> CampaignOut:
        """A new campaign owned by the caller (the exported owner, if someone else, becomes
        a co-DM)."""
        require(self.principal, Permission.CAMPAIGNS_CREATE)
        bodies = self._check(doc)
        me = self.principal.user_id
        campaign = Campaign(owner_id=me, name=doc.campaign.name, ruleset=doc.campaign.ruleset,
                            version=1, document=doc.campaign.dump())
        self.session.add(campaign)
        self.session.flush()
        self.session.add(CampaignVersion(campaign_id=campaign.id, number=1,
                                         document=campaign.document, author_id=me,
                                         reason="imported"))
        roles = {m.user_id: ("codm" if m.role == "owner" else m.role) for m in doc.members}
        roles[me] = "owner"
        self.session.add_all(CampaignMember(campaign_id=campaign.id, user_id=u, role=r)
                             for u, r in roles.items())
        for character_id in doc.characters:
            owner = self.session.scalar(select(Character.owner_id)
                                        .where(Character.id == character_id))
            self.session.add(CampaignCharacter(campaign_id=campaign.id,
                                               character_id=character_id, user_id=owner))
        rows = []
        for rec in doc.records:
            body = bodies[rec.id]
            row = CampaignRecord(
                campaign_id=campaign.id, kind=rec.kind, name=body.label()[:200],
                visibility=rec.visibility, version=1, body={}, author_id=me,
                position=rec.position,
                world_at=date.ordinal if (date := body.world_date()) else None,
            )
            rows.append((rec, row))
            self.session.add(row)
        self.session.flush()
        new_id = {rec.id: row.id for rec, row in rows}
        for rec, row in rows:
            data = _renumber(rec.kind, bodies[rec.id].model_dump(mode="json"), new_id)
            body = KINDS[rec.kind].model_validate(data)
            row.body = data
            row.real_at = real_at(body)
            self.session.add(CampaignRecordVersion(record_id=row.id, number=1,
                                                   visibility=row.visibility, body=data,
                                                   author_id=me, reason="imported"))
            self.session.add_all(CampaignRecordRef(record_id=row.id, ref=r)
                                 for r in sorted(body.refs()))
        self.session.flush()
        self.emit(CampaignChanged(campaign_id=campaign.id, actor_id=me, kind="campaign",
                                  action="created", visibility="party",
                                  summary=f"campaign {campaign.name!r} imported"))
        return CampaignOut(id=campaign.id, owner_id=me, version=1, role="owner",
                           created_at=campaign.created_at, updated_at=campaign.updated_at,
                           document=campaign.document)

    def _check(self, doc: CampaignExport) -> dict[int, Body]:
        """Every record body parsed; 422 listing every problem, before anything is written."""
        errors: list[dict[str, Any]] = []

        def fail(path: str, code: str, message: str) -> None:
            errors.append({"path": path, "code": code, "message": message})

        try:
            check_campaign_transition(None, doc.campaign.theme, doc.campaign.ruleset)
        except DomainError as exc:
            fail("campaign.theme", exc.code, exc.detail)
        calendar: Calendar = doc.campaign.calendar
        if calendar.current is not None:
            try:
                calendar.check(calendar.current)
            except ValueError as exc:
                fail("campaign.calendar.current", "bad_world_date", str(exc))
        bodies: dict[int, Body] = {}
        kinds: dict[int, str] = {}
        for i, rec in enumerate(doc.records):
            if rec.id in kinds:
                fail(f"records.{i}.id", "duplicate_id", f"Record id {rec.id} appears twice.")
            kinds[rec.id] = rec.kind
            try:
                bodies[rec.id] = KINDS[rec.kind].model_validate(rec.body)
            except ValidationError as exc:
                errors += [{**e, "path": f"records.{i}.body.{e['path']}"}
                           for e in shape_errors(exc)]
        for i, rec in enumerate(doc.records):
            body = bodies.get(rec.id)
            if body is None:
                continue
            for want, ids in body.record_refs().items():
                for ident in ids:
                    if kinds.get(ident) is None or (want != "*" and kinds[ident] != want):
                        fail(f"records.{i}.body", "unknown_record",
                             f"There is no {want if want != '*' else 'record'} {ident} in the "
                             "document.")
            for ident in body.character_ids():
                if ident not in doc.characters:
                    fail(f"records.{i}.body", "unknown_character",
                         f"Character {ident} is not among the document's characters.")
            if (when := body.world_date()) is not None:
                try:
                    calendar.check(when)
                except ValueError as exc:
                    fail(f"records.{i}.body", "bad_world_date", str(exc))
            parent = getattr(body, "parent_id", None)
            if rec.kind == "location" and parent in bodies and kinds[parent] == "location" and (
                LOCATION_RANK[bodies[parent].kind] >= LOCATION_RANK[body.kind]  # type: ignore[attr-defined]
            ):
                fail(f"records.{i}.body.parent_id", "location_hierarchy",
                     "Regions hold cities and sites, cities hold sites.")
        member_ids = {m.user_id for m in doc.members} | {self.principal.user_id}
        for i, m in enumerate(doc.members):
            if self.session.get(User, m.user_id) is None:
                fail(f"members.{i}.user_id", "user_not_found", f"There is no user {m.user_id}.")
        for i, cid in enumerate(doc.characters):
            owner = self.session.scalar(select(Character.owner_id).where(Character.id == cid))
            if owner is None or owner not in member_ids:
                fail(f"characters.{i}", "unknown_character",
                     f"There is no character {cid} of a member of the document.")
        if errors:
            raise InvalidRequest(
                f"The document has {len(errors)} problem(s), so nothing was imported; see "
                "errors for each path.",
                errors=errors, code="import_invalid",
            )
        return bodies


def _renumber(kind: str, data: dict[str, Any], new_id: dict[int, int]) -> dict[str, Any]:
    """The body with every record id it names replaced by the imported record's id."""
    out = dict(data)
    for field in KINDS[kind].ref_fields:
        value = out.get(field)
        if isinstance(value, list):
            out[field] = [new_id[v] for v in value]
        elif value is not None:
            out[field] = new_id[value]
    if kind == "relationship":
        for field in ("from_ref", "to_ref"):
            prefix, ident = out[field].split(":")
            if prefix == "record":
                out[field] = f"record:{new_id[int(ident)]}"
    for step in out.get("history", []) if kind in ("plot", "relationship") else []:
        for field in ("chapter_id", "session_id"):
            if step.get(field) in new_id:
                step[field] = new_id[step[field]]
    return out

