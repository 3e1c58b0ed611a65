"""POST /detection and POST /extraction/parse over HTTP, and the usage and cache endpoints."""

from __future__ import annotations

import httpx

from tests.pdfs import income_statement, statement_pdf

INCOME_PAGE = """
                    EXAMPLE CORPORATION AND SUBSIDIARIES
                    CONSOLIDATED STATEMENTS OF OPERATIONS
                    (In thousands, except per share data)

                                                   Year Ended December 31,
                                                   2024            2023
Revenue                                        $  12,500      $  10,000
Cost of revenue                                    7,500          6,200
Gross profit                                       5,000          3,800
Operating expenses:
   Research and development                        1,200          1,000
   Selling, general and administrative               800            900
      Total operating expenses                     2,000          1,900
Income from operations                             3,000          1,900
Interest expense                                    (100)          (150)
Income before income taxes                         2,900          1,750
Provision for income taxes                           600            350
Net income                                     $   2,300      $   1,400
"""


async def test_detection_of_posted_text_names_type_pages_and_evidence(client: httpx.AsyncClient):
    response = await client.post("/api/v1/detection", json={"pages": [{"page": 7, "text": INCOME_PAGE}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pages_read"] == [7]
    [found] = body["detections"]
    assert (found["type"], found["pages"]) == ("income_statement", [7])
    assert "OPERATIONS" in found["title"].upper()
    assert found["evidence"]


async def test_detection_needs_exactly_one_source(client: httpx.AsyncClient):
    neither = await client.post("/api/v1/detection", json={})
    both = await client.post(
        "/api/v1/detection",
        json={"pages": [{"page": 1, "text": "x"}], "document_id": "00000000-0000-0000-0000-000000000000"},
    )
    for response in (neither, both):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
        assert "either pages or document_id" in response.text


async def test_detection_of_unknown_document_is_404(client: httpx.AsyncClient):
    response = await client.post(
        "/api/v1/detection", json={"document_id": "00000000-0000-0000-0000-000000000000"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "document_not_found"


async def test_detection_of_a_stored_document_reads_its_pages(client: httpx.AsyncClient):
    pdf = statement_pdf(income_statement())
    files = {"file": ("generated.pdf", pdf, "application/pdf")}
    uploaded = await client.post("/api/v1/documents", files=files)
    assert uploaded.status_code == 202, uploaded.text
    document_id = uploaded.json()["document"]["id"]
    response = await client.post("/api/v1/detection", json={"document_id": document_id})
    assert response.status_code == 200, response.text
    assert [(d["type"], d["pages"]) for d in response.json()["detections"]] == [("income_statement", [1])]


async def test_parse_detects_parses_and_verifies_posted_text(client: httpx.AsyncClient):
    response = await client.post(
        "/api/v1/extraction/parse", json={"pages": [{"page": 1, "text": INCOME_PAGE}]}
    )
    assert response.status_code == 200, response.text
    [statement] = response.json()["result"]["statements"]
    assert statement["unit"] == "thousands"
    assert [c["period_end"] for c in statement["columns"]] == ["2024-12-31", "2023-12-31"]
    rows = {item["label"]: item["values"] for item in statement["items"]}
    assert rows["Revenue"] == ["12500", "10000"]
    assert rows["Interest expense"] == ["-100", "-150"]
    assert rows["Net income"] == ["2300", "1400"]
    assert statement["verified"] is True
    assert all(check["ok"] for check in statement["checks"])


async def test_parse_with_a_given_type_skips_detection(client: httpx.AsyncClient):
    untitled = "\n".join(INCOME_PAGE.splitlines()[4:])
    response = await client.post(
        "/api/v1/extraction/parse",
        json={"pages": [{"page": 3, "text": untitled}], "type": "income_statement", "title": "Operations"},
    )
    assert response.status_code == 200, response.text
    [statement] = response.json()["result"]["statements"]
    assert statement["type"] == "income_statement" and statement["pages"] == [3]
    assert {item["label"] for item in statement["items"]} >= {"Revenue", "Net income"}


async def test_parse_rejects_an_unknown_statement_type(client: httpx.AsyncClient):
    response = await client.post(
        "/api/v1/extraction/parse", json={"pages": [{"page": 1, "text": INCOME_PAGE}], "type": "notes"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_usage_starts_empty_and_cache_clear_counts_nothing(client: httpx.AsyncClient):
    usage = await client.get("/api/v1/usage")
    assert usage.status_code == 200
    assert usage.json() == {"pages_billed": 0, "pages_saved": 0, "by_mode": {}, "by_document": []}
    cleared = await client.delete("/api/v1/admin/text-cache")
    assert cleared.json() == {"pages": 0, "runs": 0}


async def test_usage_reports_billed_and_saved_pages_per_mode_and_document(app, client: httpx.AsyncClient):
    from sqlalchemy import text

    async with app.state.engine.begin() as conn:
        await conn.execute(
            text(
                "insert into text_usage (sha256, engine, mode, pages_billed, pages_saved) values "
                "(:sha, 'llmwhisperer', 'table', 6, 0), (:sha, 'llmwhisperer', 'table', 0, 6)"
            ),
            {"sha": "b" * 64},
        )
    body = (await client.get("/api/v1/usage")).json()
    assert (body["pages_billed"], body["pages_saved"]) == (6, 6)
    assert body["by_mode"] == {"table": {"pages_billed": 6, "pages_saved": 6}}
    assert [(d["sha256"], d["pages_billed"], d["pages_saved"]) for d in body["by_document"]] == [
        ("b" * 64, 6, 6)
    ]


async def test_cache_clear_rejects_a_malformed_hash(client: httpx.AsyncClient):
    response = await client.delete("/api/v1/admin/text-cache", params={"sha256": "../etc"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
