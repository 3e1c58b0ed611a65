"""Hostile PDFs for scenario 15, written by hand and cheap to build.

`deflate_repeated` makes the zlib stream of gigabytes of one byte without compressing them: after a
full flush deflate's state is reset, so every further block of the same bytes compresses to the same
bits; only the Adler-32 trailer has to run over the whole length.
"""

from __future__ import annotations

import zlib

_CHUNK = 1024 * 1024


def deflate_repeated(byte: bytes, size: int) -> bytes:
    """zlib stream of `size` copies of `byte`, deflating only 1 MiB of them (plus the remainder)."""
    assert len(byte) == 1
    chunks, rest = divmod(size, _CHUNK)
    block = byte * _CHUNK
    packer = zlib.compressobj(9)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    header, body = first[:2], first[2:]
    tail = packer.compress(byte * rest) + packer.flush(zlib.Z_FULL_FLUSH) if rest else b""
    adler = 1
    for _ in range(chunks):
        adler = zlib.adler32(block, adler)
    adler = zlib.adler32(byte * rest, adler)
    final_empty_block = b"\x03\x00"  # BFINAL=1, fixed Huffman, end-of-block at once
    return header + body * chunks + tail + final_empty_block + adler.to_bytes(4, "big")


def pdf_with(objects: list[bytes], *, trailer_extra: bytes = b"") -> bytes:
    """A hand-written PDF; object 1 is the catalog, 2 the page tree, 3 the only page."""
    out, offsets = b"%PDF-1.7\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer_extra = trailer_extra.replace(b"{xref}", b"%d" % xref)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objects) + 1, trailer_extra)
    return out + b"startxref\n%d\n%%%%EOF\n" % xref


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def page(extra: bytes = b"", media_box: bytes = b"[0 0 612 792]") -> bytes:
    return b"<< /Type /Page /Parent 2 0 R /MediaBox " + media_box + b" " + extra + b" >>"


def flate_bomb() -> bytes:
    """(b) A content stream of 1 GiB of spaces, FlateDecode applied twice (a few KB on the wire)."""
    twice = zlib.compress(deflate_repeated(b" ", 1024**3), 9)
    return pdf_with(
        [CATALOG, PAGES, page(b"/Contents 4 0 R"), stream(b"/Filter [/FlateDecode /FlateDecode]", twice)]
    )


def giant_image() -> bytes:
    """(c) One Letter page showing a 50,000 × 50,000 grey image (2.5 GB decoded, a few KB on the wire)."""
    side = 50_000
    pixels = zlib.compress(deflate_repeated(b"\xff", side * side), 9)
    image = stream(
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8 /Filter [/FlateDecode /FlateDecode]" % (side, side),
        pixels,
    )
    return pdf_with(
        [
            CATALOG,
            PAGES,
            page(b"/Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >>"),
            stream(b"", b"q 612 0 0 792 0 0 cm /Im1 Do Q"),
            image,
        ]
    )


def giant_page() -> bytes:
    """(c) A blank page of the largest legal size (200 × 200 inches): 40,000² pixels at the OCR's 200 dpi."""
    return pdf_with([CATALOG, PAGES, page(media_box=b"[0 0 14400 14400]")])


def deep_arrays(depth: int = 100_000) -> bytes:
    """(d) 100,000 nested arrays in the page dictionary (a recursive-descent parser's stack)."""
    return pdf_with([CATALOG, PAGES, page(b"/Junk " + b"[" * depth + b"]" * depth)])


def circular_prev() -> bytes:
    """(e) The trailer's /Prev points at its own cross-reference table."""
    return pdf_with([CATALOG, PAGES, page()], trailer_extra=b" /Prev {xref}")
