"""Homebrew content: DMs register classes, species and items; the rules engine uses them."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.characters.schemas import Ruleset
from domain.errors import Conflict, Forbidden, InvalidRequest
from domain.homebrew.models import HomebrewContent
from domain.rules import HomebrewEntry, Rules, load_rules
from domain.users.schemas import Principal

_entry = TypeAdapter(HomebrewEntry)


class HomebrewService:
    def __init__(self, session: Session, principal: Principal | None = None):
        self.session = session
        self.principal = principal
        # Per transaction: a bulk call checks up to 1,000 documents with one homebrew query.
        self._rules: dict[str, Rules] = {}

    def register(self, ruleset: Ruleset, entry: dict[str, Any]) -> dict[str, Any]:
        if self.principal is None or self.principal.role not in ("admin", "dm"):
            raise Forbidden("Only a DM or an admin can register homebrew content.")
        parsed = _entry.validate_python(entry)
        try:  # the same check that the engine makes: no clash with SRD or other homebrew
            self.rules(ruleset).with_homebrew([parsed])
        except ValueError as exc:
            raise Conflict(str(exc), code="homebrew_conflict") from None
        row = HomebrewContent(
            ruleset=ruleset,
            kind=parsed.kind,
            slug=parsed.slug,
            data=_entry.dump_python(parsed, mode="json", by_alias=True),
            author_id=self.principal.user_id,
        )
        self.session.add(row)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(
                f"Homebrew {parsed.slug!r} already exists in the {ruleset} rules.",
                code="homebrew_conflict",
            ) from None
        self._rules.pop(ruleset, None)  # the memo predates this entry
        return self._out(row)

    def list(self, ruleset: Ruleset) -> list[dict[str, Any]]:
        rows = self.session.scalars(
            select(HomebrewContent)
            .where(HomebrewContent.ruleset == ruleset)
            .order_by(HomebrewContent.id)
        )
        return [self._out(r) for r in rows]

    def rules(self, ruleset: str) -> Rules:
        """The ruleset's tables with every registered homebrew entry added."""
        if ruleset not in self._rules:
            self._rules[ruleset] = self._load_rules(ruleset)
        return self._rules[ruleset]

    def _load_rules(self, ruleset: str) -> Rules:
        if ruleset not in ("2014", "2024"):
            raise InvalidRequest(f"Unknown ruleset {ruleset!r}: use '2014' or '2024'.")
        count, last_id, last_at = self.session.execute(
            select(
                func.count(), func.max(HomebrewContent.id), func.max(HomebrewContent.created_at)
            ).where(HomebrewContent.ruleset == ruleset)
        ).one()
        if not count:
            return load_rules(ruleset)  # type: ignore[arg-type]
        # Rows are only ever added, so count, newest id and time name one set of entries.
        return self._rules_with((ruleset, count, last_id, str(last_at)))

    def _rules_with(self, key: tuple) -> Rules:
        ruleset = key[0]
        if key not in _EXTENDED:
            rows = self.session.scalars(
                select(HomebrewContent.data)
                .where(HomebrewContent.ruleset == ruleset)
                .order_by(HomebrewContent.id)
            )
            entries = [_entry.validate_python(d) for d in rows]
            for stale in [k for k in _EXTENDED if k[0] == ruleset]:
                del _EXTENDED[stale]
            _EXTENDED[key] = load_rules(ruleset).with_homebrew(entries)  # type: ignore[arg-type]
        return _EXTENDED[key]

    @staticmethod
    def _out(row: HomebrewContent) -> dict[str, Any]:
        return {
            "id": row.id,
            "ruleset": row.ruleset,
            "kind": row.kind,
            "slug": row.slug,
            "data": row.data,
            "author_id": row.author_id,
            "created_at": row.created_at,
        }


# Per process: the newest homebrew-extended Rules of each ruleset.
_EXTENDED: dict[tuple, Rules] = {}
