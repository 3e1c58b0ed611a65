"""Read one multipart upload from the request stream, enforcing every limit while it arrives.

Input: the ASGI request (multipart/form-data with one file part and a few small fields).
Output: a `ReceivedUpload` with the file bytes, their SHA-256 and the text fields.
Invariants: nothing is buffered past the limits: a body over the size cap, an oversized field, a
second file or a part that does not start like a PDF stops the read at once with a typed error
(413 / 415 / 422); a body that stalls longer than the idle timeout gets 408. The file's bytes are
hashed as they arrive, so no second pass over them is needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from app.core.errors import PayloadTooLargeError, TieoutError
from app.documents.schemas import UploadOptions
from app.extraction.pages import PageSpecError, parse_page_spec

SNIFF_WINDOW = 1024
FILE_FIELD = "file"
# Room for the multipart framing and the small fields around the file.
ENVELOPE_BYTES = 1024 * 1024


class UploadError(TieoutError):
    """A request whose body is not an acceptable upload (422 unless a more precise status fits)."""

    def __init__(self, code: str, message: str, status_code: int = 422) -> None:
        super().__init__(code, message, status_code)


def not_a_pdf() -> UploadError:
    return UploadError("not_a_pdf", "The file is not a PDF: it does not start with %PDF-.", 415)


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    max_field_bytes: int = 64 * 1024
    max_fields: int = 20
    idle_seconds: float = 30.0
    total_seconds: float = 600.0

    @property
    def max_body_bytes(self) -> int:
        return self.max_file_bytes + ENVELOPE_BYTES


@dataclass(frozen=True)
class ReceivedUpload:
    filename: str
    data: bytes
    sha256: str
    fields: dict[str, str]

    @property
    def size(self) -> int:
        return len(self.data)


def too_large(limits: UploadLimits) -> PayloadTooLargeError:
    mb = limits.max_file_bytes / (1024 * 1024)
    return PayloadTooLargeError(
        "file_too_large",
        f"The upload is larger than the limit of {mb:g} MB.",
        {"limit": limits.max_file_bytes},
    )


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class _Collector:
    """python-multipart callbacks that keep one file and a few small fields, within the limits."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.fields: dict[str, str] = {}
        self.file: _Part | None = None
        self.digest = hashlib.sha256()
        self.sniffed = False
        self._part = _Part()
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": lambda d, s, e: self._add_header_name(d[s:e]),
            "on_header_value": lambda d, s, e: self._add_header_value(d[s:e]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def _add_header_name(self, chunk: bytes) -> None:
        self._header_name += chunk

    def _add_header_value(self, chunk: bytes) -> None:
        self._header_value += chunk

    def on_part_begin(self) -> None:
        self._part = _Part()
        self._disposition = b""

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._part.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            if self.file is not None:
                raise UploadError("too_many_files", "Send exactly one file per upload.")
            if self._part.name != FILE_FIELD:
                raise UploadError(
                    "file_missing",
                    f"The file was sent as {self._part.name!r}; send it as the `file` part "
                    "(curl -F file=@filing.pdf).",
                )
            self._part.filename = options[b"filename"].decode("utf-8", "replace")
            self.file = self._part
        elif self._part.name == FILE_FIELD:
            # curl -F 'file=<x.pdf' sends the bytes as a text field: say so, not "field too large".
            raise UploadError(
                "file_missing", "The `file` part is not a file upload; send it with curl -F file=@filing.pdf."
            )
        elif len(self.fields) >= self.limits.max_fields:
            raise UploadError("too_many_fields", f"At most {self.limits.max_fields} form fields are allowed.")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        # A view, not a slice: the file's bytes are copied once (into the part), not twice.
        chunk = memoryview(data)[start:end]
        part = self._part
        if part.filename is None:
            if len(part.data) + len(chunk) > self.limits.max_field_bytes:
                raise PayloadTooLargeError(
                    "field_too_large",
                    f"Form field {part.name!r} is larger than {self.limits.max_field_bytes} bytes.",
                )
            part.data.extend(chunk)
            return
        if len(part.data) + len(chunk) > self.limits.max_file_bytes:
            raise too_large(self.limits)
        part.data.extend(chunk)
        self.digest.update(chunk)
        if not self.sniffed and len(part.data) >= SNIFF_WINDOW:
            self.sniff()

    def on_part_end(self) -> None:
        if self._part.filename is None:
            self.fields[self._part.name] = self._part.data.decode("utf-8", "replace")
        elif not self.sniffed:
            self.sniff()

    def sniff(self) -> None:
        """Content decides the type: `%PDF-` within the first 1,024 bytes, as file(1) looks."""
        assert self.file is not None
        self.sniffed = True
        if not self.file.data:
            raise UploadError("empty_file", "The file is empty.")
        if b"%PDF-" not in self.file.data[:SNIFF_WINDOW]:
            raise not_a_pdf()


def _boundary(request: Request) -> bytes:
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadError(
            "multipart_required", "Send the PDF as multipart/form-data with a `file` part.", 415
        )
    return params[b"boundary"]


def _check_declared_length(request: Request, limits: UploadLimits) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise too_large(limits)


async def read_upload(request: Request, limits: UploadLimits) -> ReceivedUpload:
    """Stream the body through the multipart parser; see the module docstring for the limits."""
    boundary = _boundary(request)
    _check_declared_length(request, limits)
    collector = _Collector(limits)
    parser = MultipartParser(boundary, collector.callbacks())
    received = 0
    deadline = time.monotonic() + limits.total_seconds
    chunks = request.stream().__aiter__()
    try:
        while True:
            timeout = min(limits.idle_seconds, max(0.0, deadline - time.monotonic()))
            try:
                async with asyncio.timeout(timeout):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except TimeoutError as error:
                raise UploadError(
                    "upload_timeout", "The upload stalled; send the body faster.", 408
                ) from error
            received += len(chunk)
            # Counts the raw body, so chunked bodies and lying Content-Length headers are capped too.
            if received > limits.max_body_bytes:
                raise too_large(limits)
            parser.write(chunk)
        parser.finalize()
    except FormParserError as error:
        raise UploadError("invalid_multipart", "The multipart body is malformed.", 400) from error
    except ClientDisconnect as error:
        raise UploadError("client_disconnected", "The client went away during the upload.", 400) from error
    if collector.file is None:
        raise UploadError("file_missing", "The upload has no file part (send it as `file`).")
    if not collector.file.data:
        raise UploadError("empty_file", "The file is empty.")
    return ReceivedUpload(
        filename=collector.file.filename or "",
        data=bytes(collector.file.data),
        sha256=collector.digest.hexdigest(),
        fields=collector.fields,
    )


_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
MAX_FILENAME_BYTES = 200
DEFAULT_FILENAME = "document.pdf"
_WHATWG_ESCAPES = re.compile(r"%(0[aAdD]|22)")


def sanitize_filename(raw: str) -> str:
    """A display name safe in any file system and header: no path, controls, bidi tricks or reserved names."""
    # Browsers (WHATWG multipart) send LF, CR and '"' in names as %0A, %0D, %22.
    name = _WHATWG_ESCAPES.sub(lambda m: chr(int(m.group(1), 16)), raw)
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"\s+", " ", name)
    # Cc: controls (NUL, ESC); Cf: format chars such as U+202E RIGHT-TO-LEFT OVERRIDE.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf"})
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = name.strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.lower() in _RESERVED:
        stem = f"_{stem}"
    ext = ext[:16]
    suffix = f".{ext}" if ext else ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:budget].decode("utf-8", "ignore").rstrip(" .")
    return f"{stem}{suffix}" if stem else DEFAULT_FILENAME


