"""The character service: CRUD, versions, themes, experience, links and bulk work.

Invariants: a stored character always passes rules validation (errors block a write,
warnings do not); every write makes one immutable version; a write names the version it
was based on and fails with 409 if another write came first.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from domain.characters import experience
from domain.characters.diff import diff
from domain.characters.merge_patch import merge_patch
from domain.characters.messages import (
    REASON_MAX,
    BulkItem,
    BulkOut,
    CampaignEventOut,
    CharacterOut,
    CharacterPage,
    CharacterSummary,
    CheckOut,
    LinkOut,
    LinkRequest,
    RestoreRequest,
    ThemeTransition,
    ThemeTransitionOut,
    VersionOut,
    VersionSummary,
    XpAwardOut,
    XpAwardRequest,
    XpAwardResult,
)
from domain.characters.models import Character, CharacterLink, CharacterVersion, XpAward
from domain.db import utcnow
from domain.errors import (
    Forbidden,
    InvalidCharacter,
    InvalidRequest,
    NotFound,
    PreconditionRequired,
    VersionConflict,
)
from domain.events.models import OutboxEvent
from domain.homebrew.deleted import flag_deleted
from domain.homebrew.scopes import CampaignRoles
from domain.homebrew.service import HomebrewService
from domain.rules import derive, validate
from domain.rules.charsheet import Sheet, build_sheet
from domain.rules.themes import apply_transition, check_transition
from domain.sheet import CharacterDoc, Derived, InventoryItem, ValidationReport, shape_errors
from domain.users.permissions import Permission, has
from domain.users.schemas import Principal


def _links_of(character_id: int) -> ColumnElement[bool]:
    """Links in which the character takes either side."""
    return or_(
        CharacterLink.character_id == character_id,
        CharacterLink.counterpart_id == character_id,
    )


def _fit(reason: str) -> str:
    """A version reason cut to its column (composed ones, "theme a -> b: <the user's reason>",
    can be longer than the user's), with an ellipsis when cut."""
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"


class CharacterService:
    def __init__(
        self, session: Session, principal: Principal, campaign_roles: CampaignRoles | None = None
    ):
        """`campaign_roles` (the caller's campaigns): given, a document is checked against
        the homebrew the caller may see, so another campaign's homebrew is unknown to it."""
        self.session = session
        self.principal = principal
        self.homebrew = HomebrewService(session, principal, campaign_roles)
        self._scoped = campaign_roles is not None

    # --- checking -------------------------------------------------------------------------

    def check(self, doc: CharacterDoc) -> tuple[ValidationReport, Derived]:
        homebrew = self.homebrew.homebrew_rules(doc.ruleset)
        rules = self.homebrew.visible_rules(doc.ruleset) if self._scoped else homebrew.rules
        report = flag_deleted(validate(doc, rules), doc, homebrew.deleted)
        return report, derive(doc, rules)

    def validate_document(self, doc: CharacterDoc) -> CheckOut:
        report, derived = self.check(doc)
        return CheckOut(validation=report, derived=derived)

    def _require_valid(self, doc: CharacterDoc, report: ValidationReport) -> None:
        if not report.valid:
            raise InvalidCharacter(
                f"{doc.name!r} breaks {len(report.errors)} rule(s) of the {doc.ruleset} "
                "rules; each error says how to fix it.",
                errors=[e.model_dump() for e in report.errors],
            )

    # --- CRUD ----------------------------------------------------------------------------

    def create(self, doc: CharacterDoc) -> CharacterOut:
        report, derived = self.check(doc)
        self._require_valid(doc, report)
        char = self._insert(doc)
        return self._out(char, report, derived)

    def _insert(self, doc: CharacterDoc) -> Character:
        data = doc.dump()
        char = Character(
            owner_id=self.principal.user_id,
            name=doc.name,
            ruleset=doc.ruleset,
            version=1,
            document=data,
        )
        self.session.add(char)
        self.session.flush()
        self.session.add(
            CharacterVersion(
                character_id=char.id,
                number=1,
                document=data,
                author_id=self.principal.user_id,
                reason="created",
                diff=diff({}, data),
            )
        )
        return char

    def get(self, character_id: int) -> CharacterOut:
        return self._out(self._load(character_id))

    def sheet(self, character_id: int) -> Sheet:
        """The complete character sheet (derived values a player expects, each proficiency
        with the grant that gave it), with the validation report."""
        doc = CharacterDoc.model_validate(self._load(character_id).document)
        homebrew = self.homebrew.homebrew_rules(doc.ruleset)
        report = flag_deleted(validate(doc, homebrew.rules), doc, homebrew.deleted)
        return build_sheet(doc, homebrew.rules, derive(doc, homebrew.rules), report)

    def list(self, limit: int = 50, offset: int = 0, ruleset: str | None = None) -> CharacterPage:
        query = select(Character)
        if not has(self.principal, Permission.CHARACTERS_READ_ANY):
            query = query.where(Character.owner_id == self.principal.user_id)
        if ruleset:
            query = query.where(Character.ruleset == ruleset)
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.session.scalars(query.order_by(Character.id).limit(limit).offset(offset))
        items = [CharacterSummary.model_validate(c, from_attributes=True) for c in rows]
        return CharacterPage(items=items, total=total or 0, limit=limit, offset=offset)

    def replace(
        self, character_id: int, doc: CharacterDoc, expected: int | None, reason: str = ""
    ) -> CharacterOut:
        char = self._load_for_write(character_id, expected)
        if doc.ruleset != char.ruleset:
            raise InvalidRequest(
                "A character's ruleset cannot change: create a new character for the other rules.",
                code="ruleset_immutable",
            )
        return self._write(char, doc, reason or "edited")

    def patch(
        self, character_id: int, patch: dict[str, Any], expected: int | None, reason: str = ""
    ) -> CharacterOut:
        """Apply a JSON Merge Patch to the stored document."""
        char = self._load_for_write(character_id, expected)
        try:
            doc = CharacterDoc.model_validate(merge_patch(char.document, patch))
        except ValidationError as exc:
            raise InvalidRequest(
                "The patched document is not a valid character; see errors for each path.",
                errors=shape_errors(exc),
                code="validation_error",
            ) from None
        return self.replace(character_id, doc, expected, reason or "patched")

    def delete(self, character_id: int, expected: int | None) -> None:
        char = self._load_for_write(character_id, expected)
        self.session.delete(char)
        self.session.flush()

    # --- versions ------------------------------------------------------------------------

    def versions(self, character_id: int) -> list[VersionSummary]:
        self._load(character_id)
        rows = self.session.scalars(
            select(CharacterVersion)
            .where(CharacterVersion.character_id == character_id)
            .order_by(CharacterVersion.number)
        )
        return [VersionSummary.model_validate(v, from_attributes=True) for v in rows]

    def version(self, character_id: int, number: int) -> VersionOut:
        self._load(character_id)
        return VersionOut.model_validate(self._version(character_id, number), from_attributes=True)

    def restore(
        self, character_id: int, number: int, expected: int | None, req: RestoreRequest
    ) -> CharacterOut:
        char = self._load_for_write(character_id, expected)
        old = self._version(character_id, number)
        doc = CharacterDoc.model_validate(old.document)
        return self._write(char, doc, req.reason or f"restored version {number}", force=True)

    def _version(self, character_id: int, number: int) -> CharacterVersion:
        row = self.session.scalar(
            select(CharacterVersion).where(
                CharacterVersion.character_id == character_id, CharacterVersion.number == number
            )
        )
        if row is None:
            raise NotFound(f"Character {character_id} has no version {number}.")
        return row

    # --- themes and links ------------------------------------------------------------------

    def transition_theme(
        self, character_id: int, req: ThemeTransition, expected: int | None
    ) -> ThemeTransitionOut:
        char = self._load_for_write(character_id, expected)
        doc = CharacterDoc.model_validate(char.document)
        if req.counterpart_id is not None:
            self.link(character_id, LinkRequest(counterpart_id=req.counterpart_id))
        rules = self.homebrew.rules(doc.ruleset)
        issues = check_transition(doc, req.to, rules, has_counterpart=self._has_link(char.id))
        if issues:
            raise InvalidCharacter(
                f"{doc.name!r} cannot move from theme {doc.theme!r} to {req.to!r}.",
                errors=[i.model_dump() for i in issues],
                code="theme_incompatible",
            )
        new_doc, adjustments = apply_transition(doc, req.to)
        reason = f"theme {doc.theme or 'none'} -> {req.to or 'none'}: {req.reason}"
        out = self._write(char, new_doc, reason)
        return ThemeTransitionOut(
            character=out, from_theme=doc.theme, to_theme=req.to, adjustments=adjustments
        )

    def link(self, character_id: int, req: LinkRequest) -> LinkOut:
        self._load(character_id, write=True)
        if req.counterpart_id == character_id:
            raise InvalidRequest("A character cannot be its own counterpart.", code="bad_link")
        self._load(req.counterpart_id)
        row = self.session.scalar(
            select(CharacterLink).where(
                CharacterLink.character_id == character_id,
                CharacterLink.counterpart_id == req.counterpart_id,
            )
        )
        if row is None:
            row = CharacterLink(
                character_id=character_id, counterpart_id=req.counterpart_id, kind=req.kind
            )
            self.session.add(row)
            self.session.flush()
        return LinkOut.model_validate(row, from_attributes=True)

    def links(self, character_id: int) -> list[LinkOut]:
        self._load(character_id)
        rows = self.session.scalars(
            select(CharacterLink).where(_links_of(character_id)).order_by(CharacterLink.id)
        )
        return [LinkOut.model_validate(r, from_attributes=True) for r in rows]

    def _has_link(self, character_id: int) -> bool:
        exists = select(CharacterLink.id).where(_links_of(character_id)).exists()
        return bool(self.session.scalar(select(exists)))

    # --- experience ----------------------------------------------------------------------

    def award_xp(self, character_id: int, req: XpAwardRequest) -> XpAwardResult:
        char = self._load(character_id, write=True)
        doc = CharacterDoc.model_validate(char.document)
        rules = self.homebrew.rules(doc.ruleset)
        change = experience.apply_award(doc, req, rules)
        out = self._write(char, change.doc, f"{req.kind} award: {req.reason}")
        award = XpAward(
            character_id=char.id,
            kind=req.kind,
            amount=change.xp_added,
            reason=req.reason,
            level_before=change.level_before,
            level_after=change.level_after,
            version=out.version,
            author_id=self.principal.user_id,
        )
        self.session.add(award)
        self.session.flush()
        return XpAwardResult(
            award=XpAwardOut.model_validate(award, from_attributes=True),
            character=out,
            pending_levels=change.pending_levels,
        )

    def xp_history(self, character_id: int) -> list[XpAwardOut]:
        self._load(character_id)
        rows = self.session.scalars(
            select(XpAward).where(XpAward.character_id == character_id).order_by(XpAward.id)
        )
        return [XpAwardOut.model_validate(r, from_attributes=True) for r in rows]

    # --- campaign events -----------------------------------------------------------------

    def receive_item(self, character_id: int, item: dict[str, Any], reason: str) -> CharacterOut:
        """Put an inventory entry into the character's inventory as a new version (a stack
        of the same loose item grows). A campaign's item award arrives here."""
        char = self._load(character_id, write=True)
        data = CharacterDoc.model_validate(char.document).dump()
        try:
            entry = InventoryItem.model_validate(item).model_dump(mode="json", by_alias=True)
        except ValidationError as exc:
            raise InvalidRequest(
                "The item is not an inventory entry; see errors for each field.",
                errors=shape_errors(exc),
                code="validation_error",
            ) from None
        loose = not entry["container"] and not entry["equipped"]
        stack = next(
            (
                held
                for held in data["inventory"]
                if loose and held["item"] == entry["item"]
                and not held.get("container") and not held.get("equipped")
            ),
            None,
        )
        if stack is None:
            data["inventory"].append(entry)
        else:
            stack["quantity"] += entry["quantity"]
        return self._write(char, CharacterDoc.model_validate(data), reason)

    def campaign_events(
        self, character_id: int, after: int = 0, limit: int = 100
    ) -> list[CampaignEventOut]:
        """The campaign events that name this character, oldest first, as the caller may
        see them: a player sees what is public, for the party or for them, never a DM secret."""
        self._load(character_id)
        query = (
            select(OutboxEvent)
            .where(
                OutboxEvent.character_id == character_id,
                OutboxEvent.campaign_id.is_not(None),
                OutboxEvent.seq > after,
            )
            .order_by(OutboxEvent.seq)
            .limit(limit)
        )
        if not has(self.principal, Permission.CHARACTERS_READ_ANY):
            visible = ("public", "party", f"player:{self.principal.user_id}")
            query = query.where(OutboxEvent.visibility.in_(visible))
        rows = self.session.scalars(query)
        return [CampaignEventOut.model_validate(r, from_attributes=True) for r in rows]

    # --- bulk ----------------------------------------------------------------------------

    def bulk_validate(self, items: list[Any]) -> BulkOut:
        results = [self._bulk_check(i, item)[0] for i, item in enumerate(items)]
        return BulkOut(ok=all(r.ok for r in results), items=results)

    def bulk_create(self, items: list[Any], partial: bool = False) -> BulkOut:
        checked = [self._bulk_check(i, item) for i, item in enumerate(items)]
        results = [r for r, _ in checked]
        all_ok = all(r.ok for r in results)
        if not all_ok and not partial:
            failed = [r.model_dump() for r in results if not r.ok]
            raise InvalidCharacter(
                f"{len(failed)} of {len(items)} characters are invalid, so none was created; "
                "fix them or send ?partial=true to create the valid ones.",
                errors=failed,
                code="bulk_invalid",
            )
        for result, doc in checked:
            if result.ok and doc is not None:
                result.id = self._insert(doc).id
        return BulkOut(ok=all_ok, created=sum(r.id is not None for r in results), items=results)

    def _bulk_check(self, index: int, item: Any) -> tuple[BulkItem, CharacterDoc | None]:
        try:
            doc = CharacterDoc.model_validate(item)
        except ValidationError as exc:
            return BulkItem(index=index, ok=False, errors=shape_errors(exc)), None
        report, _ = self.check(doc)
        return BulkItem(index=index, ok=report.valid, validation=report), doc

    # --- shared plumbing -----------------------------------------------------------------

    def _load(self, character_id: int, write: bool = False) -> Character:
        """Fetch a character the caller may see (and, with `write`, change). Another user's
        character answers exactly like a missing one, so ids reveal nothing."""
        char = self.session.get(Character, character_id)
        mine = char is not None and char.owner_id == self.principal.user_id
        if char is None or not (mine or has(self.principal, Permission.CHARACTERS_READ_ANY)):
            raise NotFound(f"There is no character {character_id}.")
        if write and not (mine or has(self.principal, Permission.CHARACTERS_WRITE_ANY)):
            raise Forbidden(f"You may see character {character_id} but not change it.")
        return char

    def _load_for_write(self, character_id: int, expected: int | None) -> Character:
        """Fetch a character to change; `expected` is the If-Match version (None: not sent)."""
        char = self._load(character_id, write=True)
        if expected is None:
            raise PreconditionRequired(
                "Send If-Match with the version you edited (the ETag of GET), "
                f"currently {char.version}, so that a concurrent edit is not overwritten."
            )
        if expected != char.version:
            raise VersionConflict(
                f"Character {character_id} is at version {char.version}, not {expected}: "
                "another edit came first. GET it again, reapply your change, and retry.",
                current_version=char.version,
            )
        return char

    def _write(self, char: Character, doc: CharacterDoc, reason: str, force: bool = False):
        """Store a new version of `char`. `force` skips the rules check (restores only:
        an old version was valid when written, and losing it would be worse)."""
        report, derived = self.check(doc)
        if not force:
            self._require_valid(doc, report)
        data = doc.dump()
        changes = diff(char.document, data)
        if not changes:
            return self._out(char, report, derived)
        number = char.version + 1
        now = utcnow()
        # Compare-and-set on the version column: of two racing writers only one moves it.
        moved = self.session.execute(
            update(Character)
            .where(Character.id == char.id, Character.version == char.version)
            .values(version=number, document=data, name=doc.name, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:  # the caller's transaction rolls back on the raise
            raise VersionConflict(
                f"Character {char.id} changed while this edit was being made: GET it and retry."
            )
        self.session.add(
            CharacterVersion(
                character_id=char.id,
                number=number,
                document=data,
                author_id=self.principal.user_id,
                reason=_fit(reason),
                diff=changes,
                created_at=now,
            )
        )
        self.session.flush()
        self.session.refresh(char)
        return self._out(char, report, derived)

    def _out(
        self,
        char: Character,
        report: ValidationReport | None = None,
        derived: Derived | None = None,
    ) -> CharacterOut:
        if report is None or derived is None:
            report, derived = self.check(CharacterDoc.model_validate(char.document))
        return CharacterOut(
            id=char.id,
            owner_id=char.owner_id,
            version=char.version,
            created_at=char.created_at,
            updated_at=char.updated_at,
            document=char.document,
            derived=derived,
            validation=report,
        )
