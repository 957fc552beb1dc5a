"""Which check decides each constraint of a FollowBench instruction: FollowBench's own rules first.

FollowBench (``code/rule_based_evaluation.py``) evaluates some instructions by code, and so
does this builder, with the same tests:

* per constraint, for five summarisation sources of the mixed category (``cnn_dailymail``,
  ``xsum``, ``samsum``, ``gigaword``, ``arxiv``): constraint j of level k is FollowBench's
  j-th test (sentence counts split on ``.!?`` as FollowBench does; blank pieces ignored);
* as a whole, for sources whose ``target`` is the one right answer (``E2E``,
  ``text_editing``: equal to it; ``WIKIEVENTS``: every line among its lines; ``CONLL2003``:
  one of its entities; ``BBH_logical``, ``BBH_time``, ``gsm_8k``: the last option, date or
  dollar amount equals it; ``self_made_space``: it appears): one check covers every
  constraint, as in FollowBench, and no model is asked;
* the example category: the response matches the answer format of the in-context examples
  (``target`` with ``{answer}`` as a wildcard, on one line), as FollowBench checks it.

Every other constraint gets the rules its own words state (:mod:`j1eval.build.detectors`),
kept only when their words also appear in the instruction being answered (a later level
may have rewritten an earlier constraint), and the checker model unless those rules cover
all its words. Where the response must be markup or data (HTML, LaTeX, JSON, a Python
literal, a table, a code block), counts of words, sentences and paragraphs are left to the
model: blank lines and full stops no longer mark its paragraphs and sentences.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from j1eval.build.checks import Rule
from j1eval.build.detectors import covered, find_rules
from j1eval.build.instructions import Task, example_template

Pred = Callable[[str], tuple[bool, str]]
#: Rules that make the response markup or data, and the names of the count rules they void.
STRUCTURED = frozenset(
    {"html", "latex", "latex_table", "json", "python_list", "python_dict", "markdown_table", "code_block"}
)
COUNTS = ("words_", "sentences_", "paragraphs_")


@dataclass(frozen=True)
class Plan:
    """How an instruction's responses are checked: rules (by constraint; None: all) and the model's constraints."""

    rules: tuple[tuple[int | None, Rule], ...]
    model: tuple[int, ...]
    basis: str  # "followbench rules", "followbench target", "example format", "constraint words"


def _fb_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[.!?]", text.strip()) if s.strip()]


def _has(text: str, word: str) -> bool:
    return re.search(r"\b" + re.escape(word) + r"\b", text) is not None


def _nth_has(n: int, word: str) -> Pred:
    def test(text: str) -> tuple[bool, str]:
        parts = _fb_sentences(text)
        if len(parts) < n:
            return False, f"only {len(parts)} sentences"
        return _has(parts[n - 1], word), f"sentence {n}: {parts[n - 1].strip()[:60]!r}"

    return test


def _n_sentences(n: int) -> Pred:
    return lambda t: (len(_fb_sentences(t)) == n, f"{len(_fb_sentences(t))} sentences")


def _spaced_words(ok: Callable[[int], bool]) -> Pred:
    return lambda t: (ok(len(t.strip().split(" "))), f"{len(t.strip().split(' '))} words (split on spaces)")


def _present(word: str, want: bool = True) -> Pred:
    return lambda t: (_has(t, word) == want, f"{word!r} {'found' if _has(t, word) else 'absent'}")


def _pattern(regex: str, flags: int = 0, want: bool = True) -> Pred:
    def test(text: str) -> tuple[bool, str]:
        found = re.search(regex, text, flags)
        return (found is not None) == want, f"found {found.group(0)!r}" if found else "not found"

    return test


def _short_sentences(limit: int) -> Pred:
    def test(text: str) -> tuple[bool, str]:
        longest = max((len(s.split()) for s in _fb_sentences(text)), default=0)
        return longest < limit, f"longest sentence: {longest} words"

    return test


def _third_perfect(text: str) -> tuple[bool, str]:
    parts = _fb_sentences(text)
    if len(parts) < 3:
        return False, f"only {len(parts)} sentences"
    return _pattern(r"\b(has|have)\s+\w+")(parts[2])


def _punctuation(ok: Callable[[int], bool]) -> Pred:
    return lambda t: (
        ok(sum(c in string.punctuation for c in t.strip())),
        f"{sum(c in string.punctuation for c in t.strip())} punctuation marks",
    )


_CNN_WORDS = (_nth_has(1, "Potter"), _nth_has(2, "actor"), _nth_has(3, "films"))

#: FollowBench's tests of constraints 1-5 of these sources (rule_evaluation_<source>).
PER_CONSTRAINT: dict[str, list[tuple[str, Pred]]] = {
    "cnn_dailymail": [
        ("three sentences", _n_sentences(3)),
        ("each sentence under 15 words", _short_sentences(15)),
        ("'Potter', 'actor', 'films' in sentences 1, 2, 3", lambda t: _all(t, *_CNN_WORDS)),
        ("no 'lavish' in sentence 2", lambda t: _not(_nth_has(2, "lavish"), t)),
        ("sentence 3 in the present perfect", _third_perfect),
    ],
    "xsum": [
        ("one sentence", _n_sentences(1)),
        ("under 20 words", _spaced_words(lambda n: n < 20)),
        ("no 'Newton Stewart'", _present("Newton Stewart", False)),
        ("present continuous", _pattern(r"\b(am|is|are)\s+\w+ing\b")),
        ("contains 'operation'", _present("operation")),
    ],
    "samsum": [
        ("one sentence", _n_sentences(1)),
        ("under 15 words", _spaced_words(lambda n: n < 15)),
        ("contains 'stuff'", _present("stuff")),
        ("no variation of 'procrast'", _pattern(r"procrast", re.I, want=False)),
        ("exactly one punctuation mark", _punctuation(lambda n: n == 1)),
    ],
    "gigaword": [
        ("8 words", _spaced_words(lambda n: n == 8)),
        ("no punctuation", _punctuation(lambda n: n == 0)),
        ("all lowercase", lambda t: (t.strip().islower(), "lowercase" if t.strip().islower() else "has capitals")),
        ("no 'bus'", _present("bus", False)),
        ("contains 'in'", _present("in")),
    ],
    "arxiv": [
        ("one sentence", _n_sentences(1)),
        ("at most 20 words", _spaced_words(lambda n: n <= 20)),
        ("begins with 'We'", lambda t: (t.strip()[:2] == "We", f"begins {t.strip()[:12]!r}")),
        ("contains 'activations'", _present("activations")),
        ("no 'transformer'", _present("transformer", False)),
    ],
}  # fmt: skip


def _all(text: str, *tests: Pred) -> tuple[bool, str]:
    results = [t(text) for t in tests]
    return all(ok for ok, _ in results), "; ".join(e for _, e in results)


def _not(test: Pred, text: str) -> tuple[bool, str]:
    ok, evidence = test(text)
    return not ok, evidence


def _last(regex: str, target: str) -> Pred:
    def test(text: str) -> tuple[bool, str]:
        found = re.findall(regex, text)
        return bool(found) and found[-1] == target.strip(), f"last {found[-1]!r}" if found else "none found"

    return test


def _entities(target: str) -> Pred:
    try:
        allowed = [str(x) for x in ast.literal_eval(target)]
    except (ValueError, SyntaxError):
        allowed = [target]
    return lambda t: (t.strip() in allowed, f"{t.strip()[:60]!r}")


def _lines_within(target: str) -> Pred:
    allowed = {line.strip() for line in target.split("\n")}

    def test(text: str) -> tuple[bool, str]:
        extra = [line for line in text.strip().split("\n") if line.strip() and line.strip() not in allowed]
        return not extra, f"not in the target: {extra[0][:60]!r}" if extra else "every line in the target"

    return test


def _equal(target: str) -> Pred:
    return lambda t: (t.strip() == target.strip(), "equal" if t.strip() == target.strip() else "different")


#: FollowBench's whole-answer tests: source -> (what, test built from the record's target).
TARGET: dict[str, tuple[str, Callable[[str], Pred]]] = {
    "E2E": ("equals the target", _equal),
    "text_editing": ("equals the target", _equal),
    "WIKIEVENTS": ("every line is a target event", _lines_within),
    "CONLL2003": ("one of the target entities", _entities),
    "BBH_logical": ("the last option is the target", lambda tg: _last(r"\([A-Z]\)", tg)),
    "BBH_time": ("the last date is the target", lambda tg: _last(r"\d{2}/\d{2}/\d{4}", tg)),
    "gsm_8k": ("the last dollar amount is the target", lambda tg: _last(r"\$\d+", tg)),
    "self_made_space": ("contains the target", lambda tg: lambda t: (tg in t, "found" if tg in t else "absent")),
}


def example_rule(target: str, answer: str | None) -> Rule:
    """The response, on one line, in the format of the in-context examples (FollowBench's check_match)."""
    template = example_template(target)
    pattern = re.escape(template).replace(re.escape("{answer}"), ".*")

    def test(text: str) -> tuple[bool, str]:
        ok = re.fullmatch(pattern, text.strip()) is not None
        same = answer is not None and text.strip() == answer.strip()
        return ok, f"{'matches' if ok else 'does not match'} {template!r}" + ("; the reference answer" if same else "")

    return Rule("followbench:example", "the examples' answer format", test, template)


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def plan(task: Task) -> Plan:
    """The rules and the model questions that check ``task``'s responses."""
    item = task.item
    if item.category == "example":
        return Plan(((1, example_rule(item.target, item.answer)),), (), "example format")
    if item.source in TARGET and item.target.strip():
        what, make = TARGET[item.source]
        rule = Rule(f"followbench:{item.source}", f"FollowBench's {item.source} rule ({what})", make(item.target))
        return Plan(((None, rule),), (), "followbench target")
    if item.source in PER_CONSTRAINT:
        tests = PER_CONSTRAINT[item.source][: item.level]
        rules = tuple(
            (j, Rule(f"followbench:{item.source}:{j}", f"FollowBench's {item.source} rule {j} ({what})", test))
            for j, (what, test) in enumerate(tests, 1)
        )
        return Plan(rules, (), "followbench rules")
    text = _normal(item.text)
    found = {c.index: [f for f in find_rules(c.text) if _normal(f.rule.phrase) in text] for c in task.constraints}
    if any(f.rule.name in STRUCTURED for fs in found.values() for f in fs):
        found = {j: [f for f in fs if not f.rule.name.startswith(COUNTS)] for j, fs in found.items()}
    rules = tuple((j, f.rule) for j, fs in found.items() for f in fs)
    model = tuple(c.index for c in task.constraints if not covered(c.text, found[c.index]))
    return Plan(rules, model, "constraint words")
