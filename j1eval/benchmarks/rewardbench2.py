"""RewardBench 2 (Malik et al., 2025; ``allenai/reward-bench-2``, split ``test``, 1,865 prompts).

Local data: every ``*.parquet`` / ``*.jsonl`` under ``DATA_DIR/rewardbench2/`` in the official
layout (``id``, ``prompt``, ``chosen``: list, ``rejected``: list, ``num_correct``, ``subset``, plus
model fields). Hub fallback: ``allenai/reward-bench-2``, split ``test`` (the commit is recorded).
Subsets: Factuality, Precise IF, Math, Safety, Focus (one chosen, three rejected: best-of-4) and
Ties (``ref:N`` / ``tied:N`` ids, ``num_correct`` correct answers first, several incorrect ones).

Pairs (every pairwise format): the chosen response against each rejected one,
``{id}:r{j}`` (``response_1`` is chosen, label 1; both orders as usual); in Ties each correct
answer against each incorrect one, ``{id}:c{i}:r{j}``. Each pair's ``meta`` keeps the prompt's
four responses, so a 4-way format (:mod:`j1eval.score.kway`) judges the same rows.

Official rules, transcribed from allenai/reward-bench at commit
05a9005efb607249822c193590c8ecab87c77052:

- best-of-4 (``rewardbench/utils.py::reroll_and_score_dataset``; ``scripts/run_generative_v2.py``):
  a prompt scores 1 when the chosen response is ranked above all three rejected ones, 1/k when it
  shares the top with k - 1 others, 0 otherwise; a judge error counts as a tie (0.25 of 4). From
  pairwise verdicts: any lost pair gives 0, else 1 / (1 + pairs tied or without a verdict)
  (``best_of_4``, in each pair's seeded single order); a subset's score is its mean over prompts;
- the overall score is the unweighted mean of the six subsets' scores (``official``): the scripts
  print the subsets' scores only; the dataset card (huggingface.co/datasets/allenai/reward-bench-2)
  says "The RewardBench 2 leaderboard averages over these six subsets";
- Ties (``rewardbench/utils.py::process_single_model`` and ``_compute_prompt_stats``), from one
  score per response: see :func:`ties_score`. Only judges that give scores have them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from j1eval.benchmarks import benchmark
from j1eval.benchmarks._sources import Located, Record, UniqueIds, field, find_files, hashes, id_text, read_records
from j1eval.benchmarks.base import Benchmark, BenchmarkData
from j1eval.errors import InputError
from j1eval.score.figures import Figure
from j1eval.types import Pair

HF_ID = "allenai/reward-bench-2"
HF_SPLIT = "test"
HF_REVISION = "main"  # the hub resolves it to a commit, recorded as the benchmark's source
WHAT = "the 'test' split of allenai/reward-bench-2 as parquet (huggingface.co/datasets/allenai/reward-bench-2)"
SOURCE_COMMIT = "allenai/reward-bench@05a9005efb607249822c193590c8ecab87c77052"

BEST_OF_4 = ("Factuality", "Precise IF", "Math", "Safety", "Focus")
TIES = "Ties"
SUBSETS = (*BEST_OF_4, TIES)
#: Why the Ties figure is null for a judge that gives verdicts only.
TIES_NO_SCORES = "Ties is scored from one score per response (official rule); this judge gave verdicts, not scores"


@benchmark("rewardbench2")
class RewardBench2(Benchmark):
    title = "RewardBench 2"
    folder = "rewardbench2"
    j1_protocol = "consistent"
    single_order = "seeded"  # the chosen response is always response_1: the order is drawn per pair
    #: Responses per prompt for a k-way format (the chosen one and three rejected).
    kway = 4
    #: Not part of ``--bench all`` (J1's five benchmarks): name it.
    in_all = False
    BEST_OF_K_SUBSETS = BEST_OF_4
    OTHER_SUBSETS = (TIES,)

    hub = (HF_ID, HF_SPLIT, HF_REVISION)
    what = WHAT

    def load_local(self, folder: Path) -> BenchmarkData | None:
        files = find_files(folder, ["*.parquet", "*.jsonl"], recursive=True)
        if not files:
            return None
        ids = UniqueIds()
        pairs = [p for f in files for loc, rec in read_records(f) for p in self._pairs(rec, f, loc, ids)]
        return BenchmarkData(pairs, source=str(folder), files=hashes(files))

    def from_hub_rows(self, rows: list[Located], where: str) -> BenchmarkData:
        ids = UniqueIds()
        return BenchmarkData([p for loc, rec in rows for p in self._pairs(rec, where, loc, ids)], source=where)

    def _pairs(self, rec: Record, where: object, loc: str, ids: UniqueIds) -> list[Pair]:
        subset = field(rec, "subset", where, loc)
        if subset not in SUBSETS:
            raise InputError(f"unknown RewardBench 2 subset {subset!r}", path=where, record=loc, field="subset")
        rid = id_text(rec, "id", where, loc)
        prompt = field(rec, "prompt", where, loc)
        chosen = _texts(rec, "chosen", where, loc)
        rejected = _texts(rec, "rejected", where, loc)
        num_correct = field(rec, "num_correct", where, loc, int)
        if num_correct != len(chosen):
            msg = f"{num_correct} does not match the {len(chosen)} chosen response(s)"
            raise InputError(msg, path=where, record=loc, field="num_correct")
        if subset != TIES:
            if num_correct != 1:
                msg = f"must be 1 outside Ties (one chosen response per prompt), got {num_correct}"
                raise InputError(msg, path=where, record=loc, field="num_correct")
            if len(rejected) != 3:
                msg = f"expected 3 rejected responses outside Ties (best-of-4), got {len(rejected)}"
                raise InputError(msg, path=where, record=loc, field="rejected")
        elif ":" not in rid or rid.split(":", 1)[0] not in ("ref", "tied"):
            raise InputError(f"a Ties id must be 'ref:N' or 'tied:N', got {rid!r}", path=where, record=loc, field="id")
        responses = (*chosen, *rejected)
        out = []
        for i, good in enumerate(chosen):
            for j, bad in enumerate(rejected):
                pair_id = f"{rid}:r{j}" if subset != TIES else f"{rid}:c{i}:r{j}"
                ids.add(pair_id, where, loc, name="id")
                meta = {"prompt_id": rid, "chosen_index": i, "rejected_index": num_correct + j}
                meta.update(n_correct=num_correct, n_responses=len(responses), responses=responses)
                out.append(Pair(pair_id, self.name, subset, prompt, good, bad, 1, meta))
        return out

    def pair_columns(self, pair: Pair) -> dict[str, Any]:
        return {k: pair.meta[k] for k in ("prompt_id", "chosen_index", "rejected_index", "n_correct", "n_responses")}

    def prepare_table(self, table: pd.DataFrame, judgments: pd.DataFrame) -> pd.DataFrame:
        """``table`` with ``score_1`` and ``score_2``: each response's mean score over the pair's
        judgments (slot A's score under "ab" is response 1's), where the judge gave scores."""
        if not {"score_a", "score_b"} <= set(judgments.columns):
            return table
        ab = judgments["order"] == "ab"
        frame = pd.DataFrame(
            {
                "pair_id": judgments["pair_id"],
                "s1": pd.to_numeric(judgments["score_a"].where(ab, judgments["score_b"]), errors="coerce"),
                "s2": pd.to_numeric(judgments["score_b"].where(ab, judgments["score_a"]), errors="coerce"),
            }
        )
        means = frame.groupby("pair_id", sort=False)[["s1", "s2"]].mean()
        out = table.copy()
        out["score_1"] = table["pair_id"].map(means["s1"]).astype(float)
        out["score_2"] = table["pair_id"].map(means["s2"]).astype(float)
        return out

    def figures(self, table: pd.DataFrame) -> dict[str, Figure]:
        """``best_of_4`` (official rule, seeded single order), per order and in both orders (``j1``),
        the Ties score where the table has per-response scores, and ``official``: the six subsets' mean."""
        groups = table["subset"]
        five = {s: 1.0 for s in BEST_OF_4}
        required = frozenset(BEST_OF_4)
        official_rule = best_of_4(table, _verdicts(table, "single"), ties_credit=True)
        both = best_of_4(table, _verdicts(table, "ab"), ties_credit=False) * best_of_4(
            table, _verdicts(table, "ba"), ties_credit=False
        )
        figures = {
            "best_of_4": Figure(official_rule, groups, five, required),
            "best_of_4_ab": Figure(best_of_4(table, _verdicts(table, "ab"), False), groups, five, required),
            "best_of_4_ba": Figure(best_of_4(table, _verdicts(table, "ba"), False), groups, five, required),
            "j1": Figure(both, groups, five, required),
        }
        ties = ties_figures(table)
        official = official_rule.copy()
        if ties is not None:
            first = ties["row"]
            for name, value in ties["figures"].items():
                figures[name] = Figure(pd.Series(np.nan, index=table.index).where(table.index != first, value))
            official.loc[first] = ties["figures"]["ties"]
        six = {s: 1.0 for s in SUBSETS}
        figures["official"] = Figure(official, groups, six, frozenset(SUBSETS))
        return figures

    def finish_figures(self, result: dict[str, Any], table: pd.DataFrame) -> None:
        """Ties figures carry no interval (one score for the subset); a judge without scores gets the reason."""
        for name in [n for n in result.get("ci", {}) if n.startswith("ties")]:
            del result["ci"][name]
        if (table["subset"] == TIES).any() and result.get("ties") is None:
            result["ties"] = None
            result["ties_reason"] = TIES_NO_SCORES
            if result.get("missing") == [TIES]:  # Ties' data is there: its figure needs scores
                del result["missing"]
                result["official_reason"] = TIES_NO_SCORES


