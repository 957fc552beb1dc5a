"""Overview: per run, what was run (the manifest) and its figures exactly as ``results.json``
holds them, per benchmark and subset; below, the report's plots over the selected runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.data import LoadedRun
from dashboard.runs import clean
from j1eval.report import BENCH_TITLES
from j1eval.score.metrics import GENERIC_FIGURES

COUNTS = ("n_pairs", "n_judgments", "n_both_orders")


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return clean(value)
    return clean(json.dumps(value, ensure_ascii=False))


def manifest_rows(manifest: dict[str, Any]) -> pd.DataFrame:
    """The manifest's fields a reader needs, as (field, value) text rows."""
    ident = manifest.get("judge_identity") if isinstance(manifest.get("judge_identity"), dict) else {}
    command = manifest.get("command")
    rows = [
        ("judge", manifest.get("judge")),
        ("model", ident.get("model")),
        ("model revision", manifest.get("model_revision")),
        ("backend", ident.get("backend")),
        ("format", manifest.get("format")),
        ("template hash", manifest.get("template_hash")),
        ("sampling", ident.get("sampling")),
        ("seed", manifest.get("seed")),
        ("orders", manifest.get("order")),
        ("samples per order", manifest.get("samples")),
        ("--limit", manifest.get("limit")),
        ("--sample", manifest.get("sample")),
        ("command", " ".join(map(str, command)) if isinstance(command, list) else command),
        ("finished", manifest.get("finished_at")),
    ]
    benches = manifest.get("benchmarks") if isinstance(manifest.get("benchmarks"), dict) else {}
    for name, info in benches.items():
        if not isinstance(info, dict):
            continue
        rows.append((f"{name}: source", info.get("source")))
        rows.append((f"{name}: pairs run / in the data", f"{info.get('n_pairs_run')} / {info.get('n_pairs_total')}"))
        for path, digest in (info.get("files") or {}).items():
            rows.append((f"{name}: sha256 of {path}", digest))
        if info.get("missing"):
            rows.append((f"{name}: missing", info.get("missing")))
    return pd.DataFrame({"field": [_text(k) for k, _ in rows], "value": [_text(v) for _, v in rows]})


def figure_frames(results: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(figures, 95% intervals): one row for ``overall`` and one per subset; values as in results.json."""
    scopes: list[tuple[str, dict[str, Any]]] = []
    if isinstance(results.get("overall"), dict):
        scopes.append(("overall", results["overall"]))
    subsets = results.get("subsets") if isinstance(results.get("subsets"), dict) else {}
    scopes += [(f"subset {k}", v) for k, v in subsets.items() if isinstance(v, dict)]
    keys: list[str] = [k for k in COUNTS if any(k in s for _, s in scopes)]
    keys += [k for k in GENERIC_FIGURES if any(k in s for _, s in scopes)]
    for _, s in scopes:
        keys += [k for k in s if k not in keys and k not in ("ci", "missing")]
    rows, ci_rows = [], []
    for name, s in scopes:
        rows.append({"scope": clean(name), **{k: _number(s.get(k)) for k in keys}})
        if s.get("missing"):
            rows[-1]["missing"] = _text(s.get("missing"))
        ci = s.get("ci") if isinstance(s.get("ci"), dict) else {}
        for k, (lo, hi) in ((k, v) for k, v in ci.items() if isinstance(v, list) and len(v) == 2):
            ci_rows.append({"scope": clean(name), "figure": clean(str(k)), "low": _number(lo), "high": _number(hi)})
    return pd.DataFrame(rows), pd.DataFrame(ci_rows)


def _number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    return value if isinstance(value, int | float) else _text(value)


def _figures(results: dict[str, Any]) -> None:
    values, ci = figure_frames(results)
    fractions = [c for c in values.columns if c not in ("scope", "missing", *COUNTS)]
    config = {c: st.column_config.NumberColumn(format="percent") for c in fractions}
    st.dataframe(values, hide_index=True, column_config=config)
    if not ci.empty:
        with st.expander("95% bootstrap intervals"):
            pct = st.column_config.NumberColumn(format="percent")
            st.dataframe(ci, hide_index=True, column_config={"low": pct, "high": pct})


def render(runs: Sequence[LoadedRun], plots: Callable[[], tuple[list[tuple[str, bytes]], list[str]]]) -> None:
    st.markdown("### Overview")
    st.caption("Figures exactly as each run's results.json holds them (fractions shown as percentages).")
    for i, run in enumerate(runs, start=1):
        with st.container(border=True):
            st.markdown(f"#### Run {i}")
            st.code(run.entry.rel, language=None)
            for note in run.notes:
                st.text(f"⚠ {note}")
            rows = manifest_rows(run.manifest).set_index("field")["value"]
            st.text(" · ".join(f"{k} {rows[k]}" for k in ("judge", "model", "format", "sampling", "seed") if k in rows))
            with st.expander("manifest: judge, model, format, sampling, seed, data hashes, command"):
                st.dataframe(rows.reset_index(), hide_index=True, width="stretch")
            for bench, results in run.results.items():
                if not isinstance(results, dict):
                    continue
                st.markdown(f"**{BENCH_TITLES[bench]}**" if bench in BENCH_TITLES else "**benchmark**")
                if bench not in BENCH_TITLES:
                    st.text(bench)
                _figures(results)
                note = run.benches[bench].note if bench in run.benches else None
                if note:
                    st.text(f"⚠ {note}")
    st.markdown("### Plots")
    images, notes = plots()
    for name, png in images:
        st.image(png, caption=name.replace("_", " "))
    for note in notes:
        st.text(f"· {note}")
