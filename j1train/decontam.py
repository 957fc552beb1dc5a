"""Decontamination: drop training pairs whose prompt is an evaluation benchmark's prompt.

Prompts are compared after :func:`normalise_prompt` (Unicode NFKC, case folded,
typographic quotes and dashes made plain, every run of whitespace one space), so a
benchmark prompt with changed case or spacing is still caught. The benchmarks are
loaded with j1eval's own loaders, from the same data folder ``run`` reads.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from j1eval.benchmarks import BENCHMARKS, load_installed, standard_benchmarks
from j1eval.types import Pair

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)
_SPACE = re.compile(r"\s+")


def normalise_prompt(text: str) -> str:
    """The form two prompts are compared in: NFKC, case folded, plain quotes, single spaces, trimmed."""
    text = unicodedata.normalize("NFKC", text).translate(_PLAIN).casefold()
    return _SPACE.sub(" ", text).strip()


def parse_benches(spec: str | Sequence[str] | None) -> list[str]:
    """Benchmark names from ``"a,b"`` or a list ("all" = every registered benchmark); unknown names fail."""
    if not spec:
        return []
    parts = spec.split(",") if isinstance(spec, str) else [p for item in spec for p in str(item).split(",")]
    names: list[str] = []
    for part in (p.strip() for p in parts):
        if not part or part.lower() == "none":
            continue
        for name in standard_benchmarks() if part == "all" else [part]:
            BENCHMARKS.get(name)  # InputError naming the known benchmarks
            if name not in names:
                names.append(name)
    return names


@dataclass
class ContaminationIndex:
    """Normalised prompts of the evaluation benchmarks, each with the benchmark it came from."""

    benches: list[str]
    prompts: dict[str, str] = field(default_factory=dict)

    def bench_of(self, prompt: str) -> str | None:
        """The benchmark that holds ``prompt`` (normalised match), or None."""
        return self.prompts.get(normalise_prompt(prompt))


def load_index(benches: Iterable[str], data_dir: str | Path | None) -> ContaminationIndex:
    """Load each benchmark (a clear one-line error when one is unknown or not installed)."""
    names = parse_benches(list(benches))
    index = ContaminationIndex(names)
    for name in names:
        data = load_installed(name, data_dir, "decontamination")
        for pair in data.pairs:
            index.prompts.setdefault(normalise_prompt(pair.prompt), name)
    return index


def decontaminate(pairs: list[Pair], benches: list[str], data_dir: str | Path | None) -> tuple[list[Pair], int]:
    """``pairs`` without those whose prompt is in one of ``benches``, and how many were dropped."""
    if not benches:
        return list(pairs), 0
    index = load_index(benches, data_dir)
    kept = [p for p in pairs if index.bench_of(p.prompt) is None]
    return kept, len(pairs) - len(kept)