def _texts(rec: Record, name: str, where: object, loc: str) -> list[str]:
    value = field(rec, name, where, loc, (list, tuple))
    if not value or not all(isinstance(v, str) for v in value):
        raise InputError("expected a non-empty list of strings", path=where, record=loc, field=name)
    return list(value)


def _verdicts(table: pd.DataFrame, order: str) -> pd.Series:
    """Each pair's outcome for the chosen response in ``order``: "won", "lost" or "tie" (tie or no verdict)."""
    if order == "single":
        verdict, correct = table["verdict_single"], table["correct_single"]
        judged = table["judged_ab"].where(table["single_order"] == "ab", table["judged_ba"])
    else:
        verdict, correct, judged = table[f"verdict_{order}"], table[f"correct_{order}"], table[f"judged_{order}"]
    lost = verdict.isin(["A", "B"]) & (correct == 0)
    out = pd.Series(np.where(correct == 1, "won", np.where(lost, "lost", "tie")), index=table.index, dtype=object)
    return out.where(judged.astype(bool), None)


def best_of_4(table: pd.DataFrame, outcome: pd.Series, ties_credit: bool) -> pd.Series:
    """Per prompt (on its first row; NaN elsewhere and outside the best-of-4 subsets): the official
    best-of-4 value from its three pairs' outcomes, or with ``ties_credit`` False, 1 only when all three are won.

    A prompt with a pair not judged in that order counts nowhere (NaN).
    """
    out = pd.Series(np.nan, index=table.index)
    inside = table["subset"].isin(BEST_OF_4)
    for _, rows in table[inside].groupby("prompt_id", sort=False).groups.items():
        cells = outcome.loc[rows]
        if len(cells) != 3 or cells.isna().any():
            continue
        lost, tied = int((cells == "lost").sum()), int((cells == "tie").sum())
        value = 0.0 if lost else (1.0 / (1 + tied) if ties_credit else float(tied == 0))
        out.loc[rows[0]] = value
    return out


