"""Published reference figures of the J1 paper, quoted as data.

Source: Chenxi Whitehouse et al., "J1: Incentivizing Thinking in LLM-as-a-Judge via
Reinforcement Learning", arXiv:2505.10320 (2025). Numbers are accuracies in percent,
copied from Table 2 (main results) and Table 5 (position bias on PPE Correctness and
JudgeBench). They are never recomputed: a report shows them beside the user's rows,
labelled with the table they come from.
"""

from __future__ import annotations

from dataclasses import dataclass

CITATION = (
    "Whitehouse et al., J1: Incentivizing Thinking in LLM-as-a-Judge via Reinforcement Learning, arXiv:2505.10320"
)
URL = "https://arxiv.org/abs/2505.10320"

#: Table 2 columns, in the paper's order (Overall is their mean).
TABLE2_COLUMNS = ("ppe_preference", "ppe_correctness", "rewardbench", "judgebench", "rmbench", "followbencheval")


@dataclass(frozen=True)
class PaperRow:
    """One quoted row: the model as the paper names it, the table, and its figures (percent)."""

    model: str
    table: str
    values: dict[str, float]
    overall: float | None = None

    @property
    def label(self) -> str:
        return f"{self.model} [paper, {self.table}]"


def _t2(model: str, overall: float, *values: float) -> PaperRow:
    return PaperRow(model, "Table 2", dict(zip(TABLE2_COLUMNS, values, strict=True)), overall)


#: J1 Table 2: Overall | PPE-Preference, PPE-Correctness, RewardBench, JudgeBench, RM-Bench, FollowBenchEval.
TABLE2: tuple[PaperRow, ...] = (
    _t2("Llama-3.1-8B-Instruct", 49.5, 56.4, 54.7, 69.5, 32.3, 54.0, 30.2),
    _t2("DeepSeek-R1-Distilled-Llama-8B", 55.4, 59.4, 58.4, 73.7, 30.5, 69.3, 40.9),
    _t2("EvalPlanner-Llama-8B", 55.9, 55.5, 53.0, 83.0, 30.2, 68.1, 45.3),
    _t2("J1-Llama-8B", 61.5, 60.3, 59.2, 85.7, 42.0, 73.4, 48.3),
    _t2("Llama-3.3-70B-Instruct", 64.5, 65.9, 65.7, 85.4, 48.6, 69.5, 52.2),
    _t2("DeepSeek-R1-Distilled-Llama-70B", 67.5, 66.1, 71.1, 86.9, 46.0, 80.8, 54.6),
    _t2("EvalPlanner-Llama-70B", 72.2, 65.6, 70.2, 93.8, 56.6, 82.1, 65.4),
    _t2("J1-Llama-70B", 74.1, 66.3, 72.9, 93.3, 60.0, 82.7, 69.3),
    _t2("OpenAI-o1-mini", 72.0, 65.7, 71.3, 87.1, 64.2, 80.8, 62.9),
    _t2("DeepSeek-R1-671B", 77.4, 68.0, 76.5, 90.6, 68.9, 88.6, 71.7),
)

#: Table 5 metrics: accuracy in order (a,b), in order (b,a), position-consistent accuracy, inconsistency.
TABLE5_METRICS = ("acc_ab", "acc_ba", "acc_consistent", "inconsistency")
#: Table 5 benchmarks (our benchmark keys; PPE Correctness is the correctness half of PPE).
TABLE5_BENCHES = ("ppe_correctness", "judgebench")


@dataclass(frozen=True)
class PaperBiasRow:
    """One quoted Table 5 row: per benchmark, the four position-bias figures (percent)."""

    model: str
    values: dict[str, dict[str, float]]
    table: str = "Table 5"

    @property
    def label(self) -> str:
        return f"{self.model} [paper, {self.table}]"


def _t5(model: str, ppe: tuple[float, ...], judgebench: tuple[float, ...]) -> PaperBiasRow:
    return PaperBiasRow(
        model,
        {
            "ppe_correctness": dict(zip(TABLE5_METRICS, ppe, strict=True)),
            "judgebench": dict(zip(TABLE5_METRICS, judgebench, strict=True)),
        },
    )


#: J1 Table 5: PPE Correctness | JudgeBench, each (a,b) acc, (b,a) acc, consistent acc, inconsistency.
TABLE5: tuple[PaperBiasRow, ...] = (
    _t5("Llama-3.1-8B-Instruct", (54.7, 54.1, 30.2, 44.1), (67.4, 42.3, 32.3, 37.4)),
    _t5("EvalPlanner-8B", (53.0, 52.4, 37.3, 25.7), (38.2, 62.8, 30.3, 30.5)),
    _t5("J1-Llama-8B (random single-order data)", (58.3, 57.6, 38.3, 36.7), (48.3, 59.4, 36.6, 32.9)),
    _t5("J1-Llama-8B (both-order data)", (59.2, 58.4, 39.1, 36.8), (63.1, 51.4, 42.0, 27.7)),
    _t5("J1-Llama-8B (verdict consistency reward)", (59.5, 60.1, 43.7, 32.0), (56.9, 60.9, 44.3, 28.6)),
)
