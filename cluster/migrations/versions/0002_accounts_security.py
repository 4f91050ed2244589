"""accounts security: refresh-token families, one-time use, the installation row, invitations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("used_at", sa.DateTime(timezone=True), nullable=True))
    # Tokens issued before families existed each form a family of their own.
    op.execute("UPDATE refresh_tokens SET family_id = 'legacy-' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.alter_column("family_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(batch_op.f("ix_refresh_tokens_family_id"), ["family_id"])

    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_admin_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_installation_singleton")),
        sa.ForeignKeyConstraint(
            ["first_admin_id"],
            ["users.id"],
            name=op.f("fk_installation_first_admin_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    # An install that already has accounts already has its admin: nobody may claim it again.
    op.execute(
        "INSERT INTO installation (id, first_admin_id, created_at) "
        "SELECT 1, (SELECT MIN(id) FROM users WHERE role = 'admin'), CURRENT_TIMESTAMP "
        "WHERE EXISTS (SELECT 1 FROM users)"
    )

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_invitations_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["used_by"],
            ["users.id"],
            name=op.f("fk_invitations_used_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invitations_code_hash")),
    )


def downgrade() -> None:
    op.drop_table("invitations")
    op.drop_table("installation")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_family_id"))
        batch_op.drop_column("used_at")
        batch_op.drop_column("family_id")
