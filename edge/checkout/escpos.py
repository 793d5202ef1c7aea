"""Receipt text as the bytes an ESC/POS receipt printer prints: initialise, select the configured
code page (``ESC t n``), the text in that code page, feed and cut.

The code page is ``till.receipt_code_page`` (``cp858`` by default: Latin-1 letters such as é, ñ, ü
and the euro sign).  A character the code page lacks is printed as its unaccented letter when it
has one (NFKD), else as ``?``, so a line never shifts its columns.
"""

from __future__ import annotations

import unicodedata

from firmware_config.schema import ESC_POS_CODE_PAGES

ESC = b"\x1b"
GS = b"\x1d"
INIT = ESC + b"@"
FEED_AND_CUT = b"\n\n\n" + GS + b"V" + bytes([66, 0])  # feed, then a partial cut


class UnknownCodePageError(ValueError):
    """A code page the printer table does not know (names the page and the known ones)."""


def select_code_page(code_page: str) -> bytes:
    """The ``ESC t n`` command for ``code_page``."""
    if code_page not in ESC_POS_CODE_PAGES:
        raise UnknownCodePageError(f"unknown receipt code page {code_page!r} (known: {', '.join(ESC_POS_CODE_PAGES)})")
    return ESC + b"t" + bytes([ESC_POS_CODE_PAGES[code_page]])


def _char(ch: str, code_page: str) -> bytes:
    try:
        return ch.encode(code_page)
    except UnicodeEncodeError:
        base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore")
        return base[:1] or b"?"


def encode_text(text: str, code_page: str) -> bytes:
    """``text`` in ``code_page``, one byte per character (newlines kept, other control bytes dropped)."""
    select_code_page(code_page)  # names an unknown page
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ch == "\n":
            out += b"\n"
        elif ch.isprintable():
            out += _char(ch, code_page)
    return bytes(out)


def receipt_bytes(text: str, code_page: str) -> bytes:
    """A whole print job: initialise, code page, the receipt text, feed and cut."""
    return INIT + select_code_page(code_page) + encode_text(text, code_page) + FEED_AND_CUT
