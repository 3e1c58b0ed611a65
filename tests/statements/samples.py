"""Hand-built statements in the public format, for the store and API tests."""

from __future__ import annotations

from decimal import Decimal

from app.statements.format import Check, Column, Item, Statement, TextSourceInfo


def income_statement(
    *, company: str = "NVIDIA CORPORATION AND SUBSIDIARIES", revenue: str = "10918", verified: bool = True
) -> Statement:
    return Statement(
        type="income_statement",
        title="CONSOLIDATED STATEMENTS OF INCOME",
        company=company,
        pages=[39],
        currency="USD",
        unit="millions",
        columns=[
            Column(
                key="2020-01-26/12m",
                header="Year Ended January 26, 2020",
                period_end="2020-01-26",
                period_months=12,
            ),
            Column(
                key="2019-01-27/12m",
                header="Year Ended January 27, 2019",
                period_end="2019-01-27",
                period_months=12,
            ),
        ],
        items=[
            Item(label="Revenue", values=[Decimal(revenue), Decimal("11716")]),
            Item(label="Operating expenses", kind="header", values=[None, None]),
            Item(label="Basic", level=1, value_kind="per_share", values=[Decimal("4.59"), Decimal("6.81")]),
        ],
        checks=[
            Check(
                rule="sum",
                row="Revenue",
                column="2020-01-26/12m",
                printed=Decimal(revenue),
                computed=Decimal(revenue),
                ok=verified,
            ),
        ],
        verified=verified,
        text_source=TextSourceInfo(engine="local"),
    )


def balance_sheet(*, company: str = "NVIDIA CORPORATION AND SUBSIDIARIES") -> Statement:
    return Statement(
        type="balance_sheet",
        title="CONSOLIDATED BALANCE SHEETS",
        company=company,
        pages=[41],
        unit="millions",
        columns=[Column(key="2020-01-26", header="January 26, 2020", period_end="2020-01-26")],
        items=[Item(label="Total assets", kind="total", values=[Decimal("17315")])],
        verified=False,
        text_source=TextSourceInfo(engine="local"),
    )
