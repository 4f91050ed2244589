"""The record of generated outputs: each one stored with its prompt, model, parameters and
token counts; listed, compared, and restored (a restore is a new version whose output is an
earlier one's, so history is never rewritten). A user sees their own outputs; a campaign's
DMs also see (read-only) every output made for that campaign; an admin sees all. Who DMs
which campaign is the campaigns service's answer, which the caller asks and hands in
(`dm_of`): this module never reads campaign tables. Also the campaigns' own daily token
budgets."""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.db import utcnow
from domain.errors import Forbidden, NotFound
from domain.generation.models import CampaignTokenQuota, GenerationRecord
from domain.generation.schemas import (
    Comparison,
    GenerationDetail,
    GenerationOut,
    GenerationPage,
    Tokens,
)
from domain.users.schemas import Principal

STRUCTURED = {"npc", "location", "plot_hook", "encounter", "magic_item", "theme"}


@dataclass
class NewGeneration:
    kind: str
    prompt: str
    model: str
    params: dict[str, Any]
    output: str
    prompt_tokens: int
    completion_tokens: int
    campaign_id: int | None = None
    chapter_id: int | None = None
    character_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # not stored: cached, attempts, ...


class GenerationService:
    def __init__(self, session: Session, principal: Principal, dm_of: frozenset[int] = frozenset()):
        self.session = session
        self.principal = principal
        # The campaigns the caller DMs, among those the request involves (see foreign_campaigns).
        self.dm_of = dm_of

    def as_dm_of(self, campaign_ids: frozenset[int]) -> GenerationService:
        return GenerationService(self.session, self.principal, campaign_ids)

    def foreign_campaigns(self, generation_ids: Collection[int]) -> frozenset[int]:
        """The campaigns of those of `generation_ids` that are someone else's: where the
        caller's DM rights decide whether they may read them."""
        if self.principal.role == "admin":
            return frozenset()
        rows = self.session.scalars(
            select(GenerationRecord.campaign_id).where(
                GenerationRecord.id.in_(list(generation_ids)),
                GenerationRecord.user_id != self.principal.user_id,
                GenerationRecord.campaign_id.is_not(None),
            )
        )
        return frozenset(c for c in rows if c is not None)

    def record(self, new: NewGeneration, parent_id: int | None = None) -> GenerationOut:
        """Store an output: a new lineage, or with `parent_id` the next version of its."""
        fields = {k: v for k, v in asdict(new).items() if k != "extra"}
        row = GenerationRecord(**fields, user_id=self.principal.user_id, version=1)
        if parent_id is not None:
            parent = self._load(parent_id)
            row.parent_id, row.root_id = parent.id, parent.root_id
            row.version = self._latest(parent.root_id).version + 1  # type: ignore[arg-type]
        self.session.add(row)
        self.session.flush()
        if row.root_id is None:
            row.root_id = row.id
            self.session.flush()
        return _out(row, **new.extra)

    def get(self, generation_id: int, *, to_write: bool = False) -> GenerationDetail:
        """`to_write`: to build on it (regenerate), which only its maker (or an admin) may."""
        row = self._load(generation_id, to_write=to_write)
        return GenerationDetail(**_out(row).model_dump(), prompt=row.prompt)

    def list(
        self,
        *,
        campaign_id: int | None = None,
        kind: str | None = None,
        root_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> GenerationPage:
        query = self._visible(select(GenerationRecord))
        for column, value in (
            (GenerationRecord.campaign_id, campaign_id),
            (GenerationRecord.kind, kind),
            (GenerationRecord.root_id, root_id),
        ):
            if value is not None:
                query = query.where(column == value)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(GenerationRecord.id.desc()).limit(limit).offset(offset)
        )
        return GenerationPage(items=[_out(r) for r in rows], total=total)

    def versions(self, generation_id: int) -> list[GenerationOut]:
        root = self._load(generation_id).root_id
        return self.list(root_id=root, limit=1000).items[::-1]

    def compare(self, a: int, b: int) -> Comparison:
        first, second = self._load(a), self._load(b)
        diff = difflib.unified_diff(
            first.output.splitlines(), second.output.splitlines(), f"#{a}", f"#{b}", lineterm=""
        )
        keys = sorted(set(first.params) | set(second.params))
        return Comparison(
            a=a,
            b=b,
            same_output=first.output == second.output,
            diff="\n".join(diff),
            params={
                k: [first.params.get(k), second.params.get(k)]
                for k in keys
                if first.params.get(k) != second.params.get(k)
            },
        )

    def restore(self, generation_id: int) -> GenerationOut:
        """A new version of the lineage whose output is `generation_id`'s (no tokens used)."""
        old = self._load(generation_id, to_write=True)
        head = self._latest(old.root_id)  # type: ignore[arg-type]
        row = GenerationRecord(
            root_id=old.root_id,
            parent_id=head.id,
            version=head.version + 1,
            restored_from=old.id,
            user_id=self.principal.user_id,
            campaign_id=old.campaign_id,
            chapter_id=old.chapter_id,
            character_id=old.character_id,
            kind=old.kind,
            prompt=old.prompt,
            model=old.model,
            params=old.params,
            prompt_tokens=0,
            completion_tokens=0,
            output=old.output,
        )
        self.session.add(row)
        self.session.flush()
        return _out(row)

    def _latest(self, root_id: int) -> GenerationRecord:
        return self.session.scalars(
            select(GenerationRecord)
            .where(GenerationRecord.root_id == root_id)
            .order_by(GenerationRecord.version.desc())
            .limit(1)
        ).one()

    def campaign_quota(self, campaign_id: int) -> int | None:
        """The campaign's own daily token budget; None: it has none."""
        row = self.session.get(CampaignTokenQuota, campaign_id)
        return None if row is None else row.tokens_per_day

    def set_campaign_quota(self, campaign_id: int, tokens_per_day: int | None) -> None:
        """Set (None: remove) the campaign's own budget. Its DMs only."""
        if campaign_id not in self.dm_of:
            raise Forbidden("Only the campaign's DMs may set its token budget.")
        row = self.session.get(CampaignTokenQuota, campaign_id)
        if tokens_per_day is None:
            if row is not None:
                self.session.delete(row)
            return
        values = {
            "tokens_per_day": tokens_per_day,
            "set_by": self.principal.user_id,
            "updated_at": utcnow(),
        }
        if row is None:
            try:  # in a savepoint: two DMs may set a first budget at once
                with self.session.begin_nested():
                    self.session.add(CampaignTokenQuota(campaign_id=campaign_id, **values))
                return
            except IntegrityError:
                row = self.session.get(CampaignTokenQuota, campaign_id, populate_existing=True)
                assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        self.session.flush()

    def _visible(self, query: Select[Any]) -> Select[Any]:
        if self.principal.role == "admin":
            return query
        mine = GenerationRecord.user_id == self.principal.user_id
        if not self.dm_of:
            return query.where(mine)
        return query.where(or_(mine, GenerationRecord.campaign_id.in_(sorted(self.dm_of))))

    def _load(self, generation_id: int, *, to_write: bool = False) -> GenerationRecord:
        row = self.session.get(GenerationRecord, generation_id)
        if row is None:
            raise NotFound(f"No generation {generation_id} of yours; list yours at /generations.")
        if self.principal.role == "admin" or row.user_id == self.principal.user_id:
            return row
        if row.campaign_id not in self.dm_of:
            raise NotFound(f"No generation {generation_id} of yours; list yours at /generations.")
        if to_write:
            raise Forbidden(
                "A campaign's DMs may read its players' outputs, not restore or regenerate "
                "them: only who made an output may."
            )
        return row


def _out(row: GenerationRecord, **extra: Any) -> GenerationOut:
    content = json.loads(row.output) if row.kind in STRUCTURED else None
    return GenerationOut(
        id=row.id,
        kind=row.kind,
        campaign_id=row.campaign_id,
        chapter_id=row.chapter_id,
        character_id=row.character_id,
        root_id=row.root_id or row.id,
        parent_id=row.parent_id,
        version=row.version,
        restored_from=row.restored_from,
        model=row.model,
        params=row.params,
        usage=Tokens(prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens),
        text=row.output,
        content=content,
        created_at=row.created_at,
        **extra,
    )
