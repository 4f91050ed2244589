"""Style presets: the built-in ones everyone may use, and the ones a DM adds to a campaign
(prompt template, negative prompt, sampler, steps, guidance, reference images)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.campaigns.access import CampaignAccess
from domain.errors import Conflict, Forbidden, InvalidRequest
from domain.images.models import StylePreset
from domain.images.schemas import StylePresetIn, StylePresetOut

DEFAULT_STYLE = "default"

BUILT_IN: dict[str, StylePresetIn] = {
    p.id: p
    for p in [
        StylePresetIn(id=DEFAULT_STYLE, name="Default", sampler="euler", steps=20, guidance=7.0),
        StylePresetIn(
            id="ink-sketch",
            name="Ink sketch",
            prompt_template="ink sketch of {prompt}, black and white, cross-hatching",
            negative_prompt="color, photo, blurry",
            sampler="euler_a",
            steps=20,
            guidance=7.5,
        ),
        StylePresetIn(
            id="oil-painting",
            name="Oil painting",
            prompt_template="oil painting of {prompt}, rich colors, dramatic light",
            negative_prompt="photo, sketch, flat",
            sampler="dpmpp_2m",
            steps=25,
            guidance=7.0,
        ),
        StylePresetIn(
            id="watercolor",
            name="Watercolour",
            prompt_template="watercolor of {prompt}, soft washes, paper texture",
            negative_prompt="photo, hard edges",
            sampler="euler",
            steps=20,
            guidance=6.5,
        ),
        StylePresetIn(
            id="dark-fantasy",
            name="Dark fantasy",
            prompt_template="dark fantasy art, {prompt}, grim, moody, detailed",
            negative_prompt="bright, cartoon, cheerful",
            sampler="dpmpp_2m",
            steps=25,
            guidance=8.0,
        ),
        StylePresetIn(
            id="pixel-art",
            name="Pixel art",
            prompt_template="pixel art of {prompt}, 16-bit, limited palette",
            negative_prompt="photo, blurry, smooth gradients",
            sampler="euler_a",
            steps=20,
            guidance=7.0,
        ),
    ]
}


def render_prompt(style: StylePresetIn, prompt: str) -> str:
    # str.replace, not str.format: a DM's template or a user's braces are never code.
    return style.prompt_template.replace("{prompt}", prompt)


def _out(doc: StylePresetIn, campaign_id: int | None, row: StylePreset | None = None):
    return StylePresetOut(
        **doc.model_dump(),
        campaign_id=campaign_id,
        created_by=row.created_by if row else None,
        created_at=row.created_at if row else None,
    )


class Styles:
    def __init__(self, session: Session):
        self.session = session

    def list(self, access: CampaignAccess | None) -> list[StylePresetOut]:
        items = [_out(doc, None) for doc in BUILT_IN.values()]
        if access is not None:
            rows = self.session.scalars(
                select(StylePreset)
                .where(StylePreset.campaign_id == access.campaign_id)
                .order_by(StylePreset.slug)
            )
            items += [_out(StylePresetIn(**r.document), r.campaign_id, r) for r in rows]
        return items

    def resolve(self, style_id: str | None, access: CampaignAccess | None) -> StylePresetIn:
        """A campaign's own preset first, then a built-in one; 422 `unknown_style`."""
        style_id = style_id or DEFAULT_STYLE
        if access is not None:
            row = self.session.scalar(
                select(StylePreset).where(
                    StylePreset.campaign_id == access.campaign_id, StylePreset.slug == style_id
                )
            )
            if row is not None:
                return StylePresetIn(**row.document)
        if style_id in BUILT_IN:
            return BUILT_IN[style_id]
        where = f"campaign {access.campaign_id}" if access else "the built-in styles"
        raise InvalidRequest(
            f"No style {style_id!r} in {where}; GET /api/v2/images/styles lists them.",
            code="unknown_style",
            errors=[{"path": "style", "code": "unknown_style", "message": "unknown style"}],
        )

    def create(self, access: CampaignAccess, preset: StylePresetIn, user_id: int) -> StylePresetOut:
        if not access.is_dm:
            raise Forbidden(
                "Only the campaign's DMs add style presets; ask your DM.", code="dm_only"
            )
        if preset.id in BUILT_IN:
            raise Conflict(f"{preset.id!r} is a built-in style; choose another id.",
                           code="style_exists")
        exists = self.session.scalar(
            select(StylePreset.id).where(
                StylePreset.campaign_id == access.campaign_id, StylePreset.slug == preset.id
            )
        )
        if exists:
            raise Conflict(
                f"Campaign {access.campaign_id} already has a style {preset.id!r}.",
                code="style_exists",
            )
        row = StylePreset(
            campaign_id=access.campaign_id,
            slug=preset.id,
            document=preset.model_dump(),
            created_by=user_id,
        )
        self.session.add(row)
        self.session.flush()
        return _out(preset, access.campaign_id, row)
