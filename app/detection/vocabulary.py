"""The words filings print around their primary statements.

Input: none (tables only). Output: compiled patterns that `detect.py` applies to normalised, lower-cased
lines (see `lines.tidy`): statement titles per type, anchor row labels per type, and the signals of
pages that look like statements but are not (indexes, notes, auditor's reports, MD&A tables).
Invariant: every pattern expects lower case, straight quotes, "-" for any dash and single spaces.
"""

from __future__ import annotations

import re

INCOME = "income_statement"
COMPREHENSIVE = "comprehensive_income"
BALANCE = "balance_sheet"
CASH_FLOW = "cash_flow"
EQUITY = "shareholders_equity"
TYPES = (INCOME, COMPREHENSIVE, BALANCE, CASH_FLOW, EQUITY)

_MODIFIERS = (
    r"(?:(?:the|condensed|consolidated|combined|consolidating|interim|unaudited|separate|standalone|"
    r"abridged|group|company|parent|parent company|bank|statutory)"
    r"[ ,]+)*"
)
_OF = _MODIFIERS + r"statements? of " + _MODIFIERS
_PNL = r"(?:profit (?:or|and) loss|income|operations|earnings|(?:net )?(?:loss|losses))"
_OWNERS = r"(?:(?:(?:share|stock)holders'?|shareowners'?|owners'?|members'?|partners'?|unitholders'?) )?"

# First match wins: a title naming profit or loss and comprehensive income is one income statement.
TITLE_PHRASES: tuple[tuple[str, str], ...] = (
    (INCOME, _OF + _PNL + r" (?:and|&) (?:other )?comprehensive (?:income|loss|earnings)"),
    (INCOME, _OF + _PNL + r" and (?:retained earnings|accumulated deficit)"),
    (COMPREHENSIVE, _OF + r"(?:other )?comprehensive (?:income|loss|earnings)"),
    (INCOME, _OF + r"(?:profit (?:or|and) loss|income|operations|earnings|(?:net )?loss(?:es)?)"),
    (INCOME, _MODIFIERS + r"(?:income|earnings|profit and loss|profit or loss) statements?"),
    (INCOME, _MODIFIERS + r"profit and loss accounts?"),
    (BALANCE, _MODIFIERS + r"balance sheets?"),
    (BALANCE, _OF + r"(?:financial position|financial condition|condition|assets and liabilities)"),
    (CASH_FLOW, _OF + r"cash flows?"),
    (CASH_FLOW, _MODIFIERS + r"cash flows? statements?"),
    (
        EQUITY,
        _OF + r"(?:changes in )?" + _OWNERS + r"(?:equity|deficit|deficiency|capital deficiency)"
        r"(?: and comprehensive (?:income|loss))?",
    ),
    (EQUITY, _MODIFIERS + r"changes in " + _OWNERS + r"equity"),
)

_CLASS = re.compile(r"\[((?:\\.|[^\]])*)\]([+*?]|\{\d*,?\d*\})?")


def loosen(pattern: str) -> str:
    """The pattern for text whose spaces OCR dropped ("STATEMENTOFCASHFLOWS"), matched without spaces."""

    def character_class(found: re.Match) -> str:
        body, quantifier = found[1], found[2] or ""
        if " " not in body:
            return found[0]
        quantifier = {"+": "*", "": "?"}.get(quantifier, quantifier)
        return f"[{body.replace(' ', '')}]{quantifier}"

    parts, last = [], 0
    for found in _CLASS.finditer(pattern):
        parts += [pattern[last : found.start()].replace(" ", ""), character_class(found)]
        last = found.end()
    return "".join([*parts, pattern[last:].replace(" ", "")])


