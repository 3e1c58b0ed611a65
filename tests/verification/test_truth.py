"""Every hand-checked truth statement verifies, with at least the checks a person ran on NVIDIA's 10-K."""

from __future__ import annotations

from collections import Counter

import pytest

from app.statements.format import Statement
from app.verification.verify import verify_all
from tests.verification.build import failed
from tests.verification.truth_loader import load_statements, truth_dir, truth_files

pytestmark = pytest.mark.corpus

# nvidia-10k-fy2020.checks.txt: 157 checks a person ran by hand, by kind
HAND_CHECKS = {
    "sum": 57,  # subtotals: income 18, comprehensive income 12, balance sheet 12, cash flow 15
    "eps": 6,
    "balance_sheet": 2,
    "cash_continuity": 2,
    "equity_row_total": 32,
    "rollforward": 21,
    "tie_net_income": 12,
    "tie_oci": 3,
    "tie_dividends": 3,
    "tie_rsu_tax": 3,
    "tie_ending_cash": 2,
    "tie_equity_balance": 12,
    "tie_shares_outstanding": 2,
}


def unique_checks(statements: list[Statement]) -> Counter[str]:
    """Checks by rule, a tie counted once although it is recorded on both statements it reads."""
    counts: Counter[str] = Counter()
    for statement in statements:
        for check in statement.checks:
            counts[check.rule] += 1
    return Counter({rule: n // 2 if rule.startswith("tie_") else n for rule, n in counts.items()})


def truth_ids() -> list[str]:
    directory = truth_dir()
    return sorted(p.stem for p in directory.glob("*.json")) if directory.is_dir() else ["absent"]


@pytest.mark.parametrize("name", truth_ids())
def test_every_truth_statement_verifies_with_no_failed_check(name):
    path = next((p for p in truth_files() if p.stem == name), None)
    assert path is not None
    for result in verify_all(load_statements(path)):
        assert failed(result) == [], result.type
        assert result.verified and not result.repairs


def test_the_nvidia_10k_gets_at_least_the_checks_a_person_ran():
    path = next((p for p in truth_files() if p.stem == "nvidia-10k-fy2020"), None)
    if path is None:
        pytest.skip("nvidia-10k-fy2020.json is absent from the truth corpus")
    counts = unique_checks(verify_all(load_statements(path)))
    print(f"\nNVIDIA 10-K FY2020: {sum(counts.values())} checks (hand-run: 157) {dict(counts)}")
    for rule, wanted in HAND_CHECKS.items():
        assert counts[rule] >= wanted, rule
    assert sum(counts.values()) >= 157