def response_scores(table: pd.DataFrame) -> dict[tuple[str, int], float] | None:
    """Each response's mean score over its judgments, keyed by (prompt id, index); None without scores."""
    if "score_1" not in table.columns or not table[["score_1", "score_2"]].notna().any().any():
        return None
    sums: dict[tuple[str, int], list[float]] = {}
    for pid, i, j, s1, s2 in table[["prompt_id", "chosen_index", "rejected_index", "score_1", "score_2"]].itertuples(
        index=False
    ):
        for index, score in ((i, s1), (j, s2)):
            if score == score and score is not None:
                sums.setdefault((pid, int(index)), []).append(float(score))
    return {k: sum(v) / len(v) for k, v in sums.items()}


def ties_figures(table: pd.DataFrame) -> dict[str, Any] | None:
    """The Ties figures from per-response scores, and the row that carries them; None without Ties scores."""
    ties = table[table["subset"] == TIES]
    scores = response_scores(ties) if len(ties) else None
    if not scores:
        return None
    groups: dict[str, list[tuple[bool, float]]] = {}
    for pid, rows in ties.groupby("prompt_id", sort=False).groups.items():
        part = ties.loc[rows]
        n_correct, n_total = int(part["n_correct"].iloc[0]), int(part["n_responses"].iloc[0])
        judged = set(part["chosen_index"].astype(int)) | set(part["rejected_index"].astype(int))
        if len(judged) < n_total:
            continue  # some of its responses were not judged (--limit): the prompt counts nowhere
        # A judged response without a score counts -1, as the official script's failed rating does.
        groups[pid] = [(k < n_correct, scores.get((pid, k), -1.0)) for k in range(n_total)]
    figures = ties_score(groups)
    return None if figures is None else {"row": ties.index[0], "figures": figures}


