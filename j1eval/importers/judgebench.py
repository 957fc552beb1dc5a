"""JudgeBench's released judgments: the JSONL files of its ``outputs/`` folder.

Layout (github.com/ScalerLab/JudgeBench, ``run_judge.py`` and ``utils/metrics.py`` at commit
e2c52c2): one JSON object a line, the pair as its ``data/`` file gives it (``pair_id``,
``source``, ``question``, ``response_A``, ``response_B``, ``label`` "A>B" or "B>A", ...) plus
``judge_name`` and ``judgments``: a list of one or two judgments, the first of the pair as given
(response_A in slot A: order ``ab``), the second with the responses swapped (order ``ba``;
absent for a ``--single_game`` run). A judgment is an object whose ``decision`` names slots as
shown ("A>B", "B>A", "A=B" for a tie, or null when none was parsed), or null when the judge
raised an error.

Mapping: "A>B" -> verdict A, "B>A" -> B, "A=B" -> tie, a null decision -> no verdict, a null
judgment -> ``backend_error``. Another decision string (the arena-hard pattern ``[AB<>=]+`` can
give e.g. "A<B") is read as no verdict, as JudgeBench's scorer gives it no point, and counted
in a note. Reward-model judgments keep their two scores (``judgment.scores``) as the
judgment's ``scores``. A record the layout does not allow (no ``pair_id``, ``judgments`` not a
list of one or two, a decision of another type, a ``label`` that disagrees with the
benchmark's) is a :class:`~j1eval.importers.Problem`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from j1eval.importers import Importer, Mapped, Problem, importer
from j1eval.safe_io import iter_jsonl
from j1eval.types import ORDERS, Pair

DECISIONS = {"A>B": "A", "B>A": "B", "A=B": "tie"}
LABELS = {"A>B": 1, "B>A": 2}


@importer("judgebench")
class JudgeBenchImporter(Importer):
    bench = "judgebench"
    source = "github.com/ScalerLab/JudgeBench run_judge.py (outputs/*.jsonl)"

    def read(self, path: Path, pairs: Mapping[str, Pair], seed: int) -> Mapped:
        out = Mapped()
        odd: Counter[str] = Counter()
        judges: Counter[str] = Counter()
        single = 0
        for lineno, rec in iter_jsonl(path):
            out.n_records += 1
            where = f"line {lineno}"
            rows, problem = _map_record(rec, where, pairs, odd)
            if problem is not None:
                out.problems.append(problem)
                continue
            single += len(rows) == 1
            judges[str(rec.get("judge_name"))] += 1
            out.rows += [(where, row) for row in rows]
        if judges:
            out.notes.append(f"JudgeBench judge: {', '.join(sorted(judges))}")
        if single:
            out.notes.append(
                f"{single} records hold one judgment (a --single_game run): order ab only, two-order figures are null"
            )
        if odd:
            shown = ", ".join(repr(d) for d, _ in odd.most_common(3))
            out.notes.append(
                f"{sum(odd.values())} decisions outside A>B, B>A, A=B ({shown}) read as no verdict, "
                "as JudgeBench's scorer gives them no point"
            )
        return out


def _map_record(
    rec: Mapping[str, Any], where: str, pairs: Mapping[str, Pair], odd: Counter[str]
) -> tuple[list[dict[str, Any]], Problem | None]:
    """The j1eval judgment records of one JudgeBench record, or the problem that stops it."""
    pair_id = rec.get("pair_id")
    if not isinstance(pair_id, str) or not pair_id:
        return [], Problem(where, "pair_id", f"expected the pair's id (text), got {pair_id!r}")
    judgments = rec.get("judgments")
    if not isinstance(judgments, list) or len(judgments) not in (1, 2):
        return [], Problem(where, "judgments", f"expected a list of 1 or 2 judgments, got {_kind(judgments)}")
    pair = pairs.get(pair_id)
    label = rec.get("label")
    if pair is not None and label is not None and LABELS.get(label) != pair.label:
        better = "response_A" if pair.label == 1 else "response_B"
        return [], Problem(where, "label", f"{label!r} disagrees with the benchmark's data ({better} is better)")
    rows = []
    for k, (order, judgment) in enumerate(zip(ORDERS, judgments, strict=False)):
        row: dict[str, Any] = {"pair_id": pair_id, "order": order, "verdict": None}
        if judgment is None:  # run_judge.py stores None when the judge raised
            row["failure"] = "backend_error"
        elif not isinstance(judgment, dict) or "decision" not in judgment:
            return [], Problem(where, f"judgments[{k}]", f"expected an object with 'decision', got {_kind(judgment)}")
        else:
            decision = judgment["decision"]
            if decision is not None and not isinstance(decision, str):
                return [], Problem(where, f"judgments[{k}].decision", f"expected text or null, got {decision!r}")
            row["verdict"] = DECISIONS.get(decision) if decision is not None else None
            if decision is not None and row["verdict"] is None:
                odd[decision] += 1
            scores = _scores(judgment.get("judgment"))
            if scores is not None:
                row["scores"] = scores
        rows.append(row)
    return rows, None


def _scores(detail: Any) -> dict[str, float] | None:
    """A reward model's two scores (slot A's, slot B's) from ``judgment.scores``, when given."""
    values = detail.get("scores") if isinstance(detail, dict) else None
    if not isinstance(values, list) or len(values) != 2:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        return None
    return {"A": float(values[0]), "B": float(values[1])}


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "null" if value is None else type(value).__name__
