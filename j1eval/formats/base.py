"""What a judge format provides: prompts for a pair in one order, and a parser."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from fractions import Fraction
from functools import cached_property
from importlib import resources
from typing import ClassVar

from j1eval.types import Completion, Order, Pair, Parsed, Prompt

TEMPLATE_PACKAGE = "j1eval.formats.templates"


def load_template(filename: str) -> str:
    """Read a prompt template shipped in ``j1eval/formats/templates``."""
    return resources.files(TEMPLATE_PACKAGE).joinpath(filename).read_text(encoding="utf-8")


class Format:
    """Base class of a judge format. Subclasses register with ``@judge_format(name)``.

    A pairwise format makes one prompt per (pair, order); a pointwise format makes
    one prompt per response (slot A's, then slot B's) and decides the pair from the
    two scores in :meth:`combine`.
    """

    name: ClassVar[str] = ""
    template_file: ClassVar[str] = ""
    pointwise: ClassVar[bool] = False
    uses_scores: ClassVar[bool] = False  # Mean-Score@N rather than SC@N
    #: New tokens the format needs when the judge's own limit is not given on the command
    #: line (None: the judge's limit). A direct verdict needs one token.
    default_max_tokens: ClassVar[int | None] = None
    #: Decoding the format needs when the command line gives no ``--temperature`` (keys of
    #: :class:`~j1eval.types.Sampling`); the run's seed seeds it. Empty: the judge's own (greedy).
    default_sampling: ClassVar[dict[str, float]] = {}
    #: Whether verdicts come with the judge's probability of slot A (from token log-probabilities).
    reads_probabilities: ClassVar[bool] = False

    @cached_property
    def template(self) -> str:
        return load_template(self.template_file)

    @cached_property
    def template_hash(self) -> str:
        """sha256 of the template text (first 16 hex digits); recorded in every output."""
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()[:16]

    def prompts(self, pair: Pair, order: Order) -> list[Prompt]:
        raise NotImplementedError

    def parse(self, text: str, finish_reason: str = "stop") -> Parsed:
        """Classify one output. Never raises."""
        raise NotImplementedError

    def read(self, completion: Completion, sampled: bool = False) -> Parsed:
        """A judgment from one completion: the parsed text, plus ``p_a`` where a rule gave one.

        ``sampled`` says whether the completion was drawn at a temperature above 0.
        Formats that read verdicts from token probabilities override this.
        """
        parsed = self.parse(completion.text, completion.finish_reason)
        if completion.p_a is not None and parsed.failure != "backend_error":
            # dataclasses.replace(parsed, p_a=...), without its introspection on every judgment
            return type(parsed)(**{**vars(parsed), "p_a": completion.p_a})
        return parsed

    def combine(self, parts: Sequence[Parsed]) -> Parsed:
        """Turn the parsed outputs of one (pair, order)'s prompts into one judgment."""
        return parts[0]

    def aggregate(self, samples: Sequence[Parsed]) -> Parsed:
        """Combine N sampled judgments: Mean-Score@N for score formats, else SC@N (majority verdict).

        The rule is :func:`j1eval.score.samples.combine_samples`, the one the scorer applies; the mean
        scores of the samples that carry both are kept for reference.
        """
        from j1eval.score.samples import combine_samples

        verdict, failure = combine_samples(
            [s.verdict for s in samples],
            [s.failure for s in samples],
            [s.score_a for s in samples] if self.uses_scores else None,
            [s.score_b for s in samples] if self.uses_scores else None,
        )
        if verdict is None:
            return Parsed(failure=failure)
        both = [(s.score_a, s.score_b) for s in samples if _finite(s.score_a) and _finite(s.score_b)]
        if not both:
            return Parsed(verdict=verdict)
        mean_a = sum((Fraction(a) for a, _ in both), Fraction(0)) / len(both)  # type: ignore[arg-type]
        mean_b = sum((Fraction(b) for _, b in both), Fraction(0)) / len(both)  # type: ignore[arg-type]
        return Parsed(verdict=verdict, score_a=float(mean_a), score_b=float(mean_b))


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
