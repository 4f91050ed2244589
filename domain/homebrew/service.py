"""Homebrew content: classes, species, items, backgrounds and spells merged into a ruleset's
tables. Admins register it for every character (the `global` scope); a campaign's DMs
register it for that campaign (`campaign:<id>`): only its members see it, and the campaign's
join check keeps it to that campaign's characters.

Entries have an owner (`author_id`) and a scope. Slugs are unique per ruleset whatever the
scope, so the rules engine checks every document against all live entries; what a user may
*see* (lists, entries, the catalog) follows the scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.db import utcnow
from domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from domain.homebrew.entries import HomebrewEntry
from domain.homebrew.merge import merge_homebrew
from domain.homebrew.models import HomebrewContent
from domain.homebrew.scopes import DM_ROLES, GLOBAL, CampaignRoles, campaign_of
from domain.rules import Rules, load_rules
from domain.sheet import Ruleset
from domain.users.permissions import Permission, has
from domain.users.schemas import Principal

_entry = TypeAdapter(HomebrewEntry)


@dataclass(frozen=True)
class HomebrewRules:
    """A ruleset's tables with its live homebrew, and the homebrew deleted from it."""

    rules: Rules
    deleted: dict[str, str]  # slug -> kind


class HomebrewService:
    def __init__(
        self, session: Session, principal: Principal, campaign_roles: CampaignRoles | None = None
    ):
        """`campaign_roles` tells the caller's campaigns: without it, campaign homebrew is
        hidden (but for admins) and cannot be written."""
        self.session = session
        self.principal = principal
        self._campaign_roles = campaign_roles
        self._roles: Mapping[int, str] | None = None
        # Per transaction: a bulk call checks up to 1,000 documents with one homebrew query.
        self._memo: dict[str, HomebrewRules] = {}
        self._visible: dict[str, Rules] = {}

    # --- reading -------------------------------------------------------------------------

    def list(self, ruleset: Ruleset, scope: str | None = None) -> list[dict[str, Any]]:
        """The live entries the caller may see, oldest first; `scope` keeps one scope's."""
        _check_ruleset(ruleset)
        query = (
            select(HomebrewContent)
            .where(HomebrewContent.ruleset == ruleset, HomebrewContent.deleted_at.is_(None))
            .order_by(HomebrewContent.id)
        )
        if scope is not None:
            campaign = campaign_of(scope)
            if campaign is not None and not self._sees(scope):
                raise _no_campaign(campaign)
            query = query.where(HomebrewContent.scope == scope)
        return [_out(r) for r in self.session.scalars(query) if self._sees(r.scope)]

    def get(self, ruleset: Ruleset, slug: str) -> dict[str, Any]:
        return _out(self._live_row(ruleset, slug, lock=False))

    def visible_rules(self, ruleset: str) -> Rules:
        """The ruleset's tables with the homebrew the caller may see (the catalog)."""
        if ruleset not in self._visible:
            self._visible[ruleset] = self._visible_rules(ruleset)
        return self._visible[ruleset]

    def _visible_rules(self, ruleset: str) -> Rules:
        rules = self.rules(ruleset)
        live = self.session.execute(
            select(HomebrewContent.slug, HomebrewContent.scope).where(
                HomebrewContent.ruleset == ruleset,
                HomebrewContent.deleted_at.is_(None),
                HomebrewContent.scope != GLOBAL,
            )
        )
        hidden = frozenset(slug for slug, scope in live if not self._sees(scope))
        if not hidden:
            return rules
        entries = [e for e in self._live_entries(ruleset) if e.slug not in hidden]
        try:
            return merge_homebrew(load_rules(ruleset), entries)  # type: ignore[arg-type]
        except ValueError:  # a visible entry builds on a hidden one: leave both out
            rows = self.session.scalars(
                select(HomebrewContent.data).where(
                    HomebrewContent.ruleset == ruleset,
                    HomebrewContent.deleted_at.is_(None),
                    HomebrewContent.scope == GLOBAL,
                )
            )
            globals_ = [_entry.validate_python(d) for d in rows]
            return merge_homebrew(load_rules(ruleset), globals_)  # type: ignore[arg-type]

    def rules(self, ruleset: str) -> Rules:
        """The ruleset's tables with every live homebrew entry added."""
        return self.homebrew_rules(ruleset).rules

    def homebrew_rules(self, ruleset: str) -> HomebrewRules:
        """The rules with live homebrew, and what was deleted (for `flag_deleted`)."""
        if ruleset not in self._memo:
            self._memo[ruleset] = self._load(ruleset)
        return self._memo[ruleset]

    # --- writing -------------------------------------------------------------------------

    def register(
        self, ruleset: Ruleset, entry: dict[str, Any], scope: str = GLOBAL
    ) -> dict[str, Any]:
        """Add an entry. A slug whose entry was deleted is registered anew on the same row."""
        _check_ruleset(ruleset)
        self._require_write(scope)
        parsed = _entry.validate_python(entry)
        self._lock(ruleset)
        row = self._row(ruleset, parsed.slug)
        if row is not None and row.deleted_at is None:  # (maybe another campaign's: no more)
            raise Conflict(
                f"The homebrew slug {parsed.slug!r} is taken in the {ruleset} rules; replace "
                "your entry or choose a different slug.",
                code="homebrew_conflict",
            )
        try:  # the same check that the engine makes: no clash with SRD or other homebrew
            merge_homebrew(self.rules(ruleset), [parsed])
        except ValueError as exc:
            raise Conflict(str(exc), code="homebrew_conflict") from None
        data = _entry.dump_python(parsed, mode="json", by_alias=True)
        now = utcnow()
        if row is None:
            row = HomebrewContent(ruleset=ruleset, slug=parsed.slug)
            self.session.add(row)
        else:
            row.revision += 1
            row.deleted_at = None
        row.kind, row.data, row.scope = parsed.kind, data, scope
        row.author_id, row.created_at, row.updated_at = self.principal.user_id, now, now
        try:
            self.session.flush()
        except IntegrityError:  # a concurrent registration of the same slug won
            raise Conflict(
                f"Homebrew {parsed.slug!r} already exists in the {ruleset} rules.",
                code="homebrew_conflict",
            ) from None
        self._memo.pop(ruleset, None)
        self._visible.pop(ruleset, None)
        return _out(row)

    def replace(self, ruleset: Ruleset, slug: str, entry: dict[str, Any]) -> dict[str, Any]:
        """Put new data under an existing slug (the kind may change); checked like a new
        entry against the SRD, and other homebrew that refers to it must still fit."""
        parsed = _entry.validate_python(entry)
        if parsed.slug != slug:
            raise InvalidRequest(
                f"The entry's slug {parsed.slug!r} differs from {slug!r}: a replacement keeps "
                "its slug (delete it and register the new slug instead).",
                code="homebrew_slug_mismatch",
            )
        row = self._live_row(ruleset, slug, lock=True)
        self._require_owner(row)
        self._require_write(row.scope)
        try:
            merge_homebrew(load_rules(ruleset), [*self._live_entries(ruleset, slug), parsed])
        except ValueError as exc:
            raise Conflict(str(exc), code="homebrew_conflict") from None
        row.kind = parsed.kind
        row.data = _entry.dump_python(parsed, mode="json", by_alias=True)
        self._touch(row)
        return _out(row)

    def delete(self, ruleset: Ruleset, slug: str) -> None:
        """Soft delete: characters that still name the entry are told it was deleted."""
        row = self._live_row(ruleset, slug, lock=True)
        self._require_owner(row)
        try:
            merge_homebrew(load_rules(ruleset), self._live_entries(ruleset, slug))
        except ValueError as exc:
            raise Conflict(
                f"Homebrew {slug!r} cannot be deleted while other homebrew refers to it "
                f"({exc}); replace or delete that entry first.",
                code="homebrew_in_use",
            ) from None
        row.deleted_at = utcnow()
        self._touch(row)

    # --- plumbing ------------------------------------------------------------------------

    def _roles_of_caller(self) -> Mapping[int, str]:
        if self._roles is None:
            found = self._campaign_roles
            self._roles = {} if found is None else found(self.session, self.principal.user_id)
        return self._roles

    def _sees(self, scope: str) -> bool:
        campaign = campaign_of(scope)
        return (
            campaign is None
            or has(self.principal, Permission.HOMEBREW_DELETE_ANY)
            or campaign in self._roles_of_caller()
        )

    def _is_campaign_dm(self, scope: str) -> bool:
        campaign = campaign_of(scope)
        return campaign is not None and self._roles_of_caller().get(campaign) in DM_ROLES

    def _require_write(self, scope: str) -> None:
        campaign = campaign_of(scope)
        if campaign is not None:
            self._require_campaign_dm(campaign)
            return
        if has(self.principal, Permission.HOMEBREW_WRITE_GLOBAL):
            return
        raise Forbidden(
            "Global homebrew (usable by every character) needs the permission "
            f"{Permission.HOMEBREW_WRITE_GLOBAL.value!r}, which admins hold. A campaign's DM "
            "registers homebrew for that campaign with ?scope=campaign:<campaign id>."
        )

    def _require_campaign_dm(self, campaign: int) -> None:
        if self._campaign_roles is None:
            raise InvalidRequest(
                "Campaign homebrew is written through the rules application "
                "(POST /api/v2/rules/{ruleset}/homebrew?scope=campaign:<id>).",
                code="homebrew_scope_unavailable",
            )
        role = self._roles_of_caller().get(campaign)
        if role is None:
            raise _no_campaign(campaign)
        if role not in DM_ROLES:
            raise Forbidden(
                f"Only the DMs of campaign {campaign} (its owner and co-DMs) may write its "
                "homebrew; ask them to add it.",
                code="homebrew_campaign_dm_only",
            )

    def _require_owner(self, row: HomebrewContent) -> None:
        if (
            row.author_id != self.principal.user_id
            and not has(self.principal, Permission.HOMEBREW_DELETE_ANY)
            and not self._is_campaign_dm(row.scope)  # a campaign's DMs share its homebrew
        ):
            raise Forbidden(
                f"Homebrew {row.slug!r} belongs to another user: only its owner, an admin "
                "or (campaign homebrew) the campaign's DMs can replace or delete it."
            )

    def _lock(self, ruleset: str) -> None:
        """Serialise homebrew writes of one ruleset: each checks the whole set of entries,
        and a concurrent delete or replace must not change it between check and write.
        (A no-op UPDATE: row locks on PostgreSQL, the write lock on SQLite.)"""
        self.session.execute(
            update(HomebrewContent)
            .where(HomebrewContent.ruleset == ruleset)
            .values(revision=HomebrewContent.revision)
            .execution_options(synchronize_session=False)
        )
        self._memo.pop(ruleset, None)
        self._visible.pop(ruleset, None)

    def _touch(self, row: HomebrewContent) -> None:
        row.revision += 1
        row.updated_at = utcnow()
        self.session.flush()
        self._memo.pop(row.ruleset, None)
        self._visible.pop(row.ruleset, None)

    def _row(self, ruleset: str, slug: str) -> HomebrewContent | None:
        return self.session.scalar(
            select(HomebrewContent).where(
                HomebrewContent.ruleset == ruleset, HomebrewContent.slug == slug
            )
        )

    def _live_row(self, ruleset: str, slug: str, *, lock: bool) -> HomebrewContent:
        _check_ruleset(ruleset)
        if lock:
            self._lock(ruleset)
        row = self._row(ruleset, slug)
        if row is None or row.deleted_at is not None or not self._sees(row.scope):
            raise NotFound(f"There is no homebrew {slug!r} in the {ruleset} rules.")
        return row

    def _live_entries(self, ruleset: str, but: str | None = None) -> list[HomebrewEntry]:
        """The ruleset's live entries, but the one named `but`."""
        query = select(HomebrewContent.data).where(
            HomebrewContent.ruleset == ruleset, HomebrewContent.deleted_at.is_(None)
        )
        if but is not None:
            query = query.where(HomebrewContent.slug != but)
        rows = self.session.scalars(query.order_by(HomebrewContent.id))
        return [_entry.validate_python(d) for d in rows]

    def _load(self, ruleset: str) -> HomebrewRules:
        _check_ruleset(ruleset)
        # Every change raises a row's revision and its updated_at, so these name one state
        # of the ruleset's homebrew (the time also tells apart a table emptied and refilled).
        key = self.session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(HomebrewContent.revision), 0),
                func.max(HomebrewContent.updated_at),
            ).where(HomebrewContent.ruleset == ruleset)
        ).one()
        if not key[0]:
            return HomebrewRules(load_rules(ruleset), {})  # type: ignore[arg-type]
        cached = _EXTENDED.get(ruleset)
        if cached is None or cached[0] != tuple(key):
            gone = self.session.execute(
                select(HomebrewContent.slug, HomebrewContent.kind).where(
                    HomebrewContent.ruleset == ruleset, HomebrewContent.deleted_at.is_not(None)
                )
            )
            deleted = {slug: kind for slug, kind in gone}
            srd = load_rules(ruleset)  # type: ignore[arg-type]
            rules = merge_homebrew(srd, self._live_entries(ruleset))
            cached = _EXTENDED[ruleset] = (tuple(key), HomebrewRules(rules, deleted))
        return cached[1]


def _check_ruleset(ruleset: str) -> None:
    if ruleset not in ("2014", "2024"):
        raise InvalidRequest(f"Unknown ruleset {ruleset!r}: use '2014' or '2024'.")


def _no_campaign(campaign: int) -> NotFound:
    # The campaigns application's own words for a campaign one does not belong to.
    return NotFound(
        f"There is no campaign {campaign} that you belong to.", code="campaign_not_found"
    )


def _out(row: HomebrewContent) -> dict[str, Any]:
    return {
        "id": row.id,
        "ruleset": row.ruleset,
        "kind": row.kind,
        "slug": row.slug,
        "scope": row.scope,
        "data": row.data,
        "author_id": row.author_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


# Per process: the newest homebrew-extended rules of each ruleset, with their state key.
_EXTENDED: dict[str, tuple[tuple, HomebrewRules]] = {}
