"""Statement storage: whole-set replacement, indexed copies of the JSON, fenced writes."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import NotFoundError
from app.documents.blobs import PostgresBlobStore
from app.documents.models import Document
from app.documents.schemas import DocumentRead
from app.documents.service import DocumentService
from app.jobs import queue
from app.jobs.fencing import Fence, LeaseLost
from app.statements.models import StatementRecord
from app.statements.schemas import StatementFilters
from app.statements.service import list_statements, replace_statements
from tests.conftest import TEST_PROFILE
from tests.statements.samples import balance_sheet, income_statement


async def stored(session: AsyncSession, document_id: uuid.UUID) -> list[StatementRecord]:
    query = select(StatementRecord).where(StatementRecord.document_id == document_id).order_by("position")
    return list((await session.scalars(query)).all())


class TestReplaceStatements:
    async def test_rows_copy_the_indexed_fields_of_the_json(
        self, session: AsyncSession, document: Document
    ) -> None:
        ids = await replace_statements(session, document.id, [income_statement(), balance_sheet()])
        rows = await stored(session, document.id)
        assert [r.id for r in rows] == ids
        income, balance = rows
        assert (income.type, income.company, income.verified) == (
            "income_statement",
            "NVIDIA CORPORATION AND SUBSIDIARIES",
            True,
        )
        assert income.period_end == date(2020, 1, 26)
        assert income.period_ends == [date(2019, 1, 27), date(2020, 1, 26)]
        assert income.data["id"] == str(income.id)
        assert income.data["items"][0]["values"] == ["10918", "11716"]
        assert balance.verified is False

    async def test_reprocessing_replaces_the_whole_set(
        self, session: AsyncSession, document: Document
    ) -> None:
        await replace_statements(session, document.id, [income_statement(), balance_sheet()])
        await replace_statements(session, document.id, [income_statement(revenue="1")])
        rows = await stored(session, document.id)
        assert len(rows) == 1
        assert rows[0].data["items"][0]["values"][0] == "1"

    async def test_a_deleted_document_cannot_receive_statements(self, session: AsyncSession) -> None:
        with pytest.raises(NotFoundError):
            await replace_statements(session, uuid.uuid4(), [income_statement()])


class TestFencedWrites:
    async def claim_one(self, session: AsyncSession, document: Document) -> Fence:
        await queue.enqueue(session, "extract.document", {"document_id": str(document.id)})
        (job,) = await queue.claim(session, "worker-a", lease_seconds=30)
        return job.lease

    async def test_the_current_lease_holder_writes(self, session: AsyncSession, document: Document) -> None:
        fence = await self.claim_one(session, document)
        await replace_statements(session, document.id, [income_statement()], fence=fence)
        assert len(await stored(session, document.id)) == 1

    async def test_a_stale_fence_writes_nothing(self, session: AsyncSession, document: Document) -> None:
        fence = await self.claim_one(session, document)
        await replace_statements(session, document.id, [balance_sheet()], fence=fence)
        # Another worker reclaims the job: the token moves on.
        await session.execute(text("UPDATE jobs SET fence = fence + 1 WHERE id = :id"), {"id": fence.job_id})
        with pytest.raises(LeaseLost):
            await replace_statements(session, document.id, [income_statement()], fence=fence)
        rows = await stored(session, document.id)
        assert [r.type for r in rows] == ["balance_sheet"]

    async def test_deleting_the_document_fences_out_its_running_job(
        self, session: AsyncSession, document: Document
    ) -> None:
        fence = await self.claim_one(session, document)
        service = DocumentService(Settings(_env_file=None, **TEST_PROFILE), PostgresBlobStore())  # type: ignore[call-arg]
        await service.delete_document(session, DocumentRead.model_validate(document))
        with pytest.raises(LeaseLost):
            await replace_statements(session, document.id, [income_statement()], fence=fence)


class TestQueries:
    async def test_filters(self, session: AsyncSession, document: Document) -> None:
        await replace_statements(session, document.id, [income_statement(), balance_sheet()])

        async def types(**filters: object) -> list[str]:
            page = await list_statements(session, StatementFilters(**filters), limit=10)
            return sorted(item.type for item in page.items)

        assert await types() == ["balance_sheet", "income_statement"]
        assert await types(type="balance_sheet") == ["balance_sheet"]
        assert await types(company="nvidia") == ["balance_sheet", "income_statement"]
        assert await types(company="apple") == []
        assert await types(period_end=date(2019, 1, 27)) == ["income_statement"]
        assert await types(period_end=date(2020, 1, 26)) == ["balance_sheet", "income_statement"]
        assert await types(verified=True) == ["income_statement"]
        assert await types(company="100%") == []

    async def test_statements_of_other_owners_are_invisible(
        self, session: AsyncSession, document: Document
    ) -> None:
        await replace_statements(session, document.id, [income_statement()])
        page = await list_statements(session, StatementFilters(), limit=10, owner_id=uuid.uuid4())
        assert page.items == []
