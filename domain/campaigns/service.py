"""The campaign document and its members: create, read, replace, versions, restore, theme
transitions, direct adds and invitations.

Invariants: every member of a campaign has exactly one role in it (owner, codm, player);
a non-member is told that the campaign does not exist; every write of the document makes
one immutable version and names the version it was based on (If-Match), 409 otherwise.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from domain.campaigns.base import CampaignScope
from domain.campaigns.joining import theme_issues
from domain.campaigns.messages import (
    CampaignOut,
    CampaignPage,
    CampaignSummary,
    CampaignVersionOut,
    InvitationOut,
    MemberIn,
    MemberOut,
    RestoreRequest,
    ThemeChange,
    ThemeChangeOut,
    VersionSummary,
)
from domain.campaigns.models import (
    Campaign,
    CampaignCharacter,
    CampaignInvitation,
    CampaignMember,
    CampaignVersion,
)
from domain.campaigns.schemas import CampaignDoc
from domain.campaigns.themes import check_campaign_transition
from domain.characters.diff import diff
from domain.characters.models import Character
from domain.db import utcnow
from domain.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    PreconditionRequired,
    VersionConflict,
)
from domain.users.models import User
from domain.users.permissions import Permission, require


def check_version(kind: str, ident: int, current: int, expected: int | None) -> None:
    """If-Match: 428 when absent, 409 when stale."""
    if expected is None:
        raise PreconditionRequired(
            f"Send If-Match with the version you edited (the ETag of GET), currently "
            f"{current}, so that a concurrent edit is not overwritten."
        )
    if expected != current:
        raise VersionConflict(
            f"{kind} {ident} is at version {current}, not {expected}: another edit came "
            "first. GET it again, reapply your change, and retry.",
            current_version=current,
        )


def check_calendar(doc: CampaignDoc) -> None:
    """The calendar's current date must exist in it (422 `bad_world_date`)."""
    if doc.calendar.current is not None:
        try:
            doc.calendar.check(doc.calendar.current)
        except ValueError as exc:
            raise InvalidRequest(
                f"calendar.current does not exist in the calendar: {exc}.", code="bad_world_date"
            ) from None


