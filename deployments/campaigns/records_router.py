"""HTTP for campaign records (chapters, plots, NPCs, locations, factions, relationships,
notes, in-world events, sessions, actions), their versions, the chapter order, the
relationship graph and the timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from deployments.campaigns.deps import PREFIX, CampaignId, Number, RecordId, Service, with_etag
from deployments.http.auth import CurrentPrincipal
from deployments.http.etags import IfMatch
from domain.campaigns.messages import (
    ChapterOrder,
    Graph,
    RecordIn,
    RecordOut,
    RecordPage,
    RecordVersionOut,
    RecordWrite,
    RestoreRequest,
    TimelinePage,
    Visibility,
)
from domain.campaigns.records import KINDS, Day, RecordKind

router = APIRouter(prefix=PREFIX, tags=["campaign records"])
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Search = Annotated[str | None, Query(max_length=100, description="Name contains (any case)")]
EntityRef = Annotated[
    str | None,
    Query(pattern=r"^(record|character):[1-9][0-9]{0,9}$",
          description='Start from this entity: "record:<id>" or "character:<id>"'),
]
WorldDateText = Annotated[
    str | None, Query(pattern=r"^-?\d{1,6}-\d{1,2}-\d{1,2}$", description="YEAR-MONTH-DAY")
]


@router.get("/{campaign_id:int}/records")
async def list_records(
    campaign_id: CampaignId,
    principal: CurrentPrincipal,
    svc: Service,
    kind: RecordKind | None = None,
    q: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RecordPage:
    """Records you may see (chapters in story order), optionally of one kind."""
    return await svc.run(
        principal, lambda s: s.records.list(campaign_id, kind, limit=limit, offset=offset, q=q)
    )


@router.post("/{campaign_id:int}/records", status_code=201)
async def create_record(
    campaign_id: CampaignId,
    body: RecordIn,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
) -> RecordOut:
    """Add a record. DMs add any kind; players add notes and actions of their own (visible
    to the party or only to themself and the DMs)."""
    out = await svc.run(principal, lambda s: s.records.create(campaign_id, body))
    response.headers["Location"] = f"{PREFIX}/{campaign_id}/records/{out.id}"
    return with_etag(response, out)


@router.get("/{campaign_id:int}/records/{record_id:int}")
async def get_record(
    campaign_id: CampaignId,
    record_id: RecordId,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
) -> RecordOut:
    out = await svc.run(principal, lambda s: s.records.get(campaign_id, record_id))
    return with_etag(response, out)


@router.put("/{campaign_id:int}/records/{record_id:int}")
async def replace_record(
    campaign_id: CampaignId,
    record_id: RecordId,
    body: RecordWrite,
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
) -> RecordOut:
    """Replace the body (and visibility). Needs If-Match. A plot's state change and a
    relationship's attitude change are kept in its history, with `chapter_id` and
    `session_id` when sent."""
    out = await svc.run(
        principal, lambda s: s.records.update(campaign_id, record_id, body, expected)
    )
    return with_etag(response, out)


@router.delete(
    "/{campaign_id:int}/records/{record_id:int}",
    status_code=204,
    responses={409: {"description": "`record_in_use`: other records refer to it"}},
)
async def delete_record(
    campaign_id: CampaignId,
    record_id: RecordId,
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Service,
) -> Response:
    await svc.run(principal, lambda s: s.records.delete(campaign_id, record_id, expected))
    return Response(status_code=204)


@router.get("/{campaign_id:int}/records/{record_id:int}/versions")
async def record_versions(
    campaign_id: CampaignId, record_id: RecordId, principal: CurrentPrincipal, svc: Service
) -> list[RecordVersionOut]:
    """The versions you may see, each with its diff from the one before it."""
    return await svc.run(principal, lambda s: s.records.versions(campaign_id, record_id))


@router.get("/{campaign_id:int}/records/{record_id:int}/versions/{number:int}")
async def record_version(
    campaign_id: CampaignId,
    record_id: RecordId,
    number: Number,
    principal: CurrentPrincipal,
    svc: Service,
) -> RecordVersionOut:
    return await svc.run(principal, lambda s: s.records.version(campaign_id, record_id, number))


@router.post("/{campaign_id:int}/records/{record_id:int}/versions/{number:int}/restore")
async def restore_record(
    campaign_id: CampaignId,
    record_id: RecordId,
    number: Number,
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    body: RestoreRequest | None = None,
) -> RecordOut:
    """A new version with version `number`'s body and visibility (DMs). Needs If-Match."""
    req = body or RestoreRequest()
    out = await svc.run(
        principal, lambda s: s.records.restore(campaign_id, record_id, number, expected, req)
    )
    return with_etag(response, out)


