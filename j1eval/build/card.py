"""The data card written beside rebuilt FollowBenchEval pairs (``README.md``), from the build's manifest."""

from __future__ import annotations

from typing import Any

CARD_FILE = "README.md"

TEXT = """# FollowBenchEval, rebuilt ({pairs} pairs)

**These pairs are rebuilt, not the paper's.** EvalPlanner (Saha et al. 2025, arXiv 2501.18099)
built FollowBenchEval's 205 pairs from FollowBench and never released them. These pairs were
made by `{builder}` the same way in outline, with other models:

- generator: `{generator}` (revision `{generator_revision}`), {samples} responses per instruction
  (temperature {temperature}, at most {max_tokens} new tokens);
- checker: `{checker}` (revision `{checker_revision}`), asked about one constraint at a time
  where no rule decides; its answer and words are kept with each pair;
- instructions: FollowBench (Jiang et al. 2024, Apache-2.0), levels {levels}, categories {categories}.

For each instruction of level k (k constraints added to a base instruction), every sampled
response's constraints were checked: by FollowBench's own rules where it has them (the
summarisation sources of the mixed category, answers with one right target, the example
category's answer format), by rules read from the constraint's words where code can decide
(lengths, counts, required and forbidden words, JSON, lists, tables, start and end), and by
the checker model otherwise. A pair is one response meeting every check and one missing at
least one, both from the same generator, the better one in slot A or B by a seeded hash.
FollowBench does not list an instruction's constraints: each is derived by comparing the
instruction with the level below it (see `j1eval/build/instructions.py`).

## Counts

| level | pairs |
|---|---|
{level_rows}

{pairs} pairs from {tried} instructions tried ({instructions} available). No pair: {no_pair}.
Checks in the pairs: {checks}.

## How far the figures compare

Scored by `python -m j1eval run --bench followbencheval --data-dir DIR` (DIR: the folder that
holds this `followbencheval/`), with position-consistent accuracy overall and per level (L1-L5),
as EvalPlanner and J1 report it. Those figures measure a judge on *these* pairs: their responses
come from `{generator}`, not from the paper's models, their labels rest on the rules and on
`{checker}`'s answers, and their number per level and category differs. They show how judges
rank against each other on pairs of this kind; they are not comparable, number for number,
with the FollowBenchEval figures of EvalPlanner or J1. A weak checker makes wrong labels:
read the `checks` field of a pair before trusting it.

Built {finished_at} by `{command}`.
"""


def render(manifest: dict[str, Any]) -> str:
    """The data card for a build's ``manifest``."""
    counts = manifest["counts"]
    settings = manifest["settings"]
    sampling = manifest["generator_identity"]["sampling"]
    levels = counts["pairs_per_level"]
    no_pair = ", ".join(f"{n} {why}" for why, n in sorted(counts["no_pair"].items())) or "none"
    checks = ", ".join(f"{n} by {method}" for method, n in sorted(counts["checks_in_pairs"].items())) or "none"
    return TEXT.format(
        pairs=counts["pairs"],
        builder=manifest["builder"],
        generator=manifest["generator"],
        generator_revision=manifest["generator_revision"],
        checker=manifest["checker"],
        checker_revision=manifest["checker_revision"] or "not needed",
        samples=settings["samples"],
        temperature=sampling["temperature"],
        max_tokens=sampling["max_tokens"],
        levels=", ".join(f"L{lv}" for lv in settings["levels"]),
        categories=", ".join(settings["categories"]),
        level_rows="\n".join(f"| {lv} | {n} |" for lv, n in levels.items()),
        tried=counts["tried"],
        instructions=counts["instructions"],
        no_pair=no_pair,
        checks=checks,
        finished_at=manifest["finished_at"],
        command=" ".join(manifest["command"]),
    )
