"""Rendering helpers. The one rule: text read from a file is shown with ``st.code``, ``st.text``
or in a data grid, never through Markdown (``st.markdown``, labels, captions, badges), since
Markdown renders links and remote images from the text even without ``unsafe_allow_html``.
Markdown here only ever holds the dashboard's own words and numbers it formatted itself.
"""

from __future__ import annotations

import streamlit as st

from dashboard.traces import MAX_SHOWN, shown
from j1eval.types import FAILURE_CLASSES

#: Lines above which a text box gets a fixed height and scrolls.
TALL_LINES = 24
TALL_PX = 420

FAILURE_TEXT = {
    "no_verdict": "no verdict",
    "both_verdicts": "both verdicts",
    "score_out_of_range": "score out of range",
    "truncated": "truncated",
    "backend_error": "backend error",
}
ORDER_TEXT = {"ab": "order (a,b): response 1 in slot A", "ba": "order (b,a): response 2 in slot A"}


def show_text(text: str, *, limit: int = MAX_SHOWN, tall: bool = True) -> None:
    """Untrusted text as a wrapped code block (no highlighting); long text scrolls, huge text is cut."""
    body, hidden = shown(text, limit)
    lines = body.count("\n") + len(body) // 120
    height = TALL_PX if tall and lines > TALL_LINES else "content"
    st.code(body if body else " ", language=None, wrap_lines=True, height=height)
    if hidden:
        st.caption(f"{hidden:,} more characters not shown ({len(text):,} in all).")


def code_span(text: str) -> str:
    """Markdown that shows ``text`` literally: an inline code span (no links, images or HTML inside),
    its fence one backtick longer than any run of backticks in the text (CommonMark)."""
    text = " ".join(text.split()) or " "
    ticks = 1
    while "`" * ticks in text:
        ticks += 1
    fence = "`" * ticks
    return f"{fence} {text} {fence}"


def problem(text: str) -> None:
    """One line in an error box, shown literally."""
    st.error(code_span(text))


def failure_text(failure: object) -> str | None:
    """The dashboard's own words for a known failure class, None for anything else."""
    return FAILURE_TEXT.get(failure) if isinstance(failure, str) and failure in FAILURE_CLASSES else None


def pct(value: object) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, float) and value == value else "–"
