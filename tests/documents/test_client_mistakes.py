"""Mistakes a client makes with the API as the README shows it: each one is a 4xx with the one error
body and a message that says what to change, never a 500 or a misleading answer."""

from __future__ import annotations

import base64
import io

import httpx
import pytest

from tests.documents.conftest import Upload, make_pdf

LIMIT_MB = 1  # max_upload_bytes in the test profile is 1 MiB


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error", "request_id"}
    return body["error"]


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


class TestPagesField:
    @pytest.mark.parametrize(
        ("pages", "says"),
        [
            pytest.param("²", "Cannot read the page range", id="superscript digit"),
            pytest.param("9" * 5000, "too large", id="5000-digit page"),
            pytest.param("1-" + "9" * 5000, "too large", id="5000-digit range end"),
            pytest.param("1-100000", "At most 2000 pages", id="huge range"),
            pytest.param("0", "numbered from 1", id="page zero"),
            pytest.param("3-1", "runs backwards", id="backwards"),
        ],
    )
    async def test_unusable_page_selections_are_422_with_the_reason(
        self, upload: Upload, pages: str, says: str
    ) -> None:
        response = await upload(make_pdf(2), pages=pages)
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "invalid_pages"
        assert says in error["message"]

    async def test_pages_outside_the_document_are_named_as_ranges(self, upload: Upload) -> None:
        response = await upload(make_pdf(2), pages="2-40")
        assert response.status_code == 422
        assert error_of(response)["message"] == "Pages 3-40 are outside the document, which has 2 pages."

    async def test_one_page_is_singular(self, upload: Upload) -> None:
        response = await upload(make_pdf(1), pages="5")
        assert error_of(response)["message"] == "Page 5 is outside the document, which has 1 page."


class TestFilePart:
    async def test_a_file_under_another_name_is_refused(self, client: httpx.AsyncClient) -> None:
        files = {"document": ("a.pdf", io.BytesIO(make_pdf(1)), "application/pdf")}
        response = await client.post("/api/v1/documents", files=files)
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "file_missing"
        assert "'document'" in error["message"] and "`file`" in error["message"]

    async def test_a_file_sent_as_text_says_how_to_send_it(self, client: httpx.AsyncClient) -> None:
        # What `curl -F 'file=<filing.pdf'` sends: the bytes as a plain field, no filename.
        response = await client.post("/api/v1/documents", files={"file": (None, make_pdf(1, pad_to=100_000))})
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "file_missing"
        assert "file=@" in error["message"]

    async def test_body_over_the_limit_names_the_limit_people_set(self, upload: Upload) -> None:
        response = await upload(make_pdf(1, pad_to=2 * 1024 * 1024))
        assert response.status_code == 413
        assert f"upload limit of {LIMIT_MB} MB" in error_of(response)["message"]


class TestCursors:
    @pytest.mark.parametrize("cursor", ["@@@", cursor_of("9" * 30), cursor_of("-5"), cursor_of("1_000")])
    async def test_a_job_cursor_this_api_never_made_is_422(
        self, client: httpx.AsyncClient, cursor: str
    ) -> None:
        response = await client.get("/api/v1/jobs", params={"cursor": cursor})
        assert response.status_code == 422
        assert error_of(response)["code"] == "invalid_cursor"

    @pytest.mark.parametrize("path", ["/api/v1/documents", "/api/v1/statements", "/api/v1/jobs"])
    async def test_every_list_answers_a_bad_cursor_alike(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path, params={"cursor": "not-a-cursor"})
        assert (response.status_code, error_of(response)["code"]) == (422, "invalid_cursor")

    async def test_unknown_job_message_matches_the_other_resources(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/jobs/999999")
        assert error_of(response)["message"] == "No job with this id."


class TestListFilters:
    async def test_a_date_range_that_runs_backwards_is_422_not_an_empty_page(
        self, client: httpx.AsyncClient
    ) -> None:
        params = {"uploaded_from": "2026-11-26", "uploaded_to": "2026-11-24"}
        response = await client.get("/api/v1/documents", params=params)
        assert response.status_code == 422
        assert "uploaded_from is after uploaded_to" in response.json()["error"]["details"][0]["msg"]

    async def test_a_one_day_range_is_fine(self, client: httpx.AsyncClient) -> None:
        params = {"uploaded_from": "2026-11-24", "uploaded_to": "2026-11-24"}
        assert (await client.get("/api/v1/documents", params=params)).status_code == 200


class TestEngine:
    """The test profile has no LLMWHISPERER_API_KEY: asking for that engine is refused at once,
    rather than accepted and failed later by the worker."""

    async def test_upload_asking_for_an_engine_without_its_key_is_422_and_stores_nothing(
        self, client: httpx.AsyncClient, upload: Upload
    ) -> None:
        response = await upload(make_pdf(2), engine="llmwhisperer")
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "engine_unavailable"
        assert "LLMWHISPERER_API_KEY" in error["message"]
        assert (await client.get("/api/v1/documents")).json()["items"] == []
        assert (await client.get("/api/v1/jobs")).json()["items"] == []

    async def test_reprocess_with_an_engine_without_its_key_is_422(
        self, client: httpx.AsyncClient, upload: Upload
    ) -> None:
        accepted = (await upload(make_pdf(2), engine="local")).json()
        assert (await client.post(f"/api/v1/jobs/{accepted['job_id']}/cancel")).status_code == 200
        document_id = accepted["document"]["id"]
        response = await client.post(
            f"/api/v1/documents/{document_id}/reprocess", json={"engine": "llmwhisperer"}
        )
        assert response.status_code == 422
        assert error_of(response)["code"] == "engine_unavailable"
        document = (await client.get(f"/api/v1/documents/{document_id}")).json()
        assert document["job_id"] == accepted["job_id"] and document["engine"] == "local"