# A title line: optional "Entity - " (or "Entity Inc.") prefix, the phrase, then only a period or unit.
_ENTITY_PREFIX = (
    r"[a-z0-9&.,' ]{2,60} - |[a-z0-9&.,' ]{2,60}? (?:inc\.?|corporation|corp\.|company|limited|ltd\.?|plc|"
    r"llc|l\.p\.|n\.v\.|s\.a\.|and subsidiaries|group) "
)
_PHRASES = "|".join(f"(?P<t{n}>{phrase})" for n, (_, phrase) in enumerate(TITLE_PHRASES))
TITLE_LINE = re.compile(r"^(?P<prefix>" + _ENTITY_PREFIX + r")?(?P<phrase>" + _PHRASES + r")\b(?P<rest>.*)$")
LOOSE_TITLE_LINE = re.compile(
    r"^(?P<prefix>" + loosen(_ENTITY_PREFIX) + r")?(?P<phrase>" + loosen(_PHRASES) + r")(?P<rest>.*)$"
)
TITLE_TYPES = {f"t{n}": kind for n, (kind, _) in enumerate(TITLE_PHRASES)}
TITLE_HINT = re.compile(r"statement|balance ?sheet|profit ?and ?loss|cash ?flow")
TITLE_REST_OK = re.compile(
    r"^(?:\.{3,}|[-,:]? ?(?:for|as of|as at|at|years?|six|three|nine|twelve|fiscal|periods?|quarters?|half|"
    r"weeks?|months?|\d|\(|in |amounts|dollars|january|february|march|april|may|june|july|august|"
    r"september|october|november|december|parent|company|registrant|unaudited|restated)|$)"
)
TITLE_REST_PROSE = re.compile(
    r"\b(?:were|are|is|was|reflects?|includes?|included|follows|presented|shown|refer|see|which|that|"
    r"percent|percentage|data|highlights|summary)\b|:$"
)
# Parentheticals inside titles ("Comprehensive Income (Loss)", "Income/(Loss)") that change nothing.
TITLE_NOISE = re.compile(r" ?/ ?\(?(?:loss|deficit)\)?|\((?:loss|income|deficit|deficiency|earnings)\)")
CONTINUED = re.compile(r"\((?:continued|cont'?d\.?)\)|\bcontinued\b")

# Anchor row labels: a row whose label starts with one of these is typical of the type.
ANCHORS: dict[str, tuple[str, ...]] = {
    INCOME: (
        r"(?:total )?(?:net )?(?:revenues?|sales|turnover)\b",
        r"cost of (?:revenues?|sales|goods sold|services|operations|products)",
        r"gross (?:profit|margin)",
        r"(?:total )?(?:operating|other operating) expenses",
        r"(?:total )?costs and expenses",
        r"(?:income|profit|earnings|\(?loss\)?)[ /()a-z]* from operations|operating (?:income|profit|loss)",
        r"(?:income|profit|earnings|\(?loss\)?)[ /()a-z]* before (?:income )?tax",
        r"(?:provision for|benefit from)[ a-z()]* income tax|income tax (?:expense|benefit|provision)",
        r"tax expense|finance (?:costs|income|expense)|interest expense",
        r"(?:basic|diluted)(?: and diluted)?\b.*(?:per share|earnings|net income)|"
        r"(?:net )?(?:income|earnings|loss)[ a-z()]* per (?:common )?share|earnings per share",
        r"weighted[- ]average (?:number of )?(?:common )?shares",
    ),
    COMPREHENSIVE: (
        r"other comp(?:rehensive|\.) (?:income|loss|\(loss\)|earnings)",
        r"(?:total )?comprehensive (?:income|loss|\(loss\)|earnings)",
        r"(?:foreign[- ])?currency translation|exchange differences on translation",
        r"net (?:income|earnings|loss)|(?:profit|loss)[ a-z()/]* for the (?:year|period)",
        r"(?:net )?unrealized [a-z ]*(?:gains?|loss|\(loss\))",
        r"reclassification adjustments?",
        r"(?:net )?change in unrealized",
        r"items that (?:may|will)",
        r"remeasurement|cash flow hedges|pension and other post",
    ),
    BALANCE: (
        r"total assets\b",
        r"total current assets",
        r"total (?:current |noncurrent |non-current )?liabilities\b",
        r"total liabilities and (?:share|stock)?",
        r"total (?:share|stock)holders'? ?(?:equity|deficit)|total equity",
        r"(?:accounts|trade)(?: and other)? (?:receivables?|payables?)",
        r"inventor(?:y|ies)|property(?:,)? (?:plant )?and equipment",
        r"current assets|current liabilities|non-?current assets",
        r"retained earnings|accumulated deficit|additional paid-in capital|share capital",
        r"goodwill",
    ),
    CASH_FLOW: (
        r"net cash (?:provided|used|generated|from|\(used|inflows?|outflows?)",
        r"cash flows? (?:from|used|provided)",
        r"(?:operating|investing|financing) activities",
        r"adjustments (?:to reconcile|for)",
        r"depreciation(?:,)? (?:and|amortization)",
        r"(?:net )?(?:increase|decrease|change)[ a-z()/]* in cash",
        r"cash(?:,)? (?:and )?(?:cash equivalents|restricted cash)?[ a-z,]*(?:at|,) (?:beginning|end)",
        r"cash at (?:beginning|end)|(?:beginning|end) of (?:the )?(?:year|period)",
        r"(?:purchases?|acquisitions?) of property|capital expenditures",
        r"(?:cash )?(?:dividends|interest|income taxes?) paid|cash paid for|supplemental",
    ),
    EQUITY: (
        r"balances?(?:,| at| as of| as at| beginning| end)",
        r"(?:cash )?dividends?\b",
        r"(?:stock|share)[- ]based (?:compensation|payment)",
        r"issuance of|issue of|exercise of",
        r"(?:share|stock) repurchases?|repurchases? of|purchase of treasury|treasury (?:stock|shares)",
        r"total comprehensive (?:income|loss)",
        r"net income|profit for the (?:year|period)|net loss",
        r"other comprehensive",
    ),
}