def content_disposition(filename: str) -> str:
    """RFC 6266 header: an ASCII fallback plus the exact UTF-8 name in `filename*`."""
    ascii_name = (
        filename.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "document.pdf"
    )
    ascii_name = "".join(ch for ch in ascii_name if 32 <= ord(ch) < 127)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


KNOWN_FIELDS = frozenset({"engine", "pages"})


def parse_pages(spec: str) -> list[int]:
    """`"39-44, 50"` → `[39, 40, 41, 42, 43, 44, 50]` (1-based, sorted, unique); 422 if unreadable."""
    try:
        return parse_page_spec(spec)
    except PageSpecError as error:
        raise UploadError("invalid_pages", str(error)) from error


def upload_options(fields: dict[str, str]) -> UploadOptions:
    """The form fields beside the file, checked: unknown names and bad values are 422."""
    unknown = sorted(set(fields) - KNOWN_FIELDS)
    if unknown:
        raise UploadError("unknown_field", f"Unknown form field(s): {', '.join(unknown)}.")
    engine = fields.get("engine", "").strip() or None
    if engine is not None and engine not in {"auto", "llmwhisperer", "local"}:
        raise UploadError("invalid_engine", "engine must be one of auto, llmwhisperer, local.")
    pages = parse_pages(fields["pages"]) if fields.get("pages", "").strip() else None
    return UploadOptions(engine=engine, pages=pages or None)
