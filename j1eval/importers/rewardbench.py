"""reward-bench's per-prompt results: the ``eval-set-scores/{org}/{model}.json`` files.

Layout (github.com/allenai/reward-bench at commit 05a9005: ``scripts/run_rm.py``,
``scripts/run_dpo.py`` and ``scripts/run_generative.py`` save ``out_dataset.to_dict()`` through
``rewardbench.utils.save_to_hub``): one JSON object of columns, index i of each column being
prompt i: ``id``, ``subset``, ``results`` (1 when the chosen response won, 0 when it lost,
0.5 for a generative judge's tie or unparsed answer), and, for reward models and DPO models,
``scores_chosen`` and ``scores_rejected``; plus ``model`` and ``model_type``.

Mapping (pair id ``{subset}:{id}``; the chosen response is j1eval's response_1):

- with both scores: the model scored each response alone, so both orders follow from the
  two numbers exactly: order ``ab`` (chosen in slot A) and ``ba``, the scores kept, the
  verdict the higher score (equal = tie). ``results`` must agree (1 exactly when chosen >
  rejected, as run_rm.py computes it).
- without scores (generative judges, custom classifiers): the file does not record which
  order the judge saw (run_generative.py draws it unseeded per prompt), so each outcome is
  placed in j1eval's seeded single order for its pair: 1 -> the chosen response's slot, 0 ->
  the other, 0.5 -> no verdict (the official RewardBench figure counts it 0.5, as reward-bench
  does; J1's counts it wrong). The single-order figures (``official``, ``j1``, ``acc_single``)
  are then the judge's; the slot figures describe the placement, not the judge, and a note says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from j1eval.formats._parsing import compare
from j1eval.importers import Importer, Mapped, Problem, importer
from j1eval.orders import single_order
from j1eval.safe_io import read_json_object
from j1eval.types import ORDERS, Pair, correct_slot

COLUMNS = ("id", "subset", "results")
OUTCOMES = {1: "won", 0: "lost", 0.5: "tie or error"}


@importer("rewardbench")
class RewardBenchImporter(Importer):
    bench = "rewardbench"
    source = "github.com/allenai/reward-bench scripts/run_rm.py, run_generative.py (eval-set-scores/*.json)"

    def read(self, path: Path, pairs: Mapping[str, Pair], seed: int) -> Mapped:
        data = read_json_object(path, "reward-bench results")
        out = Mapped()
        for name in COLUMNS:
            if not isinstance(data.get(name), list):
                out.problems.append(
                    Problem("index 0", name, f"expected a column (a list), got {_kind(data.get(name))}")
                )
        if out.problems:
            return out
        n = len(data["id"])
        out.n_records = n
        lengths = {name: len(data[name]) for name in COLUMNS}
        has_scores = all(
            isinstance(data.get(c), list) and any(v is not None for v in data[c])
            for c in ("scores_chosen", "scores_rejected")
        )
        for c in ("scores_chosen", "scores_rejected") if has_scores else ():
            lengths[c] = len(data[c])
        for name, size in lengths.items():
            if size != n:
                out.problems.append(Problem(f"index {min(size, n)}", name, f"{size} values, but {n} ids"))
        if out.problems:
            return out
        for i in range(n):
            where = f"index {i}"
            rows, problem = _map_prompt(data, i, where, has_scores, seed)
            if problem is not None:
                out.problems.append(problem)
            out.rows += [(where, row) for row in rows]
        model = data.get("model")
        out.notes.append(
            f"reward-bench model: {model}" + (f" ({data['model_type']})" if data.get("model_type") else "")
        )
        if has_scores:
            out.notes.append("scores of each response alone: both orders from the same two scores (order-blind)")
        else:
            out.notes.append(
                "reward-bench did not record which order the judge saw (drawn unseeded per prompt): each outcome "
                "is placed in j1eval's seeded single order, so official, j1 and acc_single are the judge's figures; "
                "acc_ab, acc_ba and slot_a_rate describe that placement, not the judge"
            )
        return out


def _map_prompt(
    data: Mapping[str, Any], i: int, where: str, has_scores: bool, seed: int
) -> tuple[list[dict[str, Any]], Problem | None]:
    """The j1eval judgment records of prompt ``i``, or the problem that stops it."""
    rid, subset, result = data["id"][i], data["subset"][i], data["results"][i]
    if not isinstance(rid, str | int) or isinstance(rid, bool):
        return [], Problem(where, "id", f"expected an id (text or integer), got {rid!r}")
    if not isinstance(subset, str) or not subset:
        return [], Problem(where, "subset", f"expected a subset name, got {subset!r}")
    if isinstance(result, bool) or not isinstance(result, int | float) or result not in OUTCOMES:
        return [], Problem(where, "results", f"expected 1, 0 or 0.5, got {result!r}")
    pair_id = f"{subset}:{rid}"
    if has_scores:
        chosen = _number(data["scores_chosen"][i])
        rejected = _number(data["scores_rejected"][i])
        for name, value in (("scores_chosen", chosen), ("scores_rejected", rejected)):
            if value is None:
                return [], Problem(where, name, f"expected a finite score, got {data[name][i]!r}")
        if (result == 1) != (chosen > rejected) or result == 0.5:  # type: ignore[operator]
            return [], Problem(where, "results", f"{result!r} disagrees with the scores ({chosen} vs {rejected})")
        rows = []
        for order in ORDERS:
            a, b = (chosen, rejected) if order == "ab" else (rejected, chosen)
            rows.append({"pair_id": pair_id, "order": order, "verdict": compare(a, b), "scores": {"A": a, "B": b}})
        return rows, None
    order = single_order(pair_id, seed)
    right = correct_slot(1, order)
    verdict = right if result == 1 else ("B" if right == "A" else "A") if result == 0 else None
    return [{"pair_id": pair_id, "order": order, "verdict": verdict}], None


def _number(value: Any) -> float | None:
    """A score: a finite number, or a list holding one (reward-bench may wrap scores in lists)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
