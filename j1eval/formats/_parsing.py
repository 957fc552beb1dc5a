"""Shared machinery of the J1 formats: rendering and reading judge outputs.

Reading rules (every format; each parser never raises):

* ``finish_reason == "error"`` -> ``backend_error`` whatever the text.
* Reasoning spans are ignored: ``<think>...</think>`` (plus ``<plan>``/``<execution>``
  for plan-execute). A closing tag with no opening one (a chat template that opens
  ``<think>`` in the prompt) makes everything before it reasoning. A span never closed
  runs up to the first output tag (``<answer>``, ``<score>``, ``<score_A>``...) after
  it, or to the end of the text.
* Verdicts: the last ``<answer>...</answer>`` block decides. Blocks that echo the
  instructions (``<answer> [[A]] </answer> if Assistant A is better``) are skipped.
  A trailing unclosed ``<answer>`` counts only if it already holds a bracketed verdict.
  Inside the block: ``[[A]]``/``[[B]]`` (any case, with markdown around), else a bare
  ``A``/``B``/``Assistant A``/``A is better``; ``[[C]]``, ``[[tie]]``, ``tie``, ``draw`` are a
  tie; both A and B -> ``both_verdicts``; anything else -> ``no_verdict``.
  Fallback, only when there is no (non-echo) ``<answer>`` tag at all: the last
  bracketed ``[[A]]``/``[[B]]``/``[[C]]``/``[[tie]]`` in the visible text.
* Scores: the last closed block of the tag; its content must be one number, optionally
  written ``n/10`` (read as n) or preceded by ``Score:``. Another denominator, a value
  outside 0-10, or a value off the 0.1 grid (``8.25``; every score format
  reads one decimal, as J1 v3's prompts allow: ``7.5`` is a score)
  -> ``score_out_of_range``. No number -> ``no_verdict``. Scores are never read from
  free text without tags.
* ``finish_reason == "length"`` turns ``no_verdict`` into ``truncated``; a complete
  verdict or score found before the limit is accepted, and ``both_verdicts`` /
  ``score_out_of_range`` are kept (the output did commit to something malformed).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from j1eval.types import Parsed, Verdict

INTEGER_STEP = Fraction(1)
TENTH_STEP = Fraction(1, 10)

# Tags that end an unclosed reasoning span.
_OUTPUT_TAG = re.compile(r"<\s*(?:answer|score(?:[_ ]?[ab])?)\s*>", re.IGNORECASE)
_BRACKET = re.compile(r"\[\[\s*(?:(?:assistant|response)\s+)?(a|b|c|tie)\s*\]\]", re.IGNORECASE)
_ECHO = re.compile(r"[ \t*_]*(?:if|when)\b", re.IGNORECASE)
_PREFIX = r"(?:(?:final\s+)?(?:verdict|answer|winner)\s*[:=-]?\s*)?"
_SINGLE = re.compile(
    _PREFIX
    + r"(?:the\s+)?(?:(?:assistant|response|answer|option|model)\s+)?([ab])"
    + r"(?:\s+is\s+(?:better|the\s+(?:better(?:\s+one|\s+response)?|winner)))?",
    re.IGNORECASE,
)
_TIE = re.compile(_PREFIX + r"(?:tie|draw|c|equal|a\s*=\s*b|it'?s\s+a\s+tie)", re.IGNORECASE)
_BOTH = re.compile(
    r"(?:(?:assistant|response)\s+)?([ab])\s*(?:and|or|/|,|&|\+)\s*(?:(?:assistant|response)\s+)?([ab])",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"(?:score\s*(?:[_ ]?[ab])?\s*[:=]?\s*)?(-?[0-9]+(?:\.[0-9]+)?)(?:\s*/\s*([0-9]+(?:\.[0-9]+)?))?",
    re.IGNORECASE,
)
_MARKDOWN = re.compile(r"[*`#]+|(?<!\w)_+|_+(?!\w)")


class Block(NamedTuple):
    """A tagged span: its content, where the opening tag starts and the block ends."""

    content: str
    start: int
    end: int
    closed: bool


def render(template: str, **fields: str) -> str:
    """Fill ``{name}`` placeholders in one pass: inserted text is never substituted again."""
    return "".join(fields[text] if is_field else text for text, is_field in _template_pieces(template, tuple(fields)))


@lru_cache(maxsize=64)
def _template_pieces(template: str, names: tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    """``template`` (trailing newlines off) cut at its ``{name}`` placeholders: (literal text, False)
    and (name, True) in order; cut once per template, filled per prompt."""
    pattern = re.compile(r"\{(" + "|".join(re.escape(k) for k in names) + r")\}")
    text = template.rstrip("\n")
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        pieces += [(text[pos : m.start()], False), (m.group(1), True)]
        pos = m.end()
    pieces.append((text[pos:], False))
    return tuple(pieces)


@lru_cache(maxsize=32)
def _tag_re(names: str) -> re.Pattern[str]:
    # One white-space run per gap: ``<\s*/?\s*`` would try every split of a long run (quadratic).
    return re.compile(rf"<\s*(?:(/)\s*)?({names})\s*>", re.IGNORECASE)


def visible_text(text: str, reasoning_tags: Sequence[str] = ("think",)) -> str:
    """``text`` without its reasoning spans (see the module docstring); pieces joined by newlines."""
    pieces: list[str] = []
    pos = 0
    open_name: str | None = None
    open_end = 0
    for m in _tag_re("|".join(reasoning_tags)).finditer(text):
        closing, name = bool(m.group(1)), m.group(2).lower()
        if open_name is None:
            if closing:  # orphan close: what came before was reasoning
                pieces.clear()
            else:
                pieces.append(text[pos : m.start()])
                open_name, open_end = name, m.end()
            pos = m.end()
        elif closing and name == open_name:
            open_name, pos = None, m.end()
    if open_name is None:
        pieces.append(text[pos:])
    elif (out := _OUTPUT_TAG.search(text, open_end)) is not None:
        pieces.append(text[out.start() :])
    return "\n".join(pieces)


def tag_blocks(text: str, tag: str) -> list[Block]:
    """Blocks of ``<tag>...</tag>`` in order (``tag`` is a regex fragment, case-insensitive).

    A second opening tag before a close restarts the block; a close without an opening
    tag is ignored; a trailing unclosed block runs to the end with ``closed=False``.
    """
    blocks: list[Block] = []
    start: int | None = None
    content_start = 0
    for m in _tag_re(tag).finditer(text):
        if not m.group(1):
            start, content_start = m.start(), m.end()
        elif start is not None:
            blocks.append(Block(text[content_start : m.start()], start, m.end(), True))
            start = None
    if start is not None:
        blocks.append(Block(text[content_start:], start, len(text), False))
    return blocks


def _normalize(content: str) -> str:
    core = _MARKDOWN.sub(" ", content.replace("\\[", "[").replace("\\]", "]"))
    core = " ".join(core.split())
    return core.lstrip(" ([{\"'").rstrip(" )]}\"'.!;:,")


def _bracketed(content: str) -> tuple[Verdict, str | None] | None:
    """The verdict named by ``[[X]]`` tokens in ``content``, or None when there are none."""
    labels = {m.group(1).upper() for m in _BRACKET.finditer(content.replace("\\[", "[").replace("\\]", "]"))}
    if not labels:
        return None
    if {"A", "B"} <= labels:
        return None, "both_verdicts"
    if "A" in labels or "B" in labels:
        return ("A" if "A" in labels else "B"), None
    return "tie", None


def read_verdict(content: str) -> tuple[Verdict, str | None]:
    """(verdict, failure) from the content of an answer block."""
    found = _bracketed(content)
    if found is not None:
        return found
    core = _normalize(content)
    if (m := _SINGLE.fullmatch(core)) is not None:
        return m.group(1).upper(), None  # type: ignore[return-value]
    if _TIE.fullmatch(core):
        return "tie", None
    if (m := _BOTH.fullmatch(core)) is not None and m.group(1).lower() != m.group(2).lower():
        return None, "both_verdicts"
    return None, "no_verdict"


def find_verdict(visible: str) -> tuple[Verdict, str | None]:
    """(verdict, failure) from visible text: the last answer block, else the bracket fallback."""
    blocks = tag_blocks(visible, "answer")
    is_echo = [b.closed and _ECHO.match(visible, b.end) is not None for b in blocks]
    echo = [b for b, skip in zip(blocks, is_echo, strict=True) if skip]
    real = [b for b, skip in zip(blocks, is_echo, strict=True) if not skip]
    if real:
        last = real[-1]
        if last.closed:
            return read_verdict(last.content)
        found = _bracketed(last.content)  # unclosed: only a bracketed verdict counts
        if found is not None:
            return found
        closed = [b for b in real if b.closed]
        return read_verdict(closed[-1].content) if closed else (None, "no_verdict")
    if echo:  # cut echoed format lines out before the fallback (one join: linear in the text)
        cuts = [0, *(i for b in echo for i in (b.start, b.end)), len(visible)]
        visible = "\n".join(visible[cuts[k] : cuts[k + 1]] for k in range(0, len(cuts), 2))
    tokens = [m for m in _BRACKET.finditer(visible) if not _ECHO.match(visible, m.end())]
    if not tokens:
        return None, "no_verdict"
    label = tokens[-1].group(1).upper()
    return (label if label in ("A", "B") else "tie"), None  # type: ignore[return-value]


def read_score(visible: str, tag: str, step: Fraction) -> tuple[float | None, str | None]:
    """(score, failure) from the last closed ``<tag>`` block; see the module docstring."""
    blocks = [b for b in tag_blocks(visible, tag) if b.closed]
    if not blocks:
        return None, "no_verdict"
    m = _NUMBER.fullmatch(_normalize(blocks[-1].content))
    if m is None:
        return None, "no_verdict"
    number, denominator = m.group(1), m.group(2)
    if denominator is not None and (len(denominator) > 8 or Fraction(denominator) != 10):
        return None, "score_out_of_range"
    if len(number.lstrip("-").split(".")[0].lstrip("0")) > 2 or len(number) > 40:
        return None, "score_out_of_range"  # far out of range (and too long to convert safely)
    value = Fraction(number)
    if not 0 <= value <= 10 or value % step:
        return None, "score_out_of_range"
    return float(value), None


def settle(parsed: Parsed, finish_reason: str | None) -> Parsed:
    """Apply the finish reason: ``length`` turns ``no_verdict`` into ``truncated``."""
    if finish_reason == "length" and parsed.failure == "no_verdict":
        return dataclasses.replace(parsed, failure="truncated")
    return parsed


def compare(score_a: float, score_b: float) -> Verdict:
    """The slot with the higher score, "tie" when equal (exact arithmetic)."""
    a, b = Fraction(score_a), Fraction(score_b)
    return "A" if a > b else "B" if b > a else "tie"
