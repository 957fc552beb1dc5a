"""Training: a j1train output's rewards per step, and the rollouts of one step with their
rewards, a pair's two answer orders side by side (J1 trains both orders in one batch).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.training import TrainingRun, step_means
from dashboard.views.common import ORDER_TEXT, show_text

LOG_CURVES = ("reward", "j1/verdict_accuracy", "j1/consistent_correct", "j1/parse_failure_rate")


def _curves(run: TrainingRun) -> None:
    log = run.log
    curves = [c for c in log.columns if c.startswith("rewards/") and c.endswith("/mean")]
    curves += [c for c in LOG_CURVES if c in log.columns]
    if curves and "step" in log.columns and len(log):
        st.markdown("**Rewards per step** (log.jsonl)")
        st.line_chart(log.set_index("step")[curves])
    else:
        means = step_means(run)
        if not means.empty:
            st.markdown("**Mean reward per step** (from the completion logs)")
            st.line_chart(means)


def render(run: TrainingRun) -> None:
    st.markdown("### Training")
    st.code(run.entry.rel, language=None)
    for note in run.notes:
        st.text(f"⚠ {note}")
    _curves(run)
    rollouts = run.rollouts
    if rollouts.empty:
        st.info("No completion logs (completions/*.parquet) in this run: TRL writes them with log_completions.")
        return
    steps = sorted(rollouts["step"].unique().tolist())
    step = st.select_slider("Step", steps, value=steps[-1], key="t_step") if len(steps) > 1 else steps[0]
    at = rollouts[rollouts["step"] == step]
    rewards = run.reward_columns
    st.markdown(f"**{len(at):,} rollouts at step {step}**, mean reward per function:")
    st.dataframe(at[rewards].mean().to_frame("mean").T, hide_index=True)
    grid = at[["pair_id", "order", "rollout", "verdict", "failure", *rewards, "advantage", "preview"]]
    st.dataframe(grid, hide_index=True, height=min(38 + 35 * len(grid), 420))
    pair_ids = list(dict.fromkeys(at["pair_id"].tolist()))
    pair_id = st.selectbox("Pair", pair_ids, key="t_pair")
    if pair_id is None:
        return
    group = at[at["pair_id"] == pair_id]
    cols = st.columns(2)
    for col, order in zip(cols, ("ab", "ba"), strict=True):
        with col:
            st.markdown(f"**{ORDER_TEXT[order]}**")
            part = group[group["order"] == order]
            if part.empty:
                st.markdown("no rollout in this order at this step")
                continue
            with st.expander("prompt"):
                show_text(str(part["prompt_text"].iloc[0]))
            for rec in part.to_dict("records"):
                scores = [
                    f"{name.removesuffix('_reward')} {rec[name]:.2f}" for name in rewards if not pd.isna(rec[name])
                ]
                if not pd.isna(rec["advantage"]):
                    scores.append(f"advantage {rec['advantage']:+.3f}")
                number = int(rec["rollout"]) if not pd.isna(rec["rollout"]) else "?"
                st.text(f"rollout {number}: " + " · ".join(scores))
                st.text(f"verdict: {rec['verdict'] or 'none'} · failure: {rec['failure'] or 'none'}")
                show_text(rec["completion_text"])
