"""What both halves of the J1-effect experiment read: the families file and the in-loop evaluations' tables.

Used by the experiment's steps (:mod:`j1train.j1_effect`) and by its report (:mod:`j1train.j1_effect_report`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.errors import InputError
from j1eval.store.pairs_file import PAIRS_FILE, read_pairs

BENCH = "pairs"


STEP_DIR = re.compile(r"^step-(\d+)$")


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _ci(figs: Mapping[str, Any], key: str) -> str:
    low, high = figs.get("ci", {}).get(key, (None, None))
    return "" if low is None else f" [{100 * low:.1f}, {100 * high:.1f}]"


def read_families(path: Path) -> dict[str, Any]:
    if not Path(path).is_file():
        raise InputError("families file not found (python -m j1train.j1_effect signal writes it)", path=path)
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for key in ("trained", "controls"):
        if not isinstance(data.get(key), list):
            raise InputError("expected a list of family names", path=path, field=key)
    return data


def pooled(table: pd.DataFrame) -> tuple[int, float, float, float | None]:
    """(pairs, consistent accuracy, flip rate, order-averaged-probability accuracy) of a per-pair table."""
    n = len(table)
    if n == 0:
        return 0, 0.0, 0.0, None
    consistent = float(table["correct_both"].fillna(0).sum()) / n
    ab, ba = table["verdict_ab"], table["verdict_ba"]
    decisive = ab.isin(["A", "B"]) & ba.isin(["A", "B"])
    flip = float((decisive & (ab == ba)).sum()) / n  # the same slot in both orders = a different response
    acc_avg = None
    if {"p_a_ab", "p_a_ba"} <= set(table.columns) and table["p_a_ab"].notna().all():
        p1 = (table["p_a_ab"] + (1 - table["p_a_ba"])) / 2  # P(response 1), averaged over the two orders
        right = ((p1 > 0.5) & (table["label"] == 1)) | ((p1 < 0.5) & (table["label"] == 2))
        acc_avg = float(right.sum()) / n
    return n, consistent, flip, acc_avg


def step_tables(arm_dir: Path) -> list[tuple[int, Path, pd.DataFrame]]:
    """(step, run folder, per-pair table) of every finished in-loop evaluation, by step."""
    out = []
    eval_dir = Path(arm_dir) / "eval"
    for folder in eval_dir.iterdir() if eval_dir.is_dir() else []:
        match = STEP_DIR.match(folder.name)
        if match and (folder / PAIRS_FILE).is_file():
            out.append((int(match.group(1)), folder, read_pairs(folder / PAIRS_FILE)[BENCH]))
    return sorted(out, key=lambda t: t[0])
