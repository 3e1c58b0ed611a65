"""text cache: content-addressed page text, LLMWhisperer runs (hash + raw result), text usage

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "whisper_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("options_key", sa.Text(), nullable=False),
        sa.Column("pages", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("state", sa.Text(), server_default=sa.text("'new'"), nullable=False),
        sa.Column("whisper_hash", sa.Text(), nullable=True),
        sa.Column("submit_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("lease_until", tz, nullable=True),
        sa.Column("last_status", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("raw_result", sa.LargeBinary(), nullable=True),
        sa.Column("pages_billed", sa.Integer(), nullable=True),
        sa.Column("created_at", tz, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", tz, server_default=sa.func.now(), nullable=False),
        sa.Column("submitted_at", tz, nullable=True),
        sa.Column("retrieved_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whisper_runs")),
        sa.UniqueConstraint("sha256", "options_key", "pages", name="uq_whisper_runs_request"),
    )
    # Raw results are JSON text that is already dense; skip pglz on the way in (measured.md).
    op.execute("ALTER TABLE whisper_runs ALTER COLUMN raw_result SET STORAGE EXTERNAL")
    op.create_table(
        "text_cache",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("options_key", sa.Text(), nullable=False),
        sa.Column("options", postgresql.JSONB(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("ocr", sa.Boolean(), nullable=False),
        sa.Column("line_confidence", postgresql.JSONB(), nullable=True),
        sa.Column("extra", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("whisper_run_id", sa.BigInteger(), nullable=True),
        sa.Column("hit_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", tz, server_default=sa.func.now(), nullable=False),
        sa.Column("last_hit_at", tz, nullable=True),
        sa.ForeignKeyConstraint(
            ["whisper_run_id"],
            ["whisper_runs.id"],
            name=op.f("fk_text_cache_whisper_run_id_whisper_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_cache")),
        sa.UniqueConstraint("sha256", "engine", "options_key", "page", name="uq_text_cache_page"),
    )
    op.create_index(op.f("ix_text_cache_sha256"), "text_cache", ["sha256"])
    op.create_table(
        "text_usage",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", tz, server_default=sa.func.now(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("pages_billed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("pages_saved", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("whisper_hash", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_usage")),
    )
    op.create_index(op.f("ix_text_usage_created_at"), "text_usage", ["created_at"])
    op.create_index(op.f("ix_text_usage_sha256"), "text_usage", ["sha256"])
    op.create_index(op.f("ix_text_usage_document_id"), "text_usage", ["document_id"])
    op.create_index(op.f("ix_text_usage_user_id"), "text_usage", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_text_usage_user_id"), table_name="text_usage")
    op.drop_index(op.f("ix_text_usage_document_id"), table_name="text_usage")
    op.drop_index(op.f("ix_text_usage_sha256"), table_name="text_usage")
    op.drop_index(op.f("ix_text_usage_created_at"), table_name="text_usage")
    op.drop_table("text_usage")
    op.drop_index(op.f("ix_text_cache_sha256"), table_name="text_cache")
    op.drop_table("text_cache")
    op.drop_table("whisper_runs")
