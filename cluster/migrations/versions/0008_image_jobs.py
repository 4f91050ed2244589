"""image jobs: the image job queue, campaign style presets, style embeddings and centroids

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 15:50:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "image_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("request", JSON, nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("error", JSON, nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", TS, nullable=False),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_expires", TS, nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_image_jobs_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_jobs")),
    )
    op.create_index(
        "ix_image_jobs_queue", "image_jobs", ["state", "priority", "not_before", "id"]
    )
    op.create_index(op.f("ix_image_jobs_owner_id"), "image_jobs", ["owner_id"])
    op.create_index(op.f("ix_image_jobs_campaign_id"), "image_jobs", ["campaign_id"])

    op.create_table(
        "image_style_presets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_image_style_presets_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_style_presets")),
        sa.UniqueConstraint(
            "campaign_id", "slug", name=op.f("uq_image_style_presets_campaign_id")
        ),
    )
    op.create_index(
        op.f("ix_image_style_presets_campaign_id"), "image_style_presets", ["campaign_id"]
    )

    op.create_table(
        "image_style_embeddings",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("style", sa.String(length=100), nullable=False),
        sa.Column("embedder", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_image_style_embeddings")),
    )
    op.create_index(
        op.f("ix_image_style_embeddings_campaign_id"), "image_style_embeddings", ["campaign_id"]
    )

    op.create_table(
        "image_style_centroids",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("style", sa.String(length=100), nullable=False),
        sa.Column("embedder", sa.String(length=40), nullable=False),
        sa.Column("total", JSON, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "style", name=op.f("pk_image_style_centroids")),
    )


def downgrade() -> None:
    op.drop_table("image_style_centroids")
    op.drop_table("image_style_embeddings")
    op.drop_table("image_style_presets")
    op.drop_table("image_jobs")
