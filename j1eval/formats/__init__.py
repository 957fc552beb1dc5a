"""Judge-format registry: one module per J1 prompt format."""

from __future__ import annotations

from j1eval.formats.base import Format
from j1eval.registry import Registry

FORMATS: Registry[type[Format]] = Registry("format")


def judge_format(name: str):
    """Class decorator: register a :class:`Format` subclass under ``name``."""

    def decorator(cls: type[Format]) -> type[Format]:
        cls.name = name
        return FORMATS.register(name)(cls)

    return decorator


def get_format(name: str) -> Format:
    return FORMATS.get(name)()


from j1eval.formats import pairwise_verdict, pairwise_scores, scores_verdict, pointwise, plan_execute, direct_verdict  # noqa: E402,F401,I001

__all__ = ["FORMATS", "Format", "get_format", "judge_format"]
