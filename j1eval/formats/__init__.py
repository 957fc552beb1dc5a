"""Judge-format registry: one module per J1 prompt format (plus its template file)."""

from __future__ import annotations

from j1eval.formats.base import Format
from j1eval.registry import Registry

#: format name -> the module that registers it (imported when the format is first used).
FORMATS: Registry[type[Format]] = Registry(
    "format",
    {
        "pairwise-verdict": "j1eval.formats.pairwise_verdict",
        "pairwise-scores": "j1eval.formats.pairwise_scores",
        "scores-verdict": "j1eval.formats.scores_verdict",
        "pointwise": "j1eval.formats.pointwise",
        "plan-execute": "j1eval.formats.plan_execute",
        "direct-verdict": "j1eval.formats.direct_verdict",
        "rank-4": "j1eval.formats.rank_four",
        "direct-rank-4": "j1eval.formats.rank_four",
        "reward-model": "j1eval.formats.reward_model",
    },
)


def judge_format(name: str):
    """Class decorator: register a :class:`Format` subclass under ``name``."""

    def decorator(cls: type[Format]) -> type[Format]:
        cls.name = name
        return FORMATS.register(name)(cls)

    return decorator


def get_format(name: str) -> Format:
    return FORMATS.get(name)()


__all__ = ["FORMATS", "Format", "get_format", "judge_format"]
