"""event hub: delivery queue, processed events, dead letters, consumer registry, story impacts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 17:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "event_deliveries",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("group", sa.String(length=60), nullable=False),
        sa.Column("event_seq", BIG, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("available_at", TS, nullable=False),
        sa.Column("leased_until", TS, nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_seq"],
            ["event_outbox.seq"],
            name=op.f("fk_event_deliveries_event_seq_event_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_deliveries")),
        sa.UniqueConstraint("group", "event_seq", name=op.f("uq_event_deliveries_group")),
    )
    op.create_index("ix_event_deliveries_claim", "event_deliveries", ["group", "rank", "event_seq"])
    op.create_table(
        "event_processed",
        sa.Column("group", sa.String(length=60), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("group", "event_id", name=op.f("pk_event_processed")),
    )
    op.create_table(
        "event_dead_letters",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("group", sa.String(length=60), nullable=False),
        sa.Column("event_seq", BIG, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_seq"],
            ["event_outbox.seq"],
            name=op.f("fk_event_dead_letters_event_seq_event_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_dead_letters")),
    )
    op.create_index(
        op.f("ix_event_dead_letters_group"), "event_dead_letters", ["group"], unique=False
    )
    op.create_table(
        "event_consumers",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("group", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("transport", sa.String(length=10), nullable=False),
        sa.Column("host", sa.String(length=120), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("breaker", sa.String(length=10), nullable=False),
        sa.Column("processed", BIG, nullable=False),
        sa.Column("failed", BIG, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("heartbeat_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_consumers")),
    )
    op.create_table(
        "character_story_impacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("character_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("visibility", sa.String(length=30), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["character_id"],
            ["characters.id"],
            name=op.f("fk_character_story_impacts_character_id_characters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_character_story_impacts")),
        sa.UniqueConstraint("event_id", name=op.f("uq_character_story_impacts_event_id")),
    )
    op.create_index(
        op.f("ix_character_story_impacts_character_id"),
        "character_story_impacts",
        ["character_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("character_story_impacts")
    op.drop_table("event_consumers")
    op.drop_table("event_dead_letters")
    op.drop_table("event_processed")
    op.drop_table("event_deliveries")
