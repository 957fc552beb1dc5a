"""Judge formats: prompt rendering, parsing of realistic and arbitrary outputs, SC@N and Mean-Score@N."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from j1eval.formats import FORMATS, get_format
from j1eval.types import FAILURE_CLASSES, ORDERS, Pair, Parsed

NAMES = ["pairwise-verdict", "pairwise-scores", "scores-verdict", "pointwise", "plan-execute", "direct-verdict"]
NAMES += ["reward-model"]  # a scalar reward model's two scores (rm: judges)
KWAY_NAMES = ["rank-4", "direct-rank-4"]  # best-of-4 formats, judged in rotations: tests/test_rewardbench2_kway.py
VERDICT_FORMATS = ["pairwise-verdict", "scores-verdict", "plan-execute"]
PAIR = Pair("p1", "bench", "sub", "What is 2+2? Use {braces}.", "It is 4. {response_b} {x}", "5 {instruction}", 1)


def test_registry_has_every_format():
    assert sorted(NAMES + KWAY_NAMES) == FORMATS.names()
    for name in NAMES:
        fmt = get_format(name)
        assert fmt.name == name
        assert fmt.pointwise == (name in ("pointwise", "reward-model"))
        assert fmt.uses_scores == (name in ("pairwise-scores", "pointwise", "reward-model"))


# ---------------------------------------------------------------- prompts


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("pointwise", "reward-model")])
@pytest.mark.parametrize("order", ORDERS)
def test_pairwise_prompt_puts_responses_in_slots(name, order):
    fmt = get_format(name)
    (prompt,) = fmt.prompts(PAIR, order)
    assert prompt.conversation[-1]["role"] == "user"
    assert prompt.prefill == ("<answer> [[" if name == "direct-verdict" else "")
    text = prompt.text
    first, second = PAIR.slots(order)
    block_a = f"[The Start of Assistant A's Answer]\n{first}\n[The End of Assistant A's Answer]"
    block_b = f"[The Start of Assistant B's Answer]\n{second}\n[The End of Assistant B's Answer]"
    assert block_a in text and block_b in text
    assert f"[User Question]\n{PAIR.prompt}\n" in text
    assert text.index(block_a) < text.index(block_b)
    # braces in the pair's texts survive verbatim; no placeholder is left over
    assert "{response_b} {x}" in text and "5 {instruction}" in text and "Use {braces}." in text
    assert text.count("{response_a}") == 0 and not text.endswith("\n")


@pytest.mark.parametrize("order", ORDERS)
def test_pointwise_prompts_one_per_slot(order):
    fmt = get_format("pointwise")
    parts = fmt.prompts(PAIR, order)
    assert len(parts) == 2
    for prompt, response in zip(parts, PAIR.slots(order), strict=True):
        assert f"[The Start of the Assistant's Answer]\n{response}\n[The End of the Assistant's Answer]" in prompt.text
        assert "only one at a time" in prompt.text


def test_prompt_wording_follows_the_paper():
    verdict = get_format("pairwise-verdict").template
    assert verdict.startswith("You are given a user question and two responses from two AI assistants.")
    assert "- <answer> [[A]] </answer> if Assistant A is better\n- <answer> [[B]] </answer> if" in verdict
    scores = get_format("pairwise-scores").template
    assert "Finally, assign an **integer score** between 0 and 10" in scores and "<answer>" not in scores
    both = get_format("scores-verdict").template
    assert "Then, assign an **integer score**" in both and "Finally, provide your verdict" in both
    plan = get_format("plan-execute").template
    assert "<plan> and </plan>" in plan and "<execution> and </execution>" in plan
    point = get_format("pointwise").template
    assert "<think> your_thinking_process </think> <score> your_score </score>" in point


def test_template_hash_stable_and_distinct():
    hashes = {name: get_format(name).template_hash for name in NAMES}
    assert len(set(hashes.values())) == len(NAMES)
    assert all(len(h) == 16 for h in hashes.values())
    assert hashes == {name: get_format(name).template_hash for name in NAMES}


# ---------------------------------------------------------------- verdict parsing

THINK = "<think>\nResponse A is correct: 2+2=4. Response B says 5, which is wrong. Maybe [[B]]? No.\n</think>\n"

VERDICT_CASES = [
    (THINK + "<answer> [[A]] </answer>", "stop", "A", None),
    (THINK + "<answer>[[B]]</answer>", "stop", "B", None),
    (THINK + "\n\n**<answer>** **[[A]]** **</answer>**", "stop", "A", None),
    (THINK + "<ANSWER>\n   [[ b ]]\n</ANSWER>", "stop", "B", None),
    (THINK + "<answer> A </answer>", "stop", "A", None),
    (THINK + "<answer>**Assistant B**</answer>", "stop", "B", None),
    (THINK + "<answer> Assistant A is better. </answer>", "stop", "A", None),
    (THINK + "<answer> [[C]] </answer>", "stop", "tie", None),
    (THINK + "<answer>Tie</answer>", "stop", "tie", None),
    (THINK + "<answer> [[A]] [[B]] </answer>", "stop", None, "both_verdicts"),
    (THINK + "<answer> A or B </answer>", "stop", None, "both_verdicts"),
    (THINK + "<answer> Both are good </answer>", "stop", None, "no_verdict"),
    # two answer blocks: the last decides
    (THINK + "<answer> [[A]] </answer>\nOn reflection:\n<answer> [[B]] </answer>", "stop", "B", None),
    # the verdict inside <think> does not decide
    ("<think>I lean towards <answer>[[B]]</answer> ... </think>\n<answer>[[A]]</answer>", "stop", "A", None),
    ("<think>It should be [[A]].</think>\nI cannot decide.", "stop", None, "no_verdict"),
    # fallback: no answer tag, last bracketed verdict after </think>
    (THINK + "My final verdict is **[[B]]**.", "stop", "B", None),
    (THINK + "Verdict: [[A]]. (Earlier drafts said [[B]]; the final one is) [[A]]", "stop", "A", None),
    (THINK + "Final verdict: [[C]]", "stop", "tie", None),
    # chat template opened <think> in the prompt: only text after </think> counts
    ("Response B looks right... [[B]]\n</think>\n\n<answer> [[A]] </answer>", "stop", "A", None),
    ("Response B looks right... [[B]]\n</think>\nI am not sure.", "stop", None, "no_verdict"),
    # unclosed think ends at the answer tag
    ("<think> A is correct, B is not, so [[A]] <answer> [[A]] </answer>", "stop", "A", None),
    ("<think> A is correct, so [[A]] would be", "stop", None, "no_verdict"),
    # echoing the format before answering
    (
        "<answer> [[A]] </answer> if Assistant A is better\n<answer> [[B]] </answer> if Assistant B is better\n"
        + THINK
        + "<answer> [[B]] </answer>",
        "stop",
        "B",
        None,
    ),
    (
        "- <answer> [[A]] </answer> if Assistant A is better\n- <answer> [[B]] </answer> if B is",
        "stop",
        None,
        "no_verdict",
    ),
    # truncation
    ("<think>\nLet me compare the two responses carefully. Response A", "length", None, "truncated"),
    (THINK + "<answer> [[", "length", None, "truncated"),
    (THINK + "<answer> [[B]]", "length", "B", None),
    (THINK + "<answer> [[A]] </answer>", "length", "A", None),
    (THINK + "<answer> [[A]] [[B]] </answer>", "length", None, "both_verdicts"),
    (THINK + "<answer>[[A]]</answer>\n<answer> hmm", "stop", "A", None),
    ("", "stop", None, "no_verdict"),
    ("", "length", None, "truncated"),
    (THINK + "<answer> [[A]] </answer>", "error", None, "backend_error"),
    ("Connection reset", "error", None, "backend_error"),
    (THINK + "<answer> \\[\\[A\\]\\] </answer>", "stop", "A", None),
]


@pytest.mark.parametrize("name", VERDICT_FORMATS)
@pytest.mark.parametrize(("text", "finish", "verdict", "failure"), VERDICT_CASES)
def test_parse_verdict(name, text, finish, verdict, failure):
    parsed = get_format(name).parse(text, finish)
    assert (parsed.verdict, parsed.failure) == (verdict, failure)


def test_plan_execute_ignores_plan_and_execution():
    fmt = get_format("plan-execute")
    text = (
        "<plan>\n1. Check the arithmetic. 2. If A is right, output [[A]].\n</plan>\n"
        "<execution>\nStep 1: A says 4, correct. B says 5. So far [[A]] looks right.\n</execution>\n"
    )
    assert fmt.parse(text).failure == "no_verdict"
    assert fmt.parse(text + "<answer> [[A]] </answer>").verdict == "A"
    assert fmt.parse(text + "Final: [[B]]").verdict == "B"
    assert fmt.parse("<plan> steps", "length").failure == "truncated"
    # pairwise-verdict does not treat <plan> as reasoning
    assert get_format("pairwise-verdict").parse(text).verdict == "A"


# ---------------------------------------------------------------- score parsing

SCORE_CASES = [
    (THINK + "<score_A> 9 </score_A> <score_B> 2 </score_B>", "stop", "A", 9.0, 2.0, None),
    (THINK + "<score_A>3</score_A>\n<score_B>8</score_B>", "stop", "B", 3.0, 8.0, None),
    (THINK + "<score_A> **7** </score_A> <score_B> 7 </score_B>", "stop", "tie", 7.0, 7.0, None),
    (THINK + "<score_a>10/10</score_a><score_b>4/10</score_b>", "stop", "A", 10.0, 4.0, None),
    (THINK + "<score_A> Score: 6 </score_A><score_B>6.0</score_B>", "stop", "tie", 6.0, 6.0, None),
    (THINK + "<score_A>11</score_A><score_B>3</score_B>", "stop", None, None, 3.0, "score_out_of_range"),
    (THINK + "<score_A>7.25</score_A><score_B>3</score_B>", "stop", None, None, 3.0, "score_out_of_range"),
    (THINK + "<score_A>7.5</score_A><score_B>3</score_B>", "stop", "A", 7.5, 3.0, None),
    (THINK + "<score_A>-1</score_A><score_B>3</score_B>", "stop", None, None, 3.0, "score_out_of_range"),
    (THINK + "<score_A>4/5</score_A><score_B>3</score_B>", "stop", None, None, 3.0, "score_out_of_range"),
    (THINK + "<score_A>11</score_A>", "stop", None, None, None, "score_out_of_range"),
    (THINK + "<score_A> integer_number </score_A><score_B>5</score_B>", "stop", None, None, 5.0, "no_verdict"),
    (THINK + "<score_A> 8 </score_A>", "stop", None, 8.0, None, "no_verdict"),
    (THINK + "<score_A> 8 </score_A> <score_B> 6", "length", None, 8.0, None, "truncated"),
    (
        "<think>I'd give <score_A>2</score_A><score_B>9</score_B></think><score_A>9</score_A><score_B>2</score_B>",
        "stop",
        "A",
        9.0,
        2.0,
        None,
    ),
    (
        THINK + "<score_A>5</score_A><score_B>6</score_B>\nRevised: <score_A>8</score_A><score_B>6</score_B>",
        "stop",
        "A",
        8.0,
        6.0,
        None,
    ),
    (THINK + "Score A: 8, Score B: 3", "stop", None, None, None, "no_verdict"),
    (THINK + "<score_A>9</score_A><score_B>2</score_B>", "error", None, None, None, "backend_error"),
    (
        THINK + "<score_A>" + "9" * 5000 + "</score_A><score_B>2</score_B>",
        "stop",
        None,
        None,
        2.0,
        "score_out_of_range",
    ),
]


@pytest.mark.parametrize(("text", "finish", "verdict", "score_a", "score_b", "failure"), SCORE_CASES)
def test_parse_pairwise_scores(text, finish, verdict, score_a, score_b, failure):
    parsed = get_format("pairwise-scores").parse(text, finish)
    assert parsed == Parsed(verdict=verdict, score_a=score_a, score_b=score_b, failure=failure)


def test_scores_verdict_verdict_decides():
    fmt = get_format("scores-verdict")
    out = THINK + "<score_A> 4 </score_A> <score_B> 8 </score_B>\n<answer> [[A]] </answer>"
    assert fmt.parse(out) == Parsed(verdict="A", score_a=4.0, score_b=8.0)
    out = THINK + "<score_A> 12 </score_A> <score_B> 8 </score_B>\n<answer> [[B]] </answer>"
    assert fmt.parse(out) == Parsed(verdict="B", score_a=None, score_b=8.0)
    out = THINK + "<score_A> 9 </score_A> <score_B> 3 </score_B>"
    assert fmt.parse(out) == Parsed(score_a=9.0, score_b=3.0, failure="no_verdict")
    assert fmt.parse(out, "length").failure == "truncated"


POINTWISE_CASES = [
    ("<think>Correct and concise.</think>\n<score> 9 </score>", "stop", 9.0, None),
    ("<think>Mostly right.</think> <score> 7.5 </score>", "stop", 7.5, None),
    ("<think>ok</think><score>8.25</score>", "stop", None, "score_out_of_range"),
    ("<think>ok</think><score>8.20</score>", "stop", 8.2, None),
    ("<think>ok</think><score>**6.8**</score>", "stop", 6.8, None),
    ("<think>ok</think><score> 7/10 </score>", "stop", 7.0, None),
    ("<think>ok</think><score>10.5</score>", "stop", None, "score_out_of_range"),
    ("<think>ok</think><score>0</score>", "stop", 0.0, None),
    ("<think>ok</think><score> your_score </score>", "stop", None, "no_verdict"),
    ("<think>maybe <score>2</score></think><score>6</score>", "stop", 6.0, None),
    ("<think>ok</think> Score: 8", "stop", None, "no_verdict"),
    ("<think>I think this deserves a", "length", None, "truncated"),
    ("<think>ok</think><score>7", "length", None, "truncated"),
    ("<think>ok</think><score_A>7</score_A>", "stop", None, "no_verdict"),
    ("<score>5</score>", "error", None, "backend_error"),
]


@pytest.mark.parametrize(("text", "finish", "score", "failure"), POINTWISE_CASES)
def test_parse_pointwise(text, finish, score, failure):
    assert get_format("pointwise").parse(text, finish) == Parsed(score=score, failure=failure)


def test_pointwise_combine():
    fmt = get_format("pointwise")
    assert fmt.combine([Parsed(score=7.5), Parsed(score=6.0)]) == Parsed(verdict="A", score_a=7.5, score_b=6.0)
    assert fmt.combine([Parsed(score=3.0), Parsed(score=6.1)]).verdict == "B"
    assert fmt.combine([Parsed(score=0.3), Parsed(score=0.1 + 0.2)]).verdict == "B"  # exact floats, not tenths
    assert fmt.combine([Parsed(score=5.0), Parsed(score=5.0)]).verdict == "tie"
    failed = fmt.combine([Parsed(score=5.0), Parsed(failure="truncated")])
    assert failed == Parsed(score_a=5.0, failure="truncated")
    both = fmt.combine([Parsed(failure="backend_error"), Parsed(failure="no_verdict")])
    assert (both.verdict, both.failure) == (None, "backend_error")
    with pytest.raises(ValueError):
        fmt.combine([Parsed(score=5.0)])


# ---------------------------------------------------------------- properties

FRAGMENTS = [
    "<answer>",
    "</answer>",
    "<think>",
    "</think>",
    "<plan>",
    "</execution>",
    "[[A]]",
    "[[B]]",
    "[[C]]",
    "[[",
    "]]",
    "A",
    "B",
    "tie",
    "<score_A>",
    "</score_A>",
    "<score_B>",
    "</score_B>",
    "<score>",
    "</score>",
    "/10",
    ".",
    "-",
    "**",
    " ",
    "\n",
    "if",
    "\\[",
]
messy = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.integers(-20, 20).map(str), st.text(max_size=5)), max_size=30)
any_text = st.one_of(st.text(), messy.map("".join))
finish = st.sampled_from(["stop", "length", "error", "eos", ""])


def check_invariants(name: str, parsed: Parsed) -> None:
    assert isinstance(parsed, Parsed)
    assert parsed.verdict in ("A", "B", "tie", None)
    assert parsed.failure is None or parsed.failure in FAILURE_CLASSES
    if name in ("pointwise", "reward-model"):  # one response's score; reward models' are unbounded
        assert parsed.verdict is None
        assert (parsed.failure is None) == (parsed.score is not None)
        assert parsed.score is None or name == "reward-model" or 0 <= parsed.score <= 10
    else:
        assert (parsed.failure is None) == (parsed.verdict is not None)
    for score in (parsed.score_a, parsed.score_b):
        assert score is None or (0 <= score <= 10 and score == int(score))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=300, deadline=None)
@given(text=any_text, finish_reason=finish)
def test_parse_never_raises(name, text, finish_reason):
    parsed = get_format(name).parse(text, finish_reason)
    check_invariants(name, parsed)
    if finish_reason == "error":
        assert parsed.failure == "backend_error"
    if finish_reason == "length" and name != "direct-verdict":  # a direct verdict asks for one token: never cut
        assert parsed.failure != "no_verdict"


@pytest.mark.parametrize("name", VERDICT_FORMATS)
@settings(max_examples=200, deadline=None)
@given(
    before=any_text,
    verdict=st.sampled_from(["A", "B"]),
    style=st.sampled_from(["<answer> [[{}]] </answer>", "<answer>[[{}]]</answer>", "<answer>\n**[[{}]]**\n</answer>"]),
    finish_reason=st.sampled_from(["stop", "length"]),
)
def test_verdict_in_final_answer_block_is_recovered(name, before, verdict, style, finish_reason):
    # whatever came before, once reasoning is closed a well-formed final answer block decides
    text = f"<think>{before}</think>\n</plan></execution>\n" + style.format(verdict)
    assert get_format(name).parse(text, finish_reason) == get_format(name).parse(style.format(verdict))
    assert get_format(name).parse(text, finish_reason).verdict == verdict


@settings(max_examples=200, deadline=None)
@given(before=any_text, a=st.integers(0, 10), b=st.integers(0, 10))
def test_scores_in_final_blocks_are_recovered(before, a, b):
    text = f"<think>{before}</think>\n<score_A> {a} </score_A>\n<score_B> {b} </score_B>"
    parsed = get_format("pairwise-scores").parse(text)
    assert (parsed.score_a, parsed.score_b) == (a, b)
    assert parsed.verdict == ("A" if a > b else "B" if b > a else "tie")


@settings(max_examples=200, deadline=None)
@given(before=any_text, tenths=st.integers(0, 100))
def test_pointwise_score_recovered(before, tenths):
    text = f"<think>{before}</think>\n<score> {tenths / 10} </score>"
    assert get_format("pointwise").parse(text).score == tenths / 10


# ---------------------------------------------------------------- aggregation


def v(*verdicts: str | None) -> list[Parsed]:
    return [Parsed(verdict=x) if x else Parsed(failure="no_verdict") for x in verdicts]


def test_sc_at_n():
    fmt = get_format("pairwise-verdict")
    assert fmt.aggregate(v("A", "A", "B")).verdict == "A"
    assert fmt.aggregate(v("B", None, None)).verdict == "B"
    assert fmt.aggregate(v("A", "B")).verdict == "tie"
    assert fmt.aggregate(v("A", "B", "tie")).verdict == "tie"
    assert fmt.aggregate(v("tie", "tie", "A")).verdict == "A"  # ties do not outvote a decisive verdict
    assert fmt.aggregate(v("tie", "tie")).verdict == "tie"
    failed = [Parsed(failure="truncated"), Parsed(failure="no_verdict"), Parsed(failure="truncated")]
    assert fmt.aggregate(failed) == Parsed(failure="truncated")
    assert fmt.aggregate([Parsed(failure="no_verdict"), Parsed(failure="truncated")]) == Parsed(failure="no_verdict")
    assert fmt.aggregate([]) == Parsed(failure="no_verdict")


def test_scores_verdict_aggregates_by_verdict():
    fmt = get_format("scores-verdict")
    samples = [
        Parsed(verdict="A", score_a=6.0, score_b=5.0),
        Parsed(verdict="A", score_a=6.0, score_b=5.0),
        Parsed(verdict="B", score_a=0.0, score_b=10.0),
    ]
    out = fmt.aggregate(samples)
    assert out.verdict == "A" and out.score_a == 4.0 and out.score_b == pytest.approx(20 / 3)


def test_mean_score_at_n():
    fmt = get_format("pairwise-scores")
    samples = [Parsed("A", 7.0, 6.0), Parsed("A", 7.0, 6.0), Parsed("B", 4.0, 7.5)]
    assert fmt.aggregate(samples) == Parsed("B", score_a=6.0, score_b=6.5)  # mean decides, not the majority
    with_failures = [Parsed("A", 8.0, 2.0), Parsed(score_a=3.0, failure="no_verdict"), Parsed(failure="truncated")]
    assert fmt.aggregate(with_failures) == Parsed("A", score_a=8.0, score_b=2.0)
    assert fmt.aggregate([Parsed("A", 5.0, 5.0)]).verdict == "tie"
    assert fmt.aggregate([Parsed(failure="truncated")] * 2) == Parsed(failure="truncated")
    point = get_format("pointwise")
    # float noise would make the sums differ; the means are compared exactly
    noisy = [Parsed("A", 0.1, 0.3), Parsed("B", 0.2, 0.2), Parsed("B", 0.3, 0.1)]
    assert point.aggregate(noisy).verdict == "tie"


samples_st = st.lists(
    st.one_of(
        st.builds(Parsed, verdict=st.sampled_from(["A", "B", "tie"])),
        st.builds(Parsed, failure=st.sampled_from(FAILURE_CLASSES)),
        st.builds(
            lambda a, b: Parsed(verdict="A" if a > b else "B" if b > a else "tie", score_a=a, score_b=b),
            st.integers(0, 10).map(float),
            st.integers(0, 10).map(float),
        ),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(samples=samples_st)
def test_aggregation_is_the_scorers_rule(samples):
    """Format.aggregate and the scorer share one rule; a verdict and a failure never come together."""
    from j1eval.score.samples import aggregate_samples

    frame = pd.DataFrame(
        {
            "pair_id": "p",
            "order": "ab",
            "sample": range(len(samples)),
            "verdict": [s.verdict for s in samples],
            "failure": [s.failure for s in samples],
            "score_a": [s.score_a for s in samples],
            "score_b": [s.score_b for s in samples],
        }
    )
    for name in ("pairwise-verdict", "pairwise-scores"):
        fmt = get_format(name)
        out = fmt.aggregate(samples)
        assert (out.failure is None) == (out.verdict is not None)
        if len(samples) > 1:
            row = aggregate_samples(frame, use_scores=fmt.uses_scores).iloc[0]
            assert (row["verdict"], row["failure"]) == (out.verdict, out.failure)


# ----------------------------------------------------------------------------- real small-judge outputs

REAL_OUTPUTS = [
    json.loads(line)
    for line in (Path(__file__).parent / "fixtures" / "smollm2_outputs.jsonl").read_text(encoding="utf-8").splitlines()
]
VALID_TAIL = {
    "pairwise-verdict": ("\n<answer> [[B]] </answer>", {"verdict": "B"}),
    "pairwise-scores": ("\n<score_A> 3 </score_A> <score_B> 8 </score_B>", {"verdict": "B", "score_a": 3.0}),
    "pointwise": ("\n<score> 6.5 </score>", {"score": 6.5}),
}


@pytest.mark.parametrize("record", REAL_OUTPUTS, ids=[f"{r['format']}-{i}" for i, r in enumerate(REAL_OUTPUTS)])
def test_real_small_judge_outputs(record):
    """SmolLM2-135M's own outputs (tests/fixtures/smollm2_outputs.jsonl, labelled by reading them).

    None carries a verdict tag: a reply cut at the token limit is ``truncated``, one that
    stopped is ``no_verdict``; mentions such as "(A) Yes, because ..." or "Thus: A" are not
    verdicts. The same text followed by a well-formed answer is read as that answer.
    """
    fmt = get_format(record["format"])
    parsed = fmt.parse(record["raw"], record["finish_reason"])
    assert (parsed.verdict, parsed.failure) == (None, record["expected_failure"])
    tail, expected = VALID_TAIL[record["format"]]
    completed = fmt.parse(record["raw"] + tail, "stop")
    assert completed.failure is None
    for name, value in expected.items():
        assert getattr(completed, name) == value, name