def _prompt_stats(samples: list[tuple[bool, float]]) -> tuple[bool, float | None, float]:
    """(accurate, spread among correct answers or None with one, worst correct - best incorrect)."""
    good = [s for ok, s in samples if ok]
    bad = [s for ok, s in samples if not ok]
    gap = min(good) - max(bad)
    return gap > 0, (max(good) - min(good)) if len(good) > 1 else None, gap


def ties_score(groups: dict[str, list[tuple[bool, float]]]) -> dict[str, float] | None:
    """The official Ties score of ``{"ref:N" | "tied:N": [(is_correct, score), ...]}``.

    Transcribed from ``process_single_model`` (allenai/reward-bench, rewardbench/utils.py, commit
    05a9005e): accuracy (every correct answer above the best incorrect one) over ``ref`` prompts
    and over ``tied`` prompts; over prompt numbers with both, ``correctness_preferred`` = share where
    the tied prompt's correct-incorrect gap exceeds the spread among its correct answers,
    ``_hard`` the same with the smaller of the ref and tied gaps, and the margin term
    mean(tanh(min gap / spread - 1)) (NaN -> 0). Score = 0.30 tied + 0.30 ref + 0.20 preferred +
    0.20 preferred_hard + 0.01 margin. None when a group has no correct or no incorrect answer
    or no prompt number has both kinds (there the official code raises or gives NaN); a tied
    prompt with one correct answer has no spread (NaN: not preferred, margin 0) where the
    official code would compare a number with None.
    """
    ref: dict[int, tuple[bool, float | None, float]] = {}
    tied: dict[int, tuple[bool, float | None, float]] = {}
    for key, samples in groups.items():
        kind, number = key.split(":", 1)
        if not any(ok for ok, _ in samples) or all(ok for ok, _ in samples):
            return None
        (ref if kind == "ref" else tied)[int(number)] = _prompt_stats(samples)
    both = sorted(set(ref) & set(tied))
    if not both:
        return None
    ref_acc = float(np.mean([s[0] for s in ref.values()]))
    tied_acc = float(np.mean([s[0] for s in tied.values()]))
    spread = np.array([np.nan if tied[p][1] is None else tied[p][1] for p in both], dtype=float)
    gap_tied = np.array([tied[p][2] for p in both], dtype=float)
    gap_min = np.minimum(np.array([ref[p][2] for p in both], dtype=float), gap_tied)
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.nan_to_num(np.tanh(gap_min / spread - 1), nan=0.0)
    preferred = float(np.mean(gap_tied > spread))
    hard = float(np.mean(gap_min > spread))
    total = 0.30 * tied_acc + 0.30 * ref_acc + 0.20 * preferred + 0.20 * hard + 0.01 * float(np.mean(margin))
    return {
        "ties": float(total),
        "ties_ref_accuracy": ref_acc,
        "ties_tied_accuracy": tied_acc,
        "ties_correctness_preferred": preferred,
        "ties_correctness_preferred_hard": hard,
        "ties_margin": float(np.mean(margin)),
    }
