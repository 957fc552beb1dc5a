"""How a report quotes the J1 paper: its citation and source lines, over :mod:`j1eval.report.paper_data`.

Every published number lives in one place, ``j1eval/paper_rows.csv``, read by
:mod:`j1eval.report.paper_data`; this module writes none. It names the paper (:data:`CITATION`), each
version's address (:func:`url`), and the footnote a table gives its quoted rows (:func:`quote_note`).
"""

from __future__ import annotations

from collections.abc import Iterable

from j1eval.report.paper_data import (
    BIAS_TABLE,
    MAIN_TABLE,
    REWARDBENCH_TABLE,
    URLS,
    VERSIONS,
    PaperRow,
    PaperScaling,
    bias_rows,
    bias_values,
    column_values,
    format_row,
    main_rows,
    paper_row,
    paper_rows,
    scaling_rows,
)

CITATION = (
    "Whitehouse et al., J1: Incentivizing Thinking in LLM-as-a-Judge via Reinforcement Learning, arXiv:2505.10320"
)
DEFAULT_VERSION = "v1"


def url(version: str) -> str:
    """The versioned arXiv address of one version (``v1``: https://arxiv.org/abs/2505.10320v1)."""
    if version not in URLS:
        raise ValueError(f"unknown paper version {version!r}; known: {', '.join(VERSIONS)}")
    return URLS[version]


def quote_note(rows: Iterable[PaperRow], extra: str = "") -> str:
    """The footnote of a table's quoted rows: which tables of which version, and the versioned addresses."""
    sources = list(dict.fromkeys(r.source for r in rows))
    versions = list(dict.fromkeys(r.version for r in rows))
    if not sources:
        return ""
    where = "; ".join(f"{v}: {url(v)}" for v in versions)
    text = f"Rows marked [paper, ...] are quoted from {CITATION} ({', '.join(sources)}; {where}), not measured."
    return f"{text} {extra}".rstrip()


__all__ = [
    "BIAS_TABLE",
    "CITATION",
    "DEFAULT_VERSION",
    "MAIN_TABLE",
    "REWARDBENCH_TABLE",
    "VERSIONS",
    "PaperRow",
    "PaperScaling",
    "bias_rows",
    "bias_values",
    "column_values",
    "format_row",
    "main_rows",
    "paper_row",
    "paper_rows",
    "quote_note",
    "scaling_rows",
    "url",
]
