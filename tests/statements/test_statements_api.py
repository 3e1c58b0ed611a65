"""Statements API: the statement-format document, one statement, filtered and paged lists."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.statements.format import Statement, StatementSet
from app.statements.service import replace_statements
from tests.documents.conftest import make_pdf
from tests.statements.samples import balance_sheet, income_statement

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def store(fresh_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(fresh_database_url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def upload(client: httpx.AsyncClient, text: str = "doc") -> dict:
    files = {"file": ("nvidia-10k-fy2020.pdf", io.BytesIO(make_pdf(2, text=text)), "application/pdf")}
    response = await client.post("/api/v1/documents", files=files)
    assert response.status_code == 202
    return response.json()["document"]


async def save(
    store: async_sessionmaker[AsyncSession], document_id: str, statements: list[Statement]
) -> None:
    async with store.begin() as session:
        await replace_statements(session, uuid.UUID(document_id), statements)


class TestDocumentStatements:
    async def test_the_statement_format_document(
        self, client: httpx.AsyncClient, store: async_sessionmaker[AsyncSession]
    ) -> None:
        document = await upload(client)
        await save(store, document["id"], [income_statement(), balance_sheet()])
        response = await client.get(f"/api/v1/documents/{document['id']}/statements")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"document", "statements"}
        assert body["document"] == {
            "id": document["id"],
            "filename": "nvidia-10k-fy2020.pdf",
            "sha256": document["sha256"],
            "page_count": 2,
        }
        parsed = StatementSet.model_validate(body)
        assert [s.type for s in parsed.statements] == ["income_statement", "balance_sheet"]
        income = body["statements"][0]
        assert income["items"][0]["values"] == ["10918", "11716"]  # exact decimal strings
        assert income["items"][1]["values"] == [None, None]
        assert income["verified"] is True

    async def test_one_statement_by_id(
        self, client: httpx.AsyncClient, store: async_sessionmaker[AsyncSession]
    ) -> None:
        document = await upload(client)
        await save(store, document["id"], [income_statement()])
        listed = (await client.get(f"/api/v1/documents/{document['id']}/statements")).json()
        statement_id = listed["statements"][0]["id"]
        response = await client.get(f"/api/v1/statements/{statement_id}")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == statement_id
        assert body["document_id"] == document["id"]
        assert body["title"] == "CONSOLIDATED STATEMENTS OF INCOME"

    async def test_deleting_the_document_removes_its_statements(
        self, client: httpx.AsyncClient, store: async_sessionmaker[AsyncSession]
    ) -> None:
        document = await upload(client)
        await save(store, document["id"], [income_statement()])
        statement_id = (await client.get(f"/api/v1/documents/{document['id']}/statements")).json()[
            "statements"
        ][0]["id"]
        assert (await client.delete(f"/api/v1/documents/{document['id']}")).status_code == 204
        assert (await client.get(f"/api/v1/statements/{statement_id}")).status_code == 404


class TestStatementList:
    async def test_filters_and_pages(
        self, client: httpx.AsyncClient, store: async_sessionmaker[AsyncSession]
    ) -> None:
        first, second = await upload(client, "a"), await upload(client, "b")
        await save(store, first["id"], [income_statement(), balance_sheet()])
        await save(store, second["id"], [income_statement(company="Apple Inc.")])

        async def query(**params: object) -> list[tuple[str, str | None]]:
            body = (await client.get("/api/v1/statements", params=params)).json()
            return sorted((item["type"], item["company"]) for item in body["items"])

        nvidia = "NVIDIA CORPORATION AND SUBSIDIARIES"
        assert await query(company="apple") == [("income_statement", "Apple Inc.")]
        assert await query(type="balance_sheet") == [("balance_sheet", nvidia)]
        assert await query(period_end="2019-01-27", company="nvidia") == [("income_statement", nvidia)]
        assert len(await query(type="income_statement")) == 2

        seen: list[str] = []
        cursor = None
        for _ in range(5):
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/api/v1/statements", params=params)).json()
            seen += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 3

    @pytest.mark.parametrize("params", [{"type": "cashflow"}, {"period_end": "26/01/2020"}, {"limit": 1000}])
    async def test_bad_filters_are_422(self, client: httpx.AsyncClient, params: dict) -> None:
        response = await client.get("/api/v1/statements", params=params)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"


class TestDocumentFiltersByStatements:
    async def test_documents_filtered_by_company_and_type(
        self, client: httpx.AsyncClient, store: async_sessionmaker[AsyncSession]
    ) -> None:
        nvidia, apple, empty = await upload(client, "n"), await upload(client, "a"), await upload(client, "e")
        await save(store, nvidia["id"], [income_statement(), balance_sheet()])
        await save(store, apple["id"], [income_statement(company="Apple Inc.")])

        async def ids(**params: str) -> set[str]:
            body = (await client.get("/api/v1/documents", params=params)).json()
            return {item["id"] for item in body["items"]}

        assert await ids(type="balance_sheet") == {nvidia["id"]}
        assert await ids(type="income_statement") == {nvidia["id"], apple["id"]}
        assert await ids(company="APPLE") == {apple["id"]}
        assert await ids(company="apple", type="balance_sheet") == set()
        assert await ids() == {nvidia["id"], apple["id"], empty["id"]}


class TestDocumentStatementsDownload:
    async def test_csv_is_the_file_tieout_extract_writes(
        self, client: httpx.AsyncClient, store: async_sessionmaker[AsyncSession]
    ) -> None:
        document = await upload(client)
        await save(store, document["id"], [income_statement(), balance_sheet()])
        response = await client.get(
            f"/api/v1/documents/{document['id']}/statements", params={"format": "csv"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert 'filename="nvidia-10k-fy2020-statements.csv"' in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        revenue = [(r["period_end"], r["value"]) for r in rows if r["label"] == "Revenue"]
        assert revenue == [("2020-01-26", "10918"), ("2019-01-27", "11716")]

    async def test_xlsx_is_a_workbook_with_a_sheet_per_statement(
        self, client: httpx.AsyncClient, store: async_sessionmaker[AsyncSession]
    ) -> None:
        document = await upload(client)
        await save(store, document["id"], [income_statement(), balance_sheet()])
        response = await client.get(f"/api/v1/documents/{document['id']}/statements?format=xlsx")
        assert response.status_code == 200
        assert response.headers["content-type"] == XLSX
        book = load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == ["Income Statement", "Balance Sheet", "Checks", "Sources"]
        assert book["Income Statement"]["B6"].value == 10918

    async def test_unknown_format_is_422(self, client: httpx.AsyncClient) -> None:
        document = await upload(client)
        response = await client.get(
            f"/api/v1/documents/{document['id']}/statements", params={"format": "pdf"}
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["loc"] == ["query", "format"]
