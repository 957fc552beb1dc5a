"""The verdict parsers stay linear in the output's length, whatever the output (issue #10).

A judge's output is untrusted text: echoed answer blocks, a ``<`` followed by a long run of
white space, thousands of unclosed tags. Each shape is parsed at 25 KB (which must take well
under a second: a quadratic regex took minutes here), then at 100 KB and 400 KB: four times the
text may take about four times as long, never sixteen. CPU time of this process, best of two.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from j1eval.formats import FORMATS, get_format


def repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


SHAPES: dict[str, Callable[[int], str]] = {
    "echoed_answer_blocks": repeat("<answer> [[A]] </answer> if Assistant A is better\n"),
    "short_echoed_blocks": repeat("<answer>A</answer>if\n"),
    "lt_then_spaces": lambda n: "<" + " " * n,
    "lt_slash_then_spaces": lambda n: "</" + " " * n,
    "many_lt_space_runs": repeat("<" + " " * 999),
    "brackets_then_spaces": lambda n: "[[" + " " * n,
    "spaces_then_stars": lambda n: " " * (n // 2) + "**" + " " * (n // 2) + "x",
    "unclosed_answers": repeat("<answer>"),
    "unclosed_thinks": repeat("<think>"),
    "orphan_closes": repeat("</think>"),
    "score_blocks": repeat("<score_A>7</score_A><score_B>3</score_B>"),
    "bracket_echoes": repeat("[[A]] if "),
    "newlines": lambda n: "\n" * n,
}


def cpu_seconds(parse: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        parse(text)
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_parsers_are_linear_in_the_output_length(shape: str) -> None:
    make = SHAPES[shape]
    for name in FORMATS.names():
        parse = get_format(name).parse
        small = cpu_seconds(parse, make(25_000))
        assert small < 1.0, f"{name} on {shape}: {small:.2f} s for 25 KB"
        t100 = cpu_seconds(parse, make(100_000))
        t400 = cpu_seconds(parse, make(400_000))
        assert t400 < 8 * t100 + 0.05, f"{name} on {shape}: 100 KB {t100:.3f} s, 400 KB {t400:.3f} s (superlinear)"


def test_a_200_kb_output_of_echoed_blocks_is_read_in_a_blink() -> None:
    """The issue's case: 200 KB of echoed answer blocks took 1.7 s, growing four times per doubling."""
    text = SHAPES["echoed_answer_blocks"](200_000) + "<answer> [[B]] </answer>"
    parsed = get_format("pairwise-verdict").parse(text)
    assert parsed.verdict == "B"  # the echoes are skipped, the real block decides
    assert cpu_seconds(get_format("pairwise-verdict").parse, text) < 0.5
