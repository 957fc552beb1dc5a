"""FollowBenchEval builder, checks: constraints derived from FollowBench's real instructions, which of them
code can decide, and the rules' answers on responses written for these tests."""

from __future__ import annotations

import json

import pytest
from conftest import SHARED_DATA, require

from j1eval.build.checker import check_prompt, parse_answer
from j1eval.build.checks import Rule, count_rule, sentences, suffix_rule, words
from j1eval.build.detectors import covered, find_rules
from j1eval.build.instructions import Task, added_text, derive_tasks, load_instructions
from j1eval.build.sources import plan
from j1eval.errors import InputError

FOLLOWBENCH = SHARED_DATA / "followbench"


@pytest.fixture(scope="module")
def tasks() -> dict[str, Task]:
    """Every FollowBench instruction of level 1-5, by pair id (skipped without the shared data)."""
    return {t.item.pair_id: t for t in derive_tasks(load_instructions(require(FOLLOWBENCH)))}


def rules_of(task: Task) -> dict[int | None, list[Rule]]:
    out: dict[int | None, list[Rule]] = {}
    for j, rule in plan(task).rules:
        out.setdefault(j, []).append(rule)
    return out


def verdicts(task: Task, response: str) -> dict[int | None, list[bool]]:
    """Each rule's answer on ``response``, by constraint."""
    return {j: [r.check(response, j).satisfied for r in rules] for j, rules in rules_of(task).items()}


# --------------------------------------------------------------------------- the instructions


def test_followbench_files_load_and_every_instruction_gets_its_constraints(tasks):
    assert len(tasks) == 820  # 944 records, 124 of them level 0
    assert {t.item.category for t in tasks.values()} == {"content", "situation", "style", "format", "example", "mixed"}
    for task in tasks.values():
        expected = 1 if task.item.category == "example" else task.item.level
        assert [c.index for c in task.constraints] == list(range(1, expected + 1))
    # The mixed file names each constraint's type; the other files are one type each.
    assert [c.type for c in tasks["mixed:1:L3"].constraints] == ["format", "content", "content"]
    assert {c.type for c in tasks["style:7:L5"].constraints} == {"style"}


def test_constraints_are_derived_from_the_level_below(tasks):
    appended = tasks["format:24:L3"].constraints
    assert [c.derived for c in appended] == ["changed sentence", "appended", "appended"]
    assert appended[1].text == "Do not use the word 'romantic' in your response."
    assert appended[2].text == "Your response should contain 3 sentences."
    # Style instructions are rewritten at each level: the new sentence is found among paraphrases.
    rewritten = tasks["style:1:L2"].constraints[1]
    assert rewritten.derived in ("new sentences", "changed sentence") and "1940s noir" in rewritten.text
    assert "sage" in tasks["style:1:L2"].constraints[0].text
    # A level 0 left blank in FollowBench: constraint 1 is the whole first instruction, for the checker to read.
    assert tasks["content:14:L2"].constraints[0].derived == "no lower text"
    example = tasks["example:2:L3"].constraints
    assert len(example) == 1 and example[0].text.endswith("BOT: ...")


def test_added_text_of_edited_instructions():
    assert added_text("Describe the sea.", "Describe the sea. Use ten words.") == ("appended", "Use ten words.")
    how, text = added_text(
        "Tell me about cats. Keep it short.", "Tell me about cats. Write it as a limerick. Keep it short."
    )
    assert (how, text) == ("new sentences", "Write it as a limerick.")
    assert added_text("Name a dog.", "Name a dog.") == ("unchanged", "")


# --------------------------------------------------------------------------- which constraints code decides


@pytest.mark.parametrize(
    ("pair_id", "basis", "rules", "model"),
    [
        # FollowBench's own per-constraint rules (mixed category, summarisation sources)
        ("mixed:14:L5", "followbench rules", {j: [f"followbench:gigaword:{j}"] for j in range(1, 6)}, ()),
        ("mixed:12:L3", "followbench rules", {j: [f"followbench:xsum:{j}"] for j in range(1, 4)}, ()),
        # FollowBench's whole-answer rules: one check for every constraint, no model
        ("content:14:L3", "followbench target", {None: ["followbench:E2E"]}, ()),
        ("content:21:L2", "followbench target", {None: ["followbench:CONLL2003"]}, ()),
        ("situation:6:L1", "followbench target", {None: ["followbench:BBH_time"]}, ()),
        ("example:2:L3", "example format", {1: ["followbench:example"]}, ()),
        # rules read from the constraint's words; the model for what they do not cover
        ("format:24:L3", "constraint words", {2: ["forbidden_words"], 3: ["sentences_eq"]}, (1,)),
        ("format:30:L4", "constraint words", {3: ["words_range_per_sentence"], 4: ["no_suffix"]}, (1, 2)),
        ("mixed:6:L5", "constraint words", {1: ["code_block"], 3: ["starts_with"], 5: ["contains"]}, (2, 4)),
        (
            "mixed:16:L5",
            "constraint words",
            {2: ["bullets"], 3: ["forbidden_words"], 5: ["contains"]},
            (1, 2, 4),  # "mark each paraphrase": bullets are a part of it
        ),
        # HTML: the paragraph and sentence counts go to the model (blank lines are not its paragraphs)
        ("format:28:L5", "constraint words", {1: ["html"], 2: ["html"]}, (2, 3, 4, 5)),
        # style and content: nothing for code to decide
        ("style:7:L2", "constraint words", {}, (1, 2)),
        ("content:7:L3", "constraint words", {}, (1, 2, 3)),
    ],
)
def test_which_constraints_code_can_decide(tasks, pair_id, basis, rules, model):
    task = tasks[pair_id]
    got = plan(task)
    assert got.basis == basis
    assert {j: [r.name for r in rs] for j, rs in rules_of(task).items()} == rules
    assert got.model == model


