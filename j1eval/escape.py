"""Text from runs (judge, model, benchmark and subset names, paths) made inert in each output format.

A run directory is data: a judge named ``<img src=x onerror=alert(1)>`` or
``[x](javascript:alert(1))`` must show as those characters, never become markup in a
Markdown or HTML viewer, a formula in a spreadsheet, or a control sequence in a terminal.
"""

from __future__ import annotations

import re

#: C0/C1 control characters, line and paragraph separators, and bidirectional overrides
#: (which can make text read differently from what it is).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\r\n\t\u2028\u2029]+")


def plain(text: object) -> str:
    """One line of printable text: line breaks and tabs become spaces, other controls ``\\xNN``."""
    return _CONTROL.sub(_code, _BREAKS.sub(" ", str(text)))


def _code(match: re.Match[str]) -> str:
    n = ord(match.group())
    return f"\\x{n:02x}" if n < 256 else f"\\u{n:04x}"


#: Characters with a meaning inside a Markdown line (CommonMark, GitHub's tables and strikethrough);
#: "_" only where it can open or close emphasis (not inside a word: snake_case stays as it is).
_MD_INLINE = re.compile(r"[\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
#: "<" and ">" never open a tag or an autolink; "&" only where it would start an entity.
_MD_HTML = re.compile(r"[<>]|&(?=#?[A-Za-z0-9]+;)")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
#: What makes a line a heading, list item, quote or rule when it starts one.
_MD_LINE_START = re.compile(r"^(\s*(?:\d+)?)([#+=.)-])")


def markdown(text: object) -> str:
    """Literal text inside a Markdown line: no HTML, link, image, emphasis, code or table cell boundary survives."""
    out = _MD_INLINE.sub(lambda m: "\\" + m.group(), plain(text))
    return _MD_HTML.sub(lambda m: _MD_ENTITIES[m.group()], out)


def markdown_line(text: object) -> str:
    """:func:`markdown` for text that starts a line: not a heading, list item or rule either."""
    return _MD_LINE_START.sub(r"\1\\\2", markdown(text), count=1)


_FORMULA_START = ("=", "+", "-", "@")


def csv_text(text: object) -> str:
    """A spreadsheet cell that is never read as a formula (OWASP: a leading ' on =, +, -, @)."""
    out = plain(text)
    return "'" + out if out.startswith(_FORMULA_START) else out
