"""A j1train output directory: the per-step log and every rollout TRL logged.

``log.jsonl`` holds one line per logged step (reward means, ``j1/*`` figures, completion
lengths); ``completions/completions_NNNNN.parquet`` holds TRL's completion logs, one row per
rollout: ``step``, ``prompt`` and ``completion`` (chat messages, or plain text), one column
per reward function (``verdict_reward``, ``consistency_reward``, ``format_reward``; the ones
the run used), ``advantage``, and j1train's ``pair_id``, ``order``, ``rollout``, ``verdict``,
``failure``. Evaluations during training (``eval/step-N``) are ordinary run directories and
appear in the run list beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dashboard.runs import (
    TRAIN_LOG,
    DashboardError,
    RunEntry,
    clean,
    completion_files,
    inside,
    iter_jsonl_lenient,
)

ROLLOUT_KEYS = ("step", "pair_id", "order", "rollout", "verdict", "failure", "advantage")


@dataclass
class TrainingRun:
    entry: RunEntry
    log: pd.DataFrame  # one row per logged step, numeric columns
    rollouts: pd.DataFrame  # one row per rollout; prompt_text and completion_text are plain text
    reward_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def messages_text(value: Any) -> str:
    """Chat messages (TRL's conversational format) or plain text, as plain text."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list | tuple | np.ndarray):
        parts = []
        for m in value:
            if isinstance(m, dict):
                parts.append(f"[{clean(str(m.get('role', '?')))}]\n{clean(str(m.get('content', '')))}")
            else:
                parts.append(clean(str(m)))
        return "\n\n".join(parts)
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else clean(str(value))


def read_log(root: Path, path: Path) -> tuple[pd.DataFrame, int]:
    """(numeric columns of log.jsonl, one row per line with a step; lines skipped as unreadable)."""
    if not path.exists():
        return pd.DataFrame({"step": []}), 0
    rows, skipped = [], []
    for _, rec in iter_jsonl_lenient(root, path, skipped):
        if not isinstance(rec.get("step"), int):
            skipped.append(0)
            continue
        nums = {
            clean(str(k)): float(v)
            for k, v in rec.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        }
        rows.append(nums)
    frame = pd.DataFrame(rows) if rows else pd.DataFrame({"step": []})
    bad = len(skipped)
    # The trainer logs each step once, and a last summary line with the same step: keep the first per step.
    return frame.drop_duplicates("step", keep="first").sort_values("step").reset_index(drop=True), bad


def load_training(entry: RunEntry, root: Path) -> TrainingRun:
    log, bad = read_log(root, entry.path / TRAIN_LOG)
    notes = [f"{bad} unreadable lines in log.jsonl skipped"] if bad else []
    frames = []
    for path in completion_files(root, entry.path):
        if not inside(root, path):
            continue
        try:
            frames.append(pd.read_parquet(path))
        except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
            notes.append(f"{path.name}: unreadable ({str(exc).splitlines()[0][:200]})")
    if not frames:
        if log.empty:
            raise DashboardError(f"{entry.path}: neither log.jsonl nor completion logs could be read")
        empty = pd.DataFrame(columns=[*ROLLOUT_KEYS, "prompt_text", "completion_text", "preview"])
        return TrainingRun(entry, log, empty, [], notes)
    raw = pd.concat(frames, ignore_index=True)
    rewards = sorted(c for c in raw.columns if str(c).endswith("_reward"))
    out = pd.DataFrame(index=raw.index)
    for key in ROLLOUT_KEYS:
        out[key] = raw[key] if key in raw.columns else None
    for col in ("pair_id", "order", "verdict", "failure"):  # TRL logs a missing value as None or "None"
        out[col] = ["" if v is None or v != v or str(v) == "None" else clean(str(v)) for v in out[col]]
    for col in [*rewards, "advantage"]:
        out[col] = pd.to_numeric(raw[col], errors="coerce") if col in raw.columns else np.nan
    out["step"] = pd.to_numeric(out["step"], errors="coerce").fillna(-1).astype(int)
    out["rollout"] = pd.to_numeric(out["rollout"], errors="coerce")
    out["prompt_text"] = [messages_text(p) for p in raw.get("prompt", [""] * len(raw))]
    out["completion_text"] = [messages_text(c) for c in raw.get("completion", [""] * len(raw))]
    out["preview"] = [" ".join(t.split())[:80] for t in out["completion_text"]]
    out = out.sort_values(["step", "pair_id", "order", "rollout"], kind="stable").reset_index(drop=True)
    return TrainingRun(entry, log, out, rewards, notes)


def step_means(run: TrainingRun) -> pd.DataFrame:
    """Mean of each reward and of the advantage per step, from the rollouts (for the chart)."""
    cols = [*run.reward_columns]
    if run.rollouts.empty or not cols:
        return pd.DataFrame()
    return run.rollouts.groupby("step")[cols].mean()
