"""LLMWhisperer v2 `POST /whisper` parameters and their wire encoding.

Input: the options we want (mode, pages, line splitting, …). Output: the query string the service
expects (every parameter in the query, booleans as `True`/`False`, both page-separator spellings) and
the subset of options that change the output, which keys the text cache.
Invariants: `pages_to_extract` is normalised ("1-3,7", ascending, merged) so equal page sets give
equal cache keys; `tag` and `file_name` never enter the cache key (they change billing labels only).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Literal

from app.extraction.pages import format_page_spec, parse_page_spec

Mode = Literal["native_text", "low_cost", "high_quality", "form", "table"]
OutputMode = Literal["layout_preserving", "text"]
MODES = ("native_text", "low_cost", "high_quality", "form", "table")
OUTPUT_MODES = ("layout_preserving", "text")
LINE_SPLITTER_STRATEGIES = ("left-priority", "mid-priority", "right-priority")
DEFAULT_PAGE_SEPARATOR = "<<<"
PAGE_NO_TEMPLATE = "{{page_no}}"
# Fields that label a request for billing but never change the text that comes back.
_LABEL_FIELDS = ("tag", "file_name")


@dataclass(frozen=True)
class WhisperParams:
    mode: Mode = "form"
    output_mode: OutputMode = "layout_preserving"
    pages_to_extract: str = ""
    page_separator: str = DEFAULT_PAGE_SEPARATOR
    line_splitter_tolerance: float = 0.4
    line_splitter_strategy: str = "left-priority"
    horizontal_stretch_factor: float = 1.0
    mark_vertical_lines: bool = False
    mark_horizontal_lines: bool = False
    # The service drops words below this confidence from the text; keep it low so digits survive
    # (not 0, which a service reading `value or default` would turn back into its 0.3).
    word_confidence_threshold: float = 0.05
    add_line_nos: bool = False
    include_line_confidence: bool = False
    median_filter_size: int = 0
    gaussian_blur_radius: float = 0
    lang: str = "eng"
    tag: str = "tieout"
    file_name: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.output_mode not in OUTPUT_MODES:
            raise ValueError(f"output_mode must be one of {OUTPUT_MODES}, not {self.output_mode!r}")
        if self.line_splitter_strategy not in LINE_SPLITTER_STRATEGIES:
            raise ValueError(f"unknown line_splitter_strategy {self.line_splitter_strategy!r}")
        if not 0 <= self.word_confidence_threshold <= 1:
            raise ValueError("word_confidence_threshold must be within 0..1")
        if not self.page_separator.strip():
            raise ValueError("page_separator must not be blank: pages could not be split")
        object.__setattr__(self, "pages_to_extract", format_page_spec(parse_page_spec(self.pages_to_extract)))

    def with_pages(self, pages: Iterable[int]) -> WhisperParams:
        return replace(self, pages_to_extract=format_page_spec(pages))

    def with_labels(self, *, tag: str | None = None, file_name: str | None = None) -> WhisperParams:
        return replace(self, tag=self.tag if tag is None else tag, file_name=file_name or self.file_name)

    def page_list(self) -> list[int]:
        """The requested pages, ascending; empty means every page."""
        return parse_page_spec(self.pages_to_extract)

    def output_options(self) -> dict[str, object]:
        """Every option that changes the returned text (the cache key), without the page list."""
        options = asdict(self)
        for name in (*_LABEL_FIELDS, "pages_to_extract"):
            options.pop(name)
        return options

    def options_key(self) -> str:
        """Stable hex digest of `output_options()`: equal options give equal keys across processes."""
        canonical = json.dumps(self.output_options(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def text_mode(self) -> Literal["layout", "grid", "plain"]:
        """How the parser must read the text: table mode answers pipe grids."""
        if self.mode == "table":
            return "grid"
        return "layout" if self.output_mode == "layout_preserving" else "plain"

    def query(self) -> list[tuple[str, str]]:
        """The query string as the official client sends it, plus the legacy separator spelling."""
        pairs = [(name, _wire(value)) for name, value in asdict(self).items()]
        # Services older than v2.64.2 read only the misspelled key, so both go out.
        pairs.append(("page_seperator", self.page_separator))
        return pairs


def _wire(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)