# Signals of look-alike pages, matched against the page's top lines (headings) or the whole page.
NOTES_HEADING = re.compile(
    r"^(?:notes? to (?:the )?[a-z ,]*financial (?:statements|information)|"
    r"note \d{1,2}(?:[.:\- ]|$)(?! ?(?:19|20)\d\d))"
)
INDEX_HEADING = re.compile(r"^(?:index to [a-z ,]*financial statements|contents$|index$)")
AUDITOR = re.compile(
    r"report of independent (?:registered )?(?:public )?account|independent auditors?'? report|"
    r"we have audited|in our opinion, the|present fairly, in all material respects"
)
SELECTED_DATA = re.compile(
    r"^(?:selected (?:consolidated )?financial (?:data|information)|five[- ]year|ten[- ]year|"
    r"financial highlights|quarterly (?:financial|results)|selected [a-z ]*data|"
    r"(?:table \d+: )?[a-z ]*selected income statement)"
)
MDNA = re.compile(
    r"management's discussion and analysis|% of (?:net |total )?(?:revenues?|sales)|"
    r"percent(?:age)? of (?:net |total )?(?:revenues?|sales)|\$ change|% change"
)
# A heading of its own on an untitled page after a statement: a new table, not the statement's rows.
FOREIGN_HEADING = re.compile(
    r"^(?:schedule\b|segment|quarterly|selected|report of|management|independent|valuation and|"
    r"summary of|supplementary information|exhibit)"
)
COMMON_SIZE = re.compile(r"\b100(?:\.0+)? ?%")
SUPPLEMENTAL = re.compile(r"^supplement(?:al|ary)\b|\(parenthetical\)")
STATEMENT_END = re.compile(
    r"^(?:see (?:the )?(?:accompanying )?notes|the accompanying notes|the above [a-z ]*should be read)"
)
UNIT = re.compile(
    r"\((?:[a-z$£€ ,]*in |amounts in |dollars in )?(?:millions|thousands|billions)\b|"
    r"\bin (?:millions|thousands|billions)\b|(?:£|\$|€|us\$)(?:m|k|bn|000)\b|figures in|"
    r"\((?:millions|thousands)\b"
)
BOILERPLATE = re.compile(
    r"^(?:table of contents|[-–\s]*\d{1,3}[-–\s]*|page \d+|part [ivx]+\.?|item \d+[a-z]?\.?.*|\(unaudited\)|"
    r"unaudited)$"
)
