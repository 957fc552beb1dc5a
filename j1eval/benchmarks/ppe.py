"""PPE, Preference Proxy Evaluations (Frick et al., 2024): human preference + correctness.

Six hub datasets, each a part of the benchmark:

- ``lmarena-ai/PPE-Human-Preference-V1`` (split ``test``): Chatbot Arena battles. A
  ``winner`` of ``model_a`` gives label 1, ``model_b`` label 2; any other value (ties)
  is dropped and counted in ``notes["ties_dropped"]``. Pair id: ``question_id``.
- ``lmarena-ai/PPE-{MMLU-Pro,MATH,GPQA,MBPP-Plus,IFEval}-Best-of-K`` (split ``train``,
  the only split their dataset cards list): one row per prompt and model with
  ``response_1`` .. ``response_32``, ``scores`` (is response k correct) and
  ``sampled_conflict_pairs``. Each conflict pair ``[k1, k2]`` gives one pair: response 1
  is ``response_{k1+1}``, response 2 ``response_{k2+1}``, label 1 if ``scores[k1]``
  is true else 2. The indices are **0-based** (they index ``scores``; third-party
  loaders of these sets read ``response_{k+1}`` likewise). Pair id:
  ``"{set}:{question_id}:{k1}:{k2}"`` with set mmlu-pro, math, gpqa, mbpp-plus or ifeval
  and k as in the file; where a question_id occurs in more than one row of a set (one
  row per model), the id is qualified by the model: ``"{set}:{question_id}@{model_name}:{k1}:{k2}"``.
  A repeated conflict pair in a row (either order) is dropped and counted.

Local data: ``DATA_DIR/ppe/<hub dataset name>/`` holding that dataset's files as on the
hub, any ``*.parquet`` or ``*.jsonl`` below it (e.g.
``ppe/PPE-Human-Preference-V1/data/test-00000-of-00001.parquet``,
``ppe/PPE-MATH-Best-of-K/data/train-00000-of-00001.parquet``). When ``ppe/`` holds any
part, only local files are used and absent parts are listed in ``missing``; otherwise
each part is tried on the hub.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.benchmarks import benchmark
from j1eval.benchmarks._sources import (
    HubError,
    Located,
    UniqueIds,
    field,
    find_files,
    hashes,
    hub_source,
    id_text,
    load_hub,
    read_records,
)
from j1eval.benchmarks.base import Benchmark, BenchmarkData
from j1eval.errors import InputError
from j1eval.score.figures import Figure
from j1eval.types import Pair

ORG = "lmarena-ai"
#: Not pinned to a commit: the hub datasets' commit hashes could not be checked offline.
HF_REVISION = "main"
PREFERENCE = "preference"
#: Part name -> (hub dataset name, split).
PARTS: dict[str, tuple[str, str]] = {
    PREFERENCE: ("PPE-Human-Preference-V1", "test"),
    "mmlu-pro": ("PPE-MMLU-Pro-Best-of-K", "train"),
    "math": ("PPE-MATH-Best-of-K", "train"),
    "gpqa": ("PPE-GPQA-Best-of-K", "train"),
    "mbpp-plus": ("PPE-MBPP-Plus-Best-of-K", "train"),
    "ifeval": ("PPE-IFEval-Best-of-K", "train"),
}
CORRECTNESS_SETS = tuple(p for p in PARTS if p != PREFERENCE)
#: official = j1: preference and correctness weigh 1/2 each, the five sets equally.
WEIGHTS = {PREFERENCE: 0.5, **{s: 0.5 / len(CORRECTNESS_SETS) for s in CORRECTNESS_SETS}}
WINNER_LABELS = {"model_a": 1, "model_b": 2}
WHAT = (
    "the hub datasets lmarena-ai/PPE-Human-Preference-V1 and lmarena-ai/PPE-{MMLU-Pro,MATH,GPQA,MBPP-Plus,IFEval}"
    "-Best-of-K as on the hub, one folder per dataset (e.g. PPE-MATH-Best-of-K/data/train-*.parquet; jsonl also read)"
)


def hub_id(part: str) -> str:
    return f"{ORG}/{PARTS[part][0]}"


@benchmark("ppe")
class PPE(Benchmark):
    title = "PPE"
    folder = "ppe"
    j1_protocol = "single"
    #: PPE already randomises which response comes first: its single order is the file's (order "ab"),
    #: as in J1, whose v1 PPE-Correctness (Table 2) equals its (a,b) accuracy (Table 5).
    single_order = "dataset"

    what = WHAT

    def load_local(self, folder: Path) -> BenchmarkData | None:
        found = {
            part: find_files(folder / name, ["*.parquet", "*.jsonl"], recursive=True)
            for part, (name, _) in PARTS.items()
        }
        if not any(found.values()):
            return None
        rows: dict[str, list[tuple[object, Located]]] = {}
        files: dict[str, str] = {}
        for part, part_files in found.items():
            if part_files:
                rows[part] = [(f, located) for f in part_files for located in read_records(f)]
                files.update(hashes(part_files))
        return self._data(rows, str(folder), files)

    def load_hub(self, data_dir: str | Path | None) -> BenchmarkData:
        """Six hub datasets: the parts that load, with the rest listed as missing."""
        rows: dict[str, list[tuple[object, Located]]] = {}
        reasons: dict[str, str] = {}
        for part, (_, split) in PARTS.items():
            try:
                where = hub_source(hub_id(part), HF_REVISION)
                rows[part] = [(where, located) for located in load_hub(hub_id(part), split, HF_REVISION)]
            except HubError as exc:
                reasons[hub_id(part)] = str(exc)
        if not rows:
            distinct = set(reasons.values())
            reason = distinct.pop() if len(distinct) == 1 else "; ".join(f"{k}: {v}" for k, v in reasons.items())
            raise self.not_found(data_dir, f"hub datasets unreachable: {reason}")
        return self._data(rows, ", ".join(hub_source(hub_id(p), HF_REVISION) for p in rows), {})

    def _data(self, rows: dict[str, list[tuple[object, Located]]], source: str, files: dict[str, str]) -> BenchmarkData:
        notes: dict[str, Any] = {}
        ids = UniqueIds()
        pairs: list[Pair] = []
        if PREFERENCE in rows:
            pairs += self._preference(rows[PREFERENCE], ids, notes)
        for part in CORRECTNESS_SETS:
            if part in rows:
                pairs += self._correctness(part, rows[part], ids, notes)
        missing = [p for p in PARTS if p not in rows]
        return BenchmarkData(pairs, source=source, files=files, notes=notes, missing=missing)

    def _preference(self, rows: list[tuple[object, Located]], ids: UniqueIds, notes: dict[str, Any]) -> list[Pair]:
        pairs: list[Pair] = []
        ties: Counter[str] = Counter()
        for where, (loc, rec) in rows:
            winner = field(rec, "winner", where, loc)
            label = WINNER_LABELS.get(winner)
            if label is None:
                ties[winner] += 1
                continue
            pair_id = id_text(rec, "question_id", where, loc)
            ids.add(pair_id, where, loc, name="question_id")
            pairs.append(
                Pair(
                    pair_id=pair_id,
                    bench=self.name,
                    subset=PREFERENCE,
                    prompt=field(rec, "prompt", where, loc),
                    response_1=field(rec, "response_1", where, loc),
                    response_2=field(rec, "response_2", where, loc),
                    label=label,
                    meta={k: rec.get(k) for k in ("model_a", "model_b", "winner", "language")},
                )
            )
        notes["ties_dropped"] = sum(ties.values())
        notes["tie_values"] = dict(sorted(ties.items()))
        return pairs

    def _correctness(
        self, part: str, rows: list[tuple[object, Located]], ids: UniqueIds, notes: dict[str, Any]
    ) -> list[Pair]:
        qids = Counter(id_text(rec, "question_id", where, loc) for where, (loc, rec) in rows)
        pairs: list[Pair] = []
        dropped = qualified = 0
        for where, (loc, rec) in rows:
            qid = id_text(rec, "question_id", where, loc)
            model = field(rec, "model_name", where, loc)
            if qids[qid] > 1:
                qid_key, qualified = f"{qid}@{model}", qualified + 1
            else:
                qid_key = qid
            prompt = field(rec, "prompt", where, loc)
            scores = field(rec, "scores", where, loc, list)
            if not all(isinstance(s, bool) or s in (0, 1) for s in scores):
                raise InputError("expected a list of booleans", path=where, record=loc, field="scores")
            conflict = field(rec, "sampled_conflict_pairs", where, loc, list)
            seen: set[frozenset[int]] = set()
            for n, kk in enumerate(conflict):
                k1, k2 = _index_pair(kk, len(scores), where, loc, n)
                if frozenset((k1, k2)) in seen:
                    dropped += 1
                    continue
                seen.add(frozenset((k1, k2)))
                if bool(scores[k1]) == bool(scores[k2]):
                    raise InputError(
                        f"pair {n} {[k1, k2]} is not a conflict: scores[{k1}] == scores[{k2}]",
                        path=where,
                        record=loc,
                        field="sampled_conflict_pairs",
                    )
                pair_id = f"{part}:{qid_key}:{k1}:{k2}"
                ids.add(pair_id, where, loc, name="sampled_conflict_pairs")
                pairs.append(
                    Pair(
                        pair_id=pair_id,
                        bench=self.name,
                        subset=part,
                        prompt=prompt,
                        response_1=field(rec, f"response_{k1 + 1}", where, loc),
                        response_2=field(rec, f"response_{k2 + 1}", where, loc),
                        label=1 if scores[k1] else 2,
                        meta={"question_id": qid, "model_name": model, "k1": k1, "k2": k2},
                    )
                )
        notes["duplicate_conflict_pairs_dropped"] = notes.get("duplicate_conflict_pairs_dropped", 0) + dropped
        notes["model_qualified_rows"] = notes.get("model_qualified_rows", 0) + qualified
        return pairs

    def pair_columns(self, pair: Pair) -> dict[str, Any]:
        return {"group": PREFERENCE if pair.subset == PREFERENCE else "correctness"}

    def figures(self, table: pd.DataFrame) -> dict[str, Figure]:
        """preference, correctness (mean over the five sets), official = j1 (their mean); in the file's order."""
        subset, single = table["subset"], table["correct_single"]
        is_pref = subset == PREFERENCE
        sets = {s: 1.0 for s in CORRECTNESS_SETS}
        return {
            "official": Figure(single, subset, WEIGHTS, frozenset(WEIGHTS)),
            "j1": Figure(single, subset, WEIGHTS, frozenset(WEIGHTS)),
            "preference": Figure(single.where(is_pref)),
            "correctness": Figure(single.where(~is_pref), subset, sets, frozenset(sets)),
        }


def _index_pair(value: Any, n_scores: int, where: object, loc: str, n: int) -> tuple[int, int]:
    """A conflict pair ``[k1, k2]`` of 0-based indices into ``scores``."""
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k < n_scores for k in value)
        and value[0] != value[1]
    )
    if not ok:
        raise InputError(
            f"pair {n} {value!r}: expected two distinct 0-based indices below {n_scores}",
            path=where,
            record=loc,
            field="sampled_conflict_pairs",
        )
    return int(value[0]), int(value[1])
