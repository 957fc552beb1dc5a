"""Pair browser: filters, a paged table of matching pairs, and one pair in both orders.

State that reopens a pair lives in the URL: ``view``, ``runs``, ``bench`` and ``pair`` are
widgets bound to query parameters, so ``?view=Pairs&runs=first&bench=judgebench&pair=ID``
opens that pair. A pair id from the URL is only looked up in the loaded tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard.data import OUTCOME_TEXT, OUTCOMES, SLOT_A, LoadedRun
from dashboard.filters import Filters, filter_mask
from dashboard.views import pair_view
from dashboard.views.common import FAILURE_TEXT

PAGE_SIZE = 50
PREVIEW_CHARS = 80
SLOT_A_TEXT = {"both": "slot A in both orders", "one": "slot A in one order", "neither": "slot A in neither order"}


def _open_from_grid(page_ids: list[str]) -> None:
    rows = st.session_state["grid"].selection.rows
    if rows:
        st.session_state["pair"] = page_ids[rows[0]]


def _open_from_select() -> None:
    choice = st.session_state.get("open_pair")
    if choice:
        st.session_state["pair"] = choice


def _filters(runs: Sequence[LoadedRun], bench: str) -> tuple[LoadedRun, Filters]:
    side = st.sidebar
    with_bench = [r for r in runs if bench in r.benches]
    base = with_bench[0]
    if len(with_bench) > 1:
        rels = [r.entry.rel for r in with_bench]
        chosen = side.selectbox("Filter on the outcomes of", rels, key="base")
        base = with_bench[rels.index(chosen)]
    table = base.benches[bench].table
    subsets = sorted(table["subset"].unique().tolist())
    present = set(table["outcome"].unique().tolist())
    failures = sorted(set(table["failure_ab"].dropna()) | set(table["failure_ba"].dropna()))
    f = Filters(
        subsets=tuple(side.multiselect("Subset", subsets, key="f_subset")),
        outcomes=tuple(
            side.multiselect(
                "Correct in", [o for o in OUTCOMES if o in present], format_func=OUTCOME_TEXT.get, key="f_outcome"
            )
        ),
        flip=side.radio("Verdict flip", ["any", "flipped", "not flipped"], horizontal=True, key="f_flip"),
        tie=side.radio("Tie", ["any", "a tie", "no tie"], horizontal=True, key="f_tie"),
        failures=tuple(
            side.multiselect(
                "Failure class (either order)",
                failures,
                format_func=lambda x: FAILURE_TEXT.get(x, str(x)),
                key="f_failure",
            )
        ),
        slot_a=tuple(side.multiselect("Slot A picked in", SLOT_A, format_func=SLOT_A_TEXT.get, key="f_slot")),
        text=side.text_input("Search prompt, responses and outputs", key="f_text"),
    )
    return base, f


def _verdict(verdict: object, judged: object) -> str:
    if not judged:
        return "not judged"
    return verdict if isinstance(verdict, str) else "no verdict"


def _grid(page: pd.DataFrame, others: Sequence[LoadedRun], bench: str) -> pd.DataFrame:
    """The page's rows with short columns only (long text stays out of the grid)."""
    grid = pd.DataFrame(
        {
            "pair_id": page["pair_id"].to_numpy(),
            "subset": page["subset"].to_numpy(),
            "correct in": page["outcome"].to_numpy(),
            "flip": page["flip"].to_numpy(bool),
            "verdict (a,b)": [_verdict(v, j) for v, j in zip(page["verdict_ab"], page["judged_ab"], strict=True)],
            "verdict (b,a)": [_verdict(v, j) for v, j in zip(page["verdict_ba"], page["judged_ba"], strict=True)],
        }
    )
    if page["p_a_ab"].notna().any() or page["p_a_ba"].notna().any():
        grid["P(A) (a,b)"] = page["p_a_ab"].to_numpy(float)
        grid["P(A) (b,a)"] = page["p_a_ba"].to_numpy(float)
    if page["failure_ab"].notna().any() or page["failure_ba"].notna().any():
        for order in ("ab", "ba"):
            grid[f"failure ({order[0]},{order[1]})"] = [
                "" if f is None or f != f else FAILURE_TEXT.get(f, str(f)) for f in page[f"failure_{order}"]
            ]
    for other in others:
        t = other.benches[bench].table.set_index("pair_id")
        grid[f"{other.entry.rel}: correct in"] = page["pair_id"].map(t["outcome"]).fillna("not judged").to_numpy()
        grid[f"{other.entry.rel}: flip"] = page["pair_id"].map(t["flip"]).fillna(False).to_numpy(bool)
    preview = page["prompt"].str.slice(0, PREVIEW_CHARS).str.replace(r"\s+", " ", regex=True)
    grid["prompt"] = preview.to_numpy(object)
    return grid


def render(runs: Sequence[LoadedRun]) -> None:
    benches = list(dict.fromkeys(b for r in runs for b in r.benches))
    if not benches:
        st.info("The selected runs hold no judgments.")
        return
    bench = st.sidebar.selectbox("Benchmark", benches, key="bench", bind="query-params")
    base, f = _filters(runs, bench)
    view = base.benches[bench]
    others = [r for r in runs if r is not base and bench in r.benches]
    table = view.table
    mask = filter_mask(table, f, tuple(o.benches[bench].table for o in others))
    matched = table[mask]
    n_pages = max(1, -(-len(matched) // PAGE_SIZE))

    st.markdown("### Pairs")
    if view.note:
        st.text(f"⚠ {view.note}")
    both = table["judged_ab"] & table["judged_ba"]
    st.markdown(
        f"**{len(matched):,}** of {len(table):,} pairs match. Over all {len(table):,}: "
        f"{(table['outcome'] == 'both').sum():,} correct in both orders, "
        f"{int(table['flip'].sum()):,} verdict flips ({int(both.sum()):,} pairs judged in both orders)."
    )
    # A new filter starts at page 1: the pager's key follows the filters.
    page_no = st.pagination(n_pages, key=f"page-{abs(hash((bench, base.entry.rel, f))) % 10**9}") if n_pages > 1 else 1
    page = matched.iloc[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]
    page_ids = page["pair_id"].tolist()
    grid = _grid(page, others, bench)
    config = {c: st.column_config.NumberColumn(format="%.3f") for c in grid.columns if c.startswith("P(A)")}
    st.dataframe(
        grid,
        hide_index=True,
        column_config=config,
        on_select=lambda: _open_from_grid(page_ids),
        selection_mode="single-row",
        key="grid",
        height=min(38 + 35 * max(len(grid), 1), 420),
    )
    cols = st.columns([3, 2])
    cols[0].selectbox(
        "Open a pair of this page",
        page_ids,
        index=None,
        key="open_pair",
        on_change=_open_from_select,
        placeholder="click a row, or choose a pair id here",
    )
    pair_id = cols[1].text_input("Pair id (kept in the page's URL)", key="pair", bind="query-params")
    if pair_id:
        pair_view.render(pair_id.strip(), bench, [base, *others])