def test_a_rule_rewritten_away_at_a_later_level_is_not_applied(tasks):
    # format 7: level 3 says "not contain more than 20 words"; level 5 rewrites it ("limited to 20 words").
    task = tasks["format:7:L5"]
    assert "not contain more than 20 words" in task.constraints[2].text
    assert "not contain more than 20 words" not in task.item.text
    assert [r.name for r in rules_of(task).get(3, [])] == []
    assert [r.name for r in rules_of(task)[4]] == ["words_max_per_sentence"]


# --------------------------------------------------------------------------- the rules' answers


def test_forbidden_word_and_sentence_count(tasks):
    task = tasks["format:24:L3"]  # no 'romantic'; 3 sentences
    good = "Caesar met Cleopatra in Egypt. Their alliance was political as much as personal. It shaped two empires."
    assert verdicts(task, good) == {2: [True], 3: [True]}
    bad = "Their Romantic bond is famous! It ended in war."
    assert verdicts(task, bad) == {2: [False], 3: [False]}
    check = rules_of(task)[2][0].check(bad, 2)
    assert check.method == "rule" and "found: 'romantic'" in check.evidence


def test_followbench_gigaword_rules_one_by_one(tasks):
    task = tasks["mixed:14:L5"]  # 8 words; no punctuation; lowercase; no 'bus'; contains 'in'
    assert verdicts(task, "flood waters rise in the river after storms") == {j: [True] for j in range(1, 6)}
    answers = verdicts(task, "Drivers strike on the bus in town, again.")
    assert answers == {1: [True], 2: [False], 3: [False], 4: [False], 5: [True]}
    # FollowBench's word tests are case-sensitive, and so are these: "Bus" is not "bus".
    assert verdicts(task, "Bus drivers strike in the city again today")[4] == [True]


def test_followbench_xsum_rules(tasks):
    task = tasks["mixed:12:L5"]  # one sentence, < 20 words, no 'Newton Stewart', present continuous, 'operation'
    ok = "Police are continuing an operation after a flood hit a town in Scotland."
    assert verdicts(task, ok) == {j: [True] for j in range(1, 6)}
    bad = "A flood hit Newton Stewart. Police started an operation."
    assert verdicts(task, bad) == {1: [False], 2: [True], 3: [False], 4: [False], 5: [True]}


def test_followbench_targets(tasks):
    e2e = tasks["content:14:L1"]
    assert verdicts(e2e, e2e.item.target + "\n") == {None: [True]}
    assert verdicts(e2e, "The Phoenix is a pub.") == {None: [False]}
    conll = tasks["content:21:L1"]
    assert verdicts(conll, " Germany ") == {None: [True]}
    assert verdicts(conll, "Mars") == {None: [False]}
    time = tasks["situation:6:L1"]
    assert time.item.target == "12/29/1937"
    assert verdicts(time, "Five days later: 12/29/1937.") == {None: [True]}
    assert verdicts(time, "It is 12/29/1937, no, 12/30/1937.") == {None: [False]}  # the last date counts


def test_example_category_answer_format(tasks):
    task = tasks["example:2:L3"]  # the examples answer "BOT: <label>"
    assert verdicts(task, "BOT: Science and technology") == {1: [True]}
    assert verdicts(task, "Science and technology") == {1: [False]}
    assert verdicts(task, "BOT: Sports\nBecause it is about golf.") == {1: [False]}  # one line, as FollowBench


