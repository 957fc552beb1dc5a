"""J1's rewards as plain functions with TRL's reward keyword contract.

Each takes ``prompts``, ``completions`` and the dataset's columns as keyword lists
(``pair_id``, ``order``, ``part``, ``label``, ``judge_format``, ``max_completion_length``;
see :mod:`j1train.data`), plus TRL's ``completion_ids``, ``log_metric``, ``log_extra``, and
returns one float per completion. Completions are read exactly as j1eval's runner reads
them: ``fmt.read(Completion(text, finish_reason), sampled=True)``, then ``fmt.combine``
for the two parts of a pointwise pair.

Rollouts are matched by position: the k-th completion of a (pair, order, part) in the
batch is rollout k. TRL's generation batch holds each prompt's ``num_generations``
rollouts in a row, and :class:`j1train.sampler.PairRepeatSampler` puts every row of a
pair on the same process in the same batch; a batch that misses a pair's other rows is
an error, never a silent 0.

Truncation: TRL keeps the end-of-sequence token in ``completion_ids``, so a completion of
``max_completion_length`` tokens is read with finish reason "length" (an output that ends
exactly at the limit on its end token is counted as truncated too; both score 0 unless a
verdict was complete).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from j1eval.formats import get_format
from j1eval.formats.base import Format
from j1eval.types import Completion, Parsed, correct_slot

_OTHER = {"ab": "ba", "ba": "ab"}


@dataclass(frozen=True)
class Rollout:
    """One completion read by the format: its key, rollout index and judgment."""

    key: tuple[str, str, int]  # (pair_id, order, part)
    index: int  # k-th rollout of this key in the batch
    parsed: Parsed  # this completion alone
    judged: Parsed  # the (pair, order)'s judgment: = parsed, or combined with the other part (pointwise)
    correct: bool


@cache
def _format(name: str) -> Format:
    return get_format(name)


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or a list of messages (conversational)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))


def read_completion(fmt: Format, text: str, finish_reason: str) -> Parsed:
    """A sampled completion read the way j1eval's runner reads it."""
    return fmt.read(Completion(text, finish_reason), sampled=True)


def _finish_reasons(n: int, completion_ids: Sequence[Sequence[int]] | None, limit: Sequence[Any] | None) -> list[str]:
    if completion_ids is None or limit is None:
        return ["stop"] * n
    pairs = zip(completion_ids, limit, strict=True)
    return ["length" if lim and len(ids) >= int(lim) else "stop" for ids, lim in pairs]


def judge_rollouts(
    completions: Sequence[Any],
    *,
    pair_id: Sequence[str],
    order: Sequence[str],
    label: Sequence[int],
    judge_format: Sequence[str],
    part: Sequence[int] | None = None,
    completion_ids: Sequence[Sequence[int]] | None = None,
    max_completion_length: Sequence[int] | None = None,
) -> list[Rollout]:
    """Read every completion and decide whether its (pair, order) judgment is correct."""
    n = len(completions)
    parts = list(part) if part is not None else [0] * n
    finish = _finish_reasons(n, completion_ids, max_completion_length)
    fmts = [_format(name) for name in judge_format]
    parsed = [read_completion(f, completion_text(c), r) for f, c, r in zip(fmts, completions, finish, strict=True)]
    positions: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    index = []
    for i in range(n):
        key = (str(pair_id[i]), str(order[i]), int(parts[i]))
        index.append(len(positions[key]))
        positions[key].append(i)
    out = []
    for i in range(n):
        key = (str(pair_id[i]), str(order[i]), int(parts[i]))
        judged = parsed[i]
        if fmts[i].pointwise:
            other = positions.get((key[0], key[1], 1 - key[2]))
            if not other:
                raise ValueError(f"pair {key[0]!r}: the other response's rows are not in this batch (pointwise)")
            j = other[index[i] % len(other)]
            judged = fmts[i].combine([parsed[i], parsed[j]] if key[2] == 0 else [parsed[j], parsed[i]])
        correct = judged.verdict == correct_slot(int(label[i]), key[1])  # type: ignore[arg-type]
        out.append(Rollout(key, index[i], parsed[i], judged, correct))
    return out


def _pairwise_partner(rollouts: list[Rollout]) -> dict[tuple[str, str, int], list[bool]]:
    table: dict[tuple[str, str, int], list[bool]] = defaultdict(list)
    for r in rollouts:
        table[r.key].append(r.correct)
    return table


def _both_correct(rollouts: list[Rollout], match: str) -> list[float]:
    """Per rollout: is it correct and is its matched rollout of the other order correct (see consistency_reward)."""
    table = _pairwise_partner(rollouts)
    out = []
    for r in rollouts:
        other = table.get((r.key[0], _OTHER[r.key[1]], r.key[2]))
        if not other:
            raise ValueError(f"pair {r.key[0]!r}: order {_OTHER[r.key[1]]} is not in this batch")
        if match == "mean":
            out.append(float(r.correct) * sum(other) / len(other))
        else:
            out.append(float(r.correct and other[r.index % len(other)]))
    return out


def _has_both_orders(rollouts: list[Rollout]) -> bool:
    """Whether the batch holds both orders of its pairs (False for an empty or single-order batch)."""
    keys = {r.key for r in rollouts}
    return bool(keys) and all((k[0], _OTHER[k[1]], k[2]) in keys for k in keys)


