"""What a client may name: the tables of a ruleset (SRD plus homebrew) and its themes, so a
character builder can offer valid slugs instead of guessing them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from domain.errors import NotFound
from domain.rules.tables import TABLES, Rules
from domain.rules.themes import themes_for

Table = Literal[
    "classes",
    "subclasses",
    "races",
    "subraces",
    "backgrounds",
    "spells",
    "items",
    "feats",
    "languages",
    "skills",
]


class CatalogSummary(BaseModel):
    ruleset: str
    tables: dict[str, int]  # table -> number of entries
    themes: list[str]


class CatalogPage(BaseModel):
    table: str
    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]  # {slug, homebrew, ...facts of the entry}


class ThemeOut(BaseModel):
    slug: str
    name: str
    adjustments: dict[str, int]
    forbidden_schools: list[str]
    forbidden_spells: list[str]
    forbidden_items: list[str]
    forbidden_classes: list[str]
    requires_counterpart: bool
    allowed_from: list[str | None]


class CatalogService:
    def __init__(self, rules_for: Callable[[str], Rules]):
        self.rules_for = rules_for  # the ruleset's tables with homebrew added

    def summary(self, ruleset: str) -> CatalogSummary:
        rules = self.rules_for(ruleset)
        return CatalogSummary(
            ruleset=ruleset,
            tables={t: len(rules.table(t)) for t in TABLES},
            themes=[t.slug for t in themes_for(ruleset)],
        )

    def entries(
        self, ruleset: str, table: Table, q: str = "", limit: int = 100, offset: int = 0
    ) -> CatalogPage:
        rules = self.rules_for(ruleset)
        if table not in TABLES:
            raise NotFound(f"There is no rules table {table!r}; tables: {', '.join(TABLES)}.")
        needle = q.strip().lower()
        rows = [
            _row(slug, record, slug in rules.homebrew)
            for slug, record in sorted(rules.table(table).items())
            if not needle or needle in slug or needle in _name(record).lower()
        ]
        return CatalogPage(
            table=table,
            total=len(rows),
            limit=limit,
            offset=offset,
            items=rows[offset : offset + limit],
        )

    def themes(self, ruleset: str) -> list[ThemeOut]:
        self.rules_for(ruleset)  # rejects an unknown ruleset
        return [
            ThemeOut(
                slug=t.slug,
                name=t.name,
                adjustments=dict(t.adjustments),
                forbidden_schools=sorted(t.forbidden_schools),
                forbidden_spells=sorted(t.forbidden_spells),
                forbidden_items=sorted(t.forbidden_items),
                forbidden_classes=sorted(t.forbidden_classes),
                requires_counterpart=t.requires_counterpart,
                allowed_from=sorted(t.allowed_from, key=lambda s: s or ""),
            )
            for t in themes_for(ruleset)
        ]


def _name(record: Any) -> str:
    return record.get("name", "") if isinstance(record, dict) else ""


def _row(slug: str, record: Any, homebrew: bool) -> dict[str, Any]:
    facts = record if isinstance(record, dict) else {"ability": record}  # skills: slug -> ability
    return {"slug": slug, "homebrew": homebrew, **facts}