def test_suffix_and_sentence_length(tasks):
    task = tasks["format:30:L4"]  # each sentence 10-15 words; no -ly words
    good = (
        "Innovation lifts growth across every Australian industry and region today. "
        "New tools make small firms stronger and help them reach global markets."
    )
    assert verdicts(task, good) == {3: [True], 4: [True]}
    bad = "Innovation quickly lifts growth. Only that matters for the nation and its people in the end."
    answers = verdicts(task, bad)
    assert answers == {3: [False], 4: [False]}
    assert rules_of(task)[4][0].check(bad, 4).evidence.endswith("found quickly")  # "Only" is no -ly word


def test_json_code_block_and_start(tasks):
    json_task = tasks["mixed:8:L5"]  # contains '99%'; JSON; nothing but JSON
    only_json = json.dumps({"en": "99 percent of us agree.", "nl": "99% van ons is het eens."})
    assert verdicts(json_task, only_json) == {2: [True], 4: [True], 5: [True]}
    fenced = f"Here it is:\n```json\n{only_json}\n```"
    assert verdicts(json_task, fenced) == {2: [True], 4: [False], 5: [False]}
    block = tasks["mixed:6:L5"]  # a code block; starts with '||>>'; contains 宽慰
    assert verdicts(block, "||>> ```\n令人宽慰的消息\n```") == {1: [True], 3: [True], 5: [True]}
    assert verdicts(block, "令人放心的消息") == {1: [False], 3: [False], 5: [False]}


# --------------------------------------------------------------------------- detectors and helpers


@pytest.mark.parametrize(
    ("text", "names", "alone"),
    [
        ("Each sentence should not exceed 20 words.", ["words_max_per_sentence"], True),
        ("Each section must not exceed 200 words.", [], False),  # a unit code cannot cut
        ("Please tell me about Rome in 100 words.", [], False),  # a rough length
        ("Your answer should be at least 50 words long.", ["words_min"], True),
        ("Avoid using words with the suffix '-ly' in the instructions.", [], False),  # only in a part
        ("The word 'lavish' should not appear in the second sentence.", [], False),  # a position
        ("Write in a cheerful tone and end your answer with 'Cheers'.", ["ends_with"], False),
        ("Do not use the words 'cat' or 'dog'.", ["forbidden_words"], True),
    ],
)
def test_detectors(text, names, alone):
    found = find_rules(text)
    assert [f.rule.name for f in found] == names
    assert covered(text, found) is alone


def test_counting_helpers():
    text = "- First point, with a comma. Second one!\n\n1. Third here\n   \n## Heading"
    assert sentences(text) == ["First point, with a comma.", "Second one!", "Third here", "Heading"]
    assert words("Don't stop well-known 2 cats") == ["Don't", "stop", "well-known", "2", "cats"]
    rule = count_rule("sentences", "max", 2, "paragraph")
    assert rule.check("One. Two.\n\nThree. Four. Five.", 1).satisfied is False
    assert suffix_rule("ing").check("Nothing during the evening", 1).satisfied is False  # "evening" is flagged
    assert suffix_rule("ing").check("Nothing during the night", 1).satisfied is True


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("The response uses ten words.\nAnswer: YES", True),
        ("It has 30 words, too many.\n**Answer:** NO", False),
        ("Answer: NO at first glance... on reflection, Answer: yes", True),
        ("Yes, it does.", True),
        ("The answer to this question is yes.", True),  # the small judge's way of saying it
        ("The response is not a valid answer to the given constraint.", None),
        ("The response is fine.", None),
        ("", None),
    ],
)
def test_checker_answers(reply, answer):
    assert parse_answer(reply) is answer


def test_checker_prompt_shows_how_the_instruction_grew(tasks):
    task = tasks["style:1:L2"]
    prompt = check_prompt(task, task.constraints[1], "A desert, surely.")
    assert "<before>" in prompt and "Constraint 2 of 2 (style)" in prompt and prompt.endswith('"Answer: NO".')
    appended = tasks["format:24:L3"]
    assert "<before>" not in check_prompt(appended, appended.constraints[2], "x")


def test_other_layouts_are_one_clear_line(tmp_path):
    (tmp_path / "pairs.jsonl").write_text('{"prompt": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"a \.jsonl file: expected FollowBench's layout") as info:
        load_instructions(tmp_path / "pairs.jsonl")
    assert "\n" not in str(info.value)
    bad = tmp_path / "style_constraints.json"
    bad.write_text(json.dumps([{"example_id": 1, "category": "style", "instruction": "x", "target": ""}]))
    with pytest.raises(InputError, match=r"record row 0, field 'source': missing: expected FollowBench's layout"):
        load_instructions(bad)
    bad.write_text(json.dumps({"instructions": []}))
    with pytest.raises(InputError, match=r"expected a JSON list of objects, got dict; expected FollowBench's"):
        load_instructions(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \*_constraints\.json file in this folder"):
        load_instructions(tmp_path / "empty")