@router.put("/{campaign_id:int}/chapters/order")
async def reorder_chapters(
    campaign_id: CampaignId, body: ChapterOrder, principal: CurrentPrincipal, svc: Service
) -> RecordPage:
    """Every chapter id once, in the new story order (DMs)."""
    return await svc.run(principal, lambda s: s.records.reorder_chapters(campaign_id, body))


@router.get("/{campaign_id:int}/relationships")
async def relationship_graph(
    campaign_id: CampaignId,
    principal: CurrentPrincipal,
    svc: Service,
    entity: EntityRef = None,
    depth: Annotated[int, Query(ge=1, le=5)] = 1,
) -> Graph:
    """The relationship graph you may see; with `entity`, only what lies within `depth`
    steps of it. An edge shows only when you may see it and both its ends."""
    return await svc.run(principal, lambda s: s.records.graph(campaign_id, entity, depth))


@router.get("/{campaign_id:int}/timeline")
async def timeline(
    campaign_id: CampaignId,
    principal: CurrentPrincipal,
    svc: Service,
    world_from: WorldDateText = None,
    world_to: WorldDateText = None,
    real_from: Annotated[Day | None, Query(description="YYYY-MM-DD")] = None,
    real_to: Annotated[Day | None, Query(description="YYYY-MM-DD")] = None,
    kind: Annotated[list[RecordKind] | None, Query()] = None,
    location: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    faction: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> TimelinePage:
    """In-world events and game sessions, by in-world date (sessions without one after, by
    the day played). `location` includes every place inside it."""
    return await svc.run(principal, lambda s: s.timeline.timeline(
        campaign_id, world_from=world_from, world_to=world_to, real_from=real_from,
        real_to=real_to, kinds=kind, location=location, faction=faction, limit=limit,
        offset=offset,
    ))


def _kind_routes(kind: str, plural: str) -> None:
    """`GET/POST /{id}/<plural>`: the records of one kind, and a shortcut to add one (list
    relationships with GET /{id}/records?kind=relationship)."""

    async def list_kind(
        campaign_id: CampaignId,
        principal: CurrentPrincipal,
        svc: Service,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> RecordPage:
        return await svc.run(
            principal, lambda s: s.records.list(campaign_id, kind, limit=limit, offset=offset, q=q)
        )

    async def create_kind(
        campaign_id: CampaignId,
        body: Any,  # the kind's schema, set below
        principal: CurrentPrincipal,
        svc: Service,
        response: Response,
        visibility: Annotated[Visibility, Query()] = "dm",
    ) -> RecordOut:
        data: dict[str, Any] = body.model_dump(mode="json")
        req = RecordIn(kind=kind, visibility=visibility, body=data)  # type: ignore[arg-type]
        out = await svc.run(principal, lambda s: s.records.create(campaign_id, req))
        response.headers["Location"] = f"{PREFIX}/{campaign_id}/records/{out.id}"
        return with_etag(response, out)

    create_kind.__annotations__["body"] = KINDS[kind]  # resolved here: `kind` is local
    list_kind.__name__ = f"list_{plural}"
    create_kind.__name__ = f"create_{kind}"
    list_kind.__doc__ = f"The {plural} you may see."
    create_kind.__doc__ = f"Add a {kind} (the body is the {kind} itself; visibility a query)."
    if kind != "relationship":  # GET /{id}/relationships is the graph
        router.get(f"/{{campaign_id:int}}/{plural}")(list_kind)
    router.post(f"/{{campaign_id:int}}/{plural}", status_code=201)(create_kind)


for _kind, _plural in (
    ("chapter", "chapters"), ("plot", "plots"), ("npc", "npcs"), ("location", "locations"),
    ("faction", "factions"), ("relationship", "relationships"), ("note", "notes"),
    ("event", "world-events"), ("session", "sessions"), ("action", "actions"),
):
    _kind_routes(_kind, _plural)
