"""Stored statements: replace a document's set atomically (fenced for workers), read and query them.

Input: `Statement`s in the public format from the pipeline. Output: `statements` rows whose JSONB
`data` is that format (with the row id as `id`) and whose indexed columns copy its type, company,
period ends and verified flag. Invariants: a document's statements change only as a whole set, in
the caller's transaction; a worker's write happens only while its fence is current (`LeaseLost`
otherwise), and the document row is locked first, so two writers never interleave.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFoundError
from app.documents.models import Document
from app.documents.schemas import DocumentRead
from app.documents.service import decode_cursor, encode_cursor
from app.jobs.fencing import Fence, lock_fence
from app.statements.format import DocumentInfo, Statement, StatementSet
from app.statements.models import StatementRecord
from app.statements.schemas import StatementFilters, StatementPage, StatementRead

_LOCK_DOCUMENT = text("SELECT id FROM documents WHERE id = :id FOR NO KEY UPDATE")


def _period_ends(statement: Statement) -> list[date]:
    ends = set()
    for column in statement.columns:
        if column.period_end:
            try:
                ends.add(date.fromisoformat(column.period_end))
            except ValueError:
                continue
    return sorted(ends)


def _record(document_id: uuid.UUID, position: int, statement: Statement) -> StatementRecord:
    row_id = uuid.uuid4()
    ends = _period_ends(statement)
    data = statement.model_copy(update={"id": str(row_id)}).model_dump(mode="json")
    return StatementRecord(
        id=row_id,
        document_id=document_id,
        position=position,
        type=statement.type,
        title=statement.title,
        company=statement.company,
        period_end=ends[-1] if ends else None,
        period_ends=ends,
        verified=statement.verified,
        data=data,
    )


async def replace_statements(
    session: AsyncSession,
    document_id: uuid.UUID,
    statements: list[Statement],
    *,
    fence: Fence | None = None,
) -> list[uuid.UUID]:
    """Swap the document's statements for `statements` (flushed); their new ids, in order."""
    if fence is not None:
        await lock_fence(session, fence)
    if (await session.execute(_LOCK_DOCUMENT, {"id": document_id})).first() is None:
        raise NotFoundError("document_not_found", "The document was deleted.")
    await session.execute(delete(StatementRecord).where(StatementRecord.document_id == document_id))
    records = [_record(document_id, position, s) for position, s in enumerate(statements)]
    session.add_all(records)
    await session.flush()
    return [record.id for record in records]


def _read(record: StatementRecord) -> StatementRead:
    return StatementRead.model_validate({**record.data, "document_id": record.document_id})


async def document_statements(session: AsyncSession, document: DocumentRead) -> StatementSet:
    """The statement-format document for one (already authorized) document."""
    query = (
        select(StatementRecord)
        .where(StatementRecord.document_id == document.id)
        .order_by(StatementRecord.position)
    )
    records = (await session.scalars(query)).all()
    info = DocumentInfo(
        id=str(document.id),
        filename=document.filename,
        sha256=document.sha256,
        page_count=document.page_count,
    )
    return StatementSet(document=info, statements=[Statement.model_validate(r.data) for r in records])


async def get_statement(
    session: AsyncSession, statement_id: uuid.UUID, *, owner_id: uuid.UUID | None = None
) -> StatementRead:
    """One statement; 404 if absent or its document is not the caller's."""
    query = (
        select(StatementRecord)
        .join(Document, Document.id == StatementRecord.document_id)
        .where(StatementRecord.id == statement_id, Document.owner_id.is_not_distinct_from(owner_id))
    )
    record = (await session.scalars(query)).first()
    if record is None:
        raise NotFoundError("statement_not_found", "No statement with this id.")
    return _read(record)


def _where(filters: StatementFilters) -> list[Any]:
    conditions: list[Any] = []
    if filters.type is not None:
        conditions.append(StatementRecord.type == filters.type)
    if filters.company:
        escaped = filters.company.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(StatementRecord.company.ilike(f"%{escaped}%"))
    if filters.period_end is not None:
        conditions.append(StatementRecord.period_ends.contains([filters.period_end]))
    if filters.verified is not None:
        conditions.append(StatementRecord.verified == filters.verified)
    if filters.document_id is not None:
        conditions.append(StatementRecord.document_id == filters.document_id)
    return conditions


async def list_statements(
    session: AsyncSession,
    filters: StatementFilters,
    *,
    limit: int,
    cursor: str | None = None,
    owner_id: uuid.UUID | None = None,
) -> StatementPage:
    """Newest first, `limit` at a time, only from the caller's documents."""
    query = (
        select(StatementRecord)
        .join(Document, Document.id == StatementRecord.document_id)
        .where(Document.owner_id.is_not_distinct_from(owner_id), *_where(filters))
    )
    if cursor:
        at, after_id = decode_cursor(cursor)
        query = query.where(tuple_(StatementRecord.created_at, StatementRecord.id) < tuple_(at, after_id))
    query = query.order_by(StatementRecord.created_at.desc(), StatementRecord.id.desc()).limit(limit + 1)
    records = (await session.scalars(query)).all()
    page = records[:limit]
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(records) > limit else None
    return StatementPage(items=[_read(r) for r in page], next_cursor=next_cursor)