def _log(log_metric: Callable[[str, float], None] | None, name: str, values: Sequence[float]) -> None:
    if log_metric is not None and values:
        log_metric(name, float(sum(values)) / len(values))


def verdict_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """1.0 when the (pair, order)'s verdict picks the better response, else 0.0.

    Pairwise formats: the completion's own verdict (``pairwise-scores``: the verdict the two
    scores give, so equal scores are a tie and score 0; ``scores-verdict``: the answer block).
    Pointwise: rollout k of response 1 and rollout k of response 2 are combined by the
    format (higher score wins); both rows get 1.0 when that verdict is right.
    No verdict, a tie, a truncated output: 0.0.

    Also logs, per generation batch: ``j1/verdict_accuracy``, ``j1/consistent_correct``
    (share of pair rollouts correct in both orders, index matching), ``j1/parse_failure_rate``,
    ``j1/truncation_rate``, ``j1/tie_rate``; and the verdict, failure and pair columns of
    TRL's completions table (with the rank of the process that scored each rollout).
    """
    rollouts = judge_rollouts(completions, **_columns(kwargs))
    rewards = [float(r.correct) for r in rollouts]
    log_metric = kwargs.get("log_metric")
    _log(log_metric, "j1/verdict_accuracy", rewards)
    if not _format(str(kwargs["judge_format"][0])).pointwise:
        if _has_both_orders(rollouts):  # not under `orders: single`: nothing to log there
            both = _both_correct(rollouts, "index")
            firsts = [b for b, r in zip(both, rollouts, strict=True) if r.key[1] == "ab"]
            _log(log_metric, "j1/consistent_correct", firsts)
    else:
        _log(log_metric, "j1/consistent_correct", rewards)
    _log(log_metric, "j1/parse_failure_rate", [float(r.parsed.failure is not None) for r in rollouts])
    _log(log_metric, "j1/truncation_rate", [float(r.parsed.failure == "truncated") for r in rollouts])
    _log(log_metric, "j1/tie_rate", [float(r.judged.verdict == "tie") for r in rollouts])
    log_extra = kwargs.get("log_extra")
    if log_extra is not None:
        log_extra("pair_id", [r.key[0] for r in rollouts])
        log_extra("order", [r.key[1] for r in rollouts])
        log_extra("part", [r.key[2] for r in rollouts])
        log_extra("rollout", [r.index for r in rollouts])
        log_extra("verdict", [str(r.judged.verdict) for r in rollouts])
        log_extra("failure", [str(r.parsed.failure) for r in rollouts])
        log_extra("process", [int(os.environ.get("RANK", "0"))] * len(rollouts))  # who scored it
    return rewards


def consistency_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """1.0 only when the verdicts of both orders of the same pair are correct, else 0.0 (pairwise formats).

    Matching rule (the paper leaves it open), ``consistency_match`` kwarg:

    * ``"index"`` (default): rollout k of order ab is matched with rollout k of order ba,
      and each gets 1.0 when both are correct. Rollouts are exchangeable samples, so this
      is an unbiased one-sample estimate of P(correct in ab and in ba), binary as in J1.
    * ``"mean"``: a rollout gets its own correctness times the share of correct rollouts of
      the other order: the same expectation with less variance, no longer binary.
    """
    match = kwargs.get("consistency_match") or "index"
    if isinstance(match, list | tuple):
        match = match[0] if match else "index"
    return _both_correct(judge_rollouts(completions, **_columns(kwargs)), str(match))


def mean_consistency_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """:func:`consistency_reward` with the ``"mean"`` matching rule."""
    return consistency_reward(prompts, completions, **{**kwargs, "consistency_match": "mean"})


def format_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """1.0 when the thinking is inside one ``<think>...</think>`` at the start (TRL's ``think_format_reward``).

    For a prompt whose assistant turn is prefilled, the prefill is not part of the completion,
    so the format is checked on the generated text only.
    """
    from trl.rewards import think_format_reward

    return list(think_format_reward([[{"content": completion_text(c)}] for c in completions]))


def _columns(kwargs: dict[str, Any]) -> dict[str, Any]:
    keys = ("pair_id", "order", "label", "judge_format", "part", "completion_ids", "max_completion_length")
    missing = [k for k in ("pair_id", "order", "label", "judge_format") if k not in kwargs]
    if missing:
        raise ValueError(f"reward needs the dataset columns {', '.join(missing)} (rows from j1train.data.build_rows)")
    return {k: kwargs.get(k) for k in keys}


#: Reward name (config) -> function. TRL logs each as ``rewards/<function name>/mean``.
REWARDS: dict[str, Callable[..., list[float]]] = {
    "verdict": verdict_reward,
    "consistency": consistency_reward,
    "format": format_reward,
}


def reward_functions(weights: dict[str, float], consistency_match: str = "index") -> list[Callable[..., list[float]]]:
    """The functions of a config's reward mix, in the order of ``weights``."""
    funcs = []
    for name in weights:
        func = REWARDS[name]
        if name == "consistency" and consistency_match == "mean":
            func = mean_consistency_reward
        funcs.append(func)
    return funcs