class CampaignService(CampaignScope):
    # --- the campaign --------------------------------------------------------------------

    def create(self, doc: CampaignDoc) -> CampaignOut:
        require(self.principal, Permission.CAMPAIGNS_CREATE)
        check_calendar(doc)
        if doc.theme is not None:
            check_campaign_transition(None, doc.theme, doc.ruleset)
        data = doc.dump()
        row = Campaign(
            owner_id=self.principal.user_id,
            name=doc.name,
            ruleset=doc.ruleset,
            version=1,
            document=data,
        )
        self.session.add(row)
        self.session.flush()
        self.session.add(CampaignMember(campaign_id=row.id, user_id=row.owner_id, role="owner"))
        self.session.add(
            CampaignVersion(
                campaign_id=row.id,
                number=1,
                document=data,
                author_id=self.principal.user_id,
                reason="created",
            )
        )
        self.session.flush()
        access = self.access(row.id)
        self.changed(access, "campaign", "created", summary=f"campaign {doc.name!r} created")
        return self._out(row, "owner")

    def get(self, campaign_id: int) -> CampaignOut:
        access = self.access(campaign_id)
        return self._out(self.campaign(campaign_id), access.role)

    def list(self, limit: int = 50, offset: int = 0) -> CampaignPage:
        query = (
            select(Campaign, CampaignMember.role)
            .join(CampaignMember, CampaignMember.campaign_id == Campaign.id)
            .where(CampaignMember.user_id == self.principal.user_id)
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.session.execute(query.order_by(Campaign.id).limit(limit).offset(offset))
        items = [
            CampaignSummary(
                id=c.id, name=c.name, ruleset=c.ruleset, role=role, version=c.version,
                updated_at=c.updated_at,
            )
            for c, role in rows
        ]
        return CampaignPage(items=items, total=total or 0, limit=limit, offset=offset)

    def replace(
        self, campaign_id: int, doc: CampaignDoc, expected: int | None, reason: str = ""
    ) -> CampaignOut:
        access = self.dm_access(campaign_id, "change the campaign")
        row = self.campaign(campaign_id)
        check_version("Campaign", campaign_id, row.version, expected)
        if doc.ruleset != row.ruleset:
            raise InvalidRequest(
                "A campaign's ruleset cannot change: create a new campaign for the other rules.",
                code="ruleset_immutable",
            )
        if doc.theme != row.document.get("theme"):
            raise InvalidRequest(
                "Change the theme with PUT /{id}/theme, which checks the transition; send the "
                f"current theme ({row.document.get('theme')!r}) here.",
                code="theme_change_needs_transition",
            )
        check_calendar(doc)
        return self._write(access, row, doc, reason or "edited")

    def delete(self, campaign_id: int, expected: int | None) -> None:
        access = self.owner_access(campaign_id, "delete the campaign")
        row = self.campaign(campaign_id)
        check_version("Campaign", campaign_id, row.version, expected)
        self.changed(access, "campaign", "deleted", summary=f"campaign {row.name!r} deleted")
        self.session.delete(row)
        self.session.flush()

    # --- versions ------------------------------------------------------------------------

    def versions(self, campaign_id: int) -> list[VersionSummary]:
        self.access(campaign_id)
        rows = list(self.session.scalars(
            select(CampaignVersion)
            .where(CampaignVersion.campaign_id == campaign_id)
            .order_by(CampaignVersion.number)
        ))
        out, before = [], {}
        for v in rows:
            out.append(VersionSummary(
                number=v.number, author_id=v.author_id, reason=v.reason,
                created_at=v.created_at, diff=diff(before, v.document),
            ))
            before = v.document
        return out

    def version(self, campaign_id: int, number: int) -> CampaignVersionOut:
        self.access(campaign_id)
        v = self._version(campaign_id, number)
        prev = self.session.scalar(
            select(CampaignVersion.document).where(
                CampaignVersion.campaign_id == campaign_id, CampaignVersion.number == number - 1
            )
        )
        return CampaignVersionOut(
            number=v.number, author_id=v.author_id, reason=v.reason, created_at=v.created_at,
            diff=diff(prev or {}, v.document), document=v.document,
        )

    def restore(
        self, campaign_id: int, number: int, expected: int | None, req: RestoreRequest
    ) -> CampaignOut:
        access = self.dm_access(campaign_id, "restore a version")
        row = self.campaign(campaign_id)
        check_version("Campaign", campaign_id, row.version, expected)
        old = self._version(campaign_id, number)
        doc = CampaignDoc.model_validate(old.document)
        return self._write(access, row, doc, req.reason or f"restored version {number}")

    def _version(self, campaign_id: int, number: int) -> CampaignVersion:
        v = self.session.scalar(
            select(CampaignVersion).where(
                CampaignVersion.campaign_id == campaign_id, CampaignVersion.number == number
            )
        )
        if v is None:
            raise NotFound(f"Campaign {campaign_id} has no version {number}.")
        return v

    # --- theme ---------------------------------------------------------------------------

    def change_theme(
        self, campaign_id: int, req: ThemeChange, expected: int | None
    ) -> ThemeChangeOut:
        access = self.dm_access(campaign_id, "change the theme")
        row = self.campaign(campaign_id)
        check_version("Campaign", campaign_id, row.version, expected)
        current = row.document.get("theme")
        check_campaign_transition(current, req.to, row.ruleset)
        issues: list[dict[str, Any]] = []  # characters already playing must fit the theme
        for character in self.session.scalars(
            select(Character)
            .join(CampaignCharacter, CampaignCharacter.character_id == Character.id)
            .where(CampaignCharacter.campaign_id == campaign_id)
        ):
            issues += theme_issues(self.session, self.principal, character, req.to)
        if issues:
            raise InvalidRequest(
                f"{len(issues)} part(s) of characters in the campaign break the theme "
                f"{req.to!r}; each error names the character and what to change.",
                errors=issues,
                code="theme_incompatible",
            )
        doc = CampaignDoc.model_validate({**row.document, "theme": req.to})
        reason = f"theme {current or 'none'} -> {req.to or 'none'}: {req.reason}"[:500]
        out = self._write(access, row, doc, reason, kind="theme")
        return ThemeChangeOut(campaign=out, from_theme=current, to_theme=req.to)

    # --- members -------------------------------------------------------------------------

    def members(self, campaign_id: int) -> list[MemberOut]:
        self.access(campaign_id)
        rows = self.session.scalars(
            select(CampaignMember)
            .where(CampaignMember.campaign_id == campaign_id)
            .order_by(CampaignMember.id)
        )
        return [MemberOut.model_validate(m, from_attributes=True) for m in rows]

    def add_member(self, campaign_id: int, req: MemberIn) -> MemberOut:
        access = self.owner_access(campaign_id, "add members")
        self._user(req.user_id)
        member = self._member(campaign_id, req.user_id)
        if member is not None:
            if member.role == "owner":
                raise Conflict("The owner's role cannot change.", code="owner_role")
            member.role = req.role
        else:
            member = CampaignMember(campaign_id=campaign_id, user_id=req.user_id, role=req.role)
            self.session.add(member)
        self.session.execute(
            CampaignInvitation.__table__.delete().where(
                CampaignInvitation.campaign_id == campaign_id,
                CampaignInvitation.user_id == req.user_id,
            )
        )
        self.session.flush()
        self.changed(access, "member", "updated", summary=f"user {req.user_id} is {req.role}")
        return MemberOut.model_validate(member, from_attributes=True)

    def remove_member(self, campaign_id: int, user_id: int) -> None:
        """The owner removes anyone but themself; a member may leave."""
        access = self.access(campaign_id)
        if user_id != self.principal.user_id:
            access = self.owner_access(campaign_id, "remove other members")
        member = self._member(campaign_id, user_id)
        if member is None:
            raise NotFound(f"User {user_id} is not a member of campaign {campaign_id}.")
        if member.role == "owner":
            raise Conflict(
                "The owner cannot leave their campaign: delete it instead.", code="owner_role"
            )
        self.session.delete(member)
        self.session.flush()
        self.changed(access, "member", "deleted", summary=f"user {user_id} left")

    def invite(self, campaign_id: int, req: MemberIn) -> InvitationOut:
        access = self.owner_access(campaign_id, "invite members")
        self._user(req.user_id)
        if self._member(campaign_id, req.user_id) is not None:
            raise Conflict(f"User {req.user_id} is already a member.", code="already_member")
        inv = self.session.scalar(
            select(CampaignInvitation).where(
                CampaignInvitation.campaign_id == campaign_id,
                CampaignInvitation.user_id == req.user_id,
            )
        )
        if inv is None:
            inv = CampaignInvitation(
                campaign_id=campaign_id, user_id=req.user_id, invited_by=self.principal.user_id
            )
            self.session.add(inv)
        inv.role = req.role
        self.session.flush()
        self.changed(access, "invitation", "created", visibility="dm",
                     summary=f"user {req.user_id} invited as {req.role}")
        return self._invitation_out(inv)

    def my_invitations(self) -> list[InvitationOut]:
        rows = self.session.scalars(
            select(CampaignInvitation)
            .where(CampaignInvitation.user_id == self.principal.user_id)
            .order_by(CampaignInvitation.id)
        )
        return [self._invitation_out(i) for i in rows]

    def answer_invitation(self, invitation_id: int, accept: bool) -> MemberOut | None:
        inv = self.session.get(CampaignInvitation, invitation_id)
        if inv is None or inv.user_id != self.principal.user_id:
            raise NotFound(f"You have no invitation {invitation_id}.")
        self.session.delete(inv)
        if not accept:
            self.session.flush()
            return None
        member = CampaignMember(
            campaign_id=inv.campaign_id, user_id=inv.user_id, role=inv.role
        )
        self.session.add(member)
        self.session.flush()
        access = self.access(inv.campaign_id)
        self.changed(access, "member", "created", summary=f"user {inv.user_id} joined")
        return MemberOut.model_validate(member, from_attributes=True)

    # --- plumbing ------------------------------------------------------------------------

    def _user(self, user_id: int) -> None:
        if self.session.get(User, user_id) is None:
            raise NotFound(f"There is no user {user_id}.", code="user_not_found")

    def _member(self, campaign_id: int, user_id: int) -> CampaignMember | None:
        return self.session.scalar(
            select(CampaignMember).where(
                CampaignMember.campaign_id == campaign_id, CampaignMember.user_id == user_id
            )
        )

    def _invitation_out(self, inv: CampaignInvitation) -> InvitationOut:
        name = self.session.scalar(select(Campaign.name).where(Campaign.id == inv.campaign_id))
        return InvitationOut(
            id=inv.id, campaign_id=inv.campaign_id, campaign_name=name or "", user_id=inv.user_id,
            role=inv.role, invited_by=inv.invited_by, created_at=inv.created_at,
        )

    def _write(
        self, access, row: Campaign, doc: CampaignDoc, reason: str, kind: str = "campaign"
    ) -> CampaignOut:
        data = doc.dump()
        if not diff(row.document, data):
            return self._out(row, access.role)
        number, now = row.version + 1, utcnow()
        moved = self.session.execute(
            update(Campaign)
            .where(Campaign.id == row.id, Campaign.version == row.version)
            .values(version=number, document=data, name=doc.name, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            raise VersionConflict(
                f"Campaign {row.id} changed while this edit was being made: GET it and retry."
            )
        self.session.add(CampaignVersion(
            campaign_id=row.id, number=number, document=data,
            author_id=self.principal.user_id, reason=reason[:500], created_at=now,
        ))
        self.session.flush()
        self.session.refresh(row)
        self.changed(access, kind, "updated", summary=reason)
        return self._out(row, access.role)

    def _out(self, row: Campaign, role: str) -> CampaignOut:
        return CampaignOut(
            id=row.id, owner_id=row.owner_id, version=row.version, role=role,
            created_at=row.created_at, updated_at=row.updated_at, document=row.document,
        )
