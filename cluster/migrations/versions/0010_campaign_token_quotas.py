"""generation_campaign_quotas: a campaign's own daily token budget

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "generation_campaign_quotas",
        sa.Column("campaign_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tokens_per_day", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by"],
            ["users.id"],
            name=op.f("fk_generation_campaign_quotas_set_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_generation_campaign_quotas")),
    )


def downgrade() -> None:
    op.drop_table("generation_campaign_quotas")
