"""One pair: the prompt, both responses (the better one marked), and every selected run's
output in both answer orders, cut into thinking and verdict, with flips marked.

All text from the runs and the benchmark goes through :func:`show_text` (``st.code``) or
``st.text``; the Markdown here holds only the dashboard's own words and numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.data import OUTCOME_TEXT, BenchView, LoadedRun
from dashboard.traces import split_output
from dashboard.views.common import ORDER_TEXT, failure_text, show_text
from j1eval.errors import J1EvalError
from j1eval.formats import Format, get_format
from j1eval.types import ORDERS, Pair, slot_to_response

MAX_COLUMNS = 4  # runs side by side per row


@lru_cache(maxsize=32)
def _format(name: str) -> Format | None:
    try:
        return get_format(name)
    except J1EvalError:
        return None


def _prompts(fmt: Format | None, pair: Pair | None, order: str) -> list[Any]:
    if fmt is None:
        return []
    stub = pair or Pair("x", "x", "x", "", "", "", 1)  # the prefill does not depend on the pair
    try:
        return fmt.prompts(stub, order)  # type: ignore[arg-type]
    except Exception:  # a format that cannot render this pair: show the output alone
        return []


def _prompt_hash(prompt: Any) -> str:
    """As j1eval.judging.runner hashes a prompt into the judgment's ``prompt_hash``."""
    return hashlib.sha256(json.dumps(list(prompt.messages), sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _verdict_words(verdict: object, order: str, label: object) -> str:
    """Markdown of the dashboard's own words: which response the verdict picks and whether that is right."""
    if verdict in ("A", "B"):
        response = slot_to_response(verdict, order)  # type: ignore[arg-type]
        mark = ""
        if isinstance(label, int | float) and not math.isnan(label):
            mark = " :green-badge[✓ correct]" if response == int(label) else " :red-badge[✗ wrong]"
        return f"verdict **{verdict}**: picks response {response}{mark}"
    if verdict == "tie":
        return "verdict: :orange-badge[tie]"
    return "verdict: :gray-badge[none]"


def _row(view: BenchView, pair_id: str) -> pd.Series:
    return view.table.loc[view.table["pair_id"] == pair_id].iloc[0]


def _flip_banner(row: pd.Series) -> None:
    if bool(row["flip"]):
        first = slot_to_response(row["verdict_ab"], "ab")
        second = slot_to_response(row["verdict_ba"], "ba")
        st.markdown(
            f":red-background[**⇄ verdict flip**: picks response {first} in order (a,b), "
            f"response {second} in order (b,a)]"
        )
    elif row["outcome"] in OUTCOME_TEXT:
        st.markdown(f"{OUTCOME_TEXT[row['outcome']]}, no flip")


def _order_panel(run: LoadedRun, view: BenchView, pair: Pair | None, row: pd.Series, order: str) -> None:
    st.markdown(f"**{ORDER_TEXT[order]}**")
    if not bool(row[f"judged_{order}"]):
        st.markdown("not judged in this order")
        return
    label = pair.label if pair is not None else math.nan
    words = _verdict_words(row[f"verdict_{order}"], order, label)
    p_a = row.get(f"p_a_{order}")
    if isinstance(p_a, float) and not math.isnan(p_a):
        words += f" · P(slot A) = {p_a:.3f}"
    st.markdown(words)
    failure = row.get(f"failure_{order}")
    if failure is not None and failure == failure:
        known = failure_text(failure)
        if known:
            st.markdown(f"failure: :orange-badge[{known}]")
        else:
            st.text(f"failure: {failure}")
    fmt = _format(str(run.manifest.get("format")))
    prompts = _prompts(fmt, pair, order)
    prefill = prompts[-1].prefill if prompts else ""
    j = view.judgments.iloc[view.rows_of[row["pair_id"]]]
    j = j[j["order"] == order].sort_values("sample")
    for rec in j.itertuples():
        if len(j) > 1:
            st.markdown(f"sample {rec.sample}")
        seg = split_output(rec.raw, prefill)
        if seg.thinking.strip():
            st.markdown("*thinking*")
            show_text(seg.thinking)
        if seg.verdict:
            st.markdown("*verdict tag*" + (" (the prompt opened it; the model wrote the rest)" if prefill else ""))
            show_text(seg.verdict, tall=False)
        else:
            st.markdown("*no verdict tag in the output*")
        if seg.after.strip():
            st.markdown("*after the verdict tag*")
            show_text(seg.after)
        n = rec.completion_tokens
        tokens = "" if n is None else f", {n} token" if n == 1 else f", {n} tokens"
        st.text(f"finish reason: {rec.finish_reason or '?'}{tokens}")
        if rec.error:
            st.text(f"error: {rec.error}")
    if pair is not None and prompts:
        with st.expander("prompt of this order, as the judge saw it"):
            hashes = [h for h in j["prompt_hash"].tolist() if h is not None][:1]
            stored = hashes[0] if hashes else None
            stored = stored if isinstance(stored, list) else [stored]
            same = [_prompt_hash(p) for p in prompts] == stored
            st.markdown("prompt hash matches the judgment's" if same else "⚠ differs from the judged prompt's hash")
            for prompt in prompts:
                for message in prompt.messages:
                    role = message.get("role")
                    st.markdown(f"*{role if role in ('system', 'user', 'assistant') else 'message'}*")
                    show_text(str(message.get("content", "")))


def _run_header(i: int, run: LoadedRun) -> None:
    st.markdown(f"**Run {i}**")
    st.code(run.entry.rel, language=None)
    st.text(f"{run.manifest.get('judge')} · {run.manifest.get('format')}")


def render(pair_id: str, bench: str, runs: Sequence[LoadedRun]) -> None:
    found = [(r, r.benches[bench]) for r in runs if bench in r.benches and pair_id in r.benches[bench].rows_of]
    if not found:
        st.warning("No selected run judged a pair with this id on this benchmark.")
        return
    pair = next((v.pairs[pair_id] for _, v in found if v.pairs and pair_id in v.pairs), None)
    st.markdown("### Pair")
    st.code(pair_id, language=None)
    if pair is None:
        st.markdown("The benchmark data could not be read: prompt and responses unknown.")
    else:
        st.text(f"benchmark: {bench} · subset: {pair.subset}")
        st.markdown("**Prompt**")
        show_text(pair.prompt)
        cols = st.columns(2)
        for n, col in ((1, cols[0]), (2, cols[1])):
            with col:
                better = " :green-badge[✓ better]" if pair.label == n else ""
                st.markdown(f"**Response {n}**{better}")
                show_text(pair.response_1 if n == 1 else pair.response_2)
    st.markdown("### What the judge thought")
    if len(found) > 1:
        summary = pd.DataFrame(
            [
                {
                    "run": r.entry.rel,
                    "verdict (a,b)": row["verdict_ab"],
                    "verdict (b,a)": row["verdict_ba"],
                    "correct in": row["outcome"],
                    "flip": bool(row["flip"]),
                    "P(A) (a,b)": row.get("p_a_ab"),
                    "P(A) (b,a)": row.get("p_a_ba"),
                }
                for r, v in found
                for row in [_row(v, pair_id)]
            ]
        )
        p_format = st.column_config.NumberColumn(format="%.3f")
        st.dataframe(summary, hide_index=True, column_config={"P(A) (a,b)": p_format, "P(A) (b,a)": p_format})
    layout = "orders side by side"
    if len(found) > 1:
        layout = (
            st.segmented_control("Layout", ["orders side by side", "runs side by side"], default=layout, key="layout")
            or layout
        )
    if layout == "orders side by side":
        for i, (run, view) in enumerate(found, start=1):
            with st.container(border=True):
                _run_header(i, run)
                row = _row(view, pair_id)
                _flip_banner(row)
                cols = st.columns(2)
                for col, order in zip(cols, ORDERS, strict=True):
                    with col:
                        _order_panel(run, view, pair, row, order)
        return
    for start in range(0, len(found), MAX_COLUMNS):
        chunk = found[start : start + MAX_COLUMNS]
        for col, (i, (run, view)) in zip(st.columns(len(chunk)), enumerate(chunk, start=start + 1), strict=True):
            with col, st.container(border=True):
                _run_header(i, run)
                row = _row(view, pair_id)
                _flip_banner(row)
                for order in ORDERS:
                    _order_panel(run, view, pair, row, order)
