"""A judge's output cut into what it thought and where it gave its verdict, for display.

The cut follows j1eval's reading rules (:mod:`j1eval.formats._parsing`) closely enough to
show where the verdict was read: the deciding part is the last ``<answer>`` block that is
not an echo of the instructions (``<answer> [[A]] </answer> if Assistant A is better``),
else the score tags after the reasoning; everything before it is the thinking. An output
with no such tag is all thinking, and the view says that no verdict tag was written. The
verdict itself is always the stored one (what the scorer counted), never re-parsed here.

A prompt that ends in an assistant prefill (``direct-verdict``: ``<answer> [[``) is
continued by the model, so the prefill is put back in front of the output before the cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from j1eval.formats._parsing import tag_blocks

#: Characters shown per text box; the rest is counted, not sent to the browser.
MAX_SHOWN = 100_000

_ECHO = re.compile(r"[ \t*_]*(?:if|when)\b", re.IGNORECASE)
_REASONING_CLOSE = re.compile(r"<\s*/\s*(?:think|plan|execution)\s*>", re.IGNORECASE)
_SCORE_OPEN = re.compile(r"<\s*score(?:[_ ]?[ab])?\s*>", re.IGNORECASE)


@dataclass(frozen=True)
class Segments:
    thinking: str
    verdict: str  # the deciding tag block(s); "" when the output has none
    after: str  # text after the deciding block


def split_output(text: str, prefill: str = "") -> Segments:
    """Cut ``prefill + text`` into thinking, the deciding block and what follows it."""
    full = prefill + text
    blocks = tag_blocks(full, "answer")
    real = [b for b in blocks if not (b.closed and _ECHO.match(full, b.end))]
    if real:
        last = real[-1]
        return Segments(full[: last.start], full[last.start : last.end], full[last.end :])
    reasoning_end = 0
    for m in _REASONING_CLOSE.finditer(full):
        reasoning_end = m.end()
    score = _SCORE_OPEN.search(full, reasoning_end)
    if score is not None:
        return Segments(full[: score.start()], full[score.start() :], "")
    return Segments(full, "", "")


def shown(text: str, limit: int = MAX_SHOWN) -> tuple[str, int]:
    """(the first ``limit`` characters, how many more there are)."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit
