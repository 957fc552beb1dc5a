"""Rule-based constraint checks: what code can decide about a response (counts, words, structure).

A :class:`Rule` is one test of a response with its reason in words; a :class:`Check` is its
answer (or a checker model's) for one response and one constraint, with the evidence. The
rules are built here; :mod:`j1eval.build.detectors` finds them in a constraint's words and
:mod:`j1eval.build.sources` holds FollowBench's own rules.

How text is cut: sentences end at ``.``, ``!``, ``?`` (or their CJK forms) followed by a
space, and at line ends, after list markers are removed; paragraphs are separated by blank
lines; words are runs of letters and digits (``don't`` and ``well-known`` are one word).
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Test = Callable[[str], tuple[bool, str]]

_MARKER = re.compile(r"^\s*(?:[-*•+]\s+|\d+[.)]\s+|#{1,6}\s+|>\s*)")
_SENT_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_FENCE = re.compile(r"^\s*```[\w+-]*\s*\n(.*?)\n\s*```\s*$", re.S)
_HTML_TAG = re.compile(r"<(?:html|body|head|h[1-6]|p|div|ul|ol|li|table|tr|td|section|article)\b", re.I)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)

#: Words that end in the letters of a suffix without carrying it (not counted as breaking a "no -ing" rule).
NOT_SUFFIXED = {
    "ing": {"thing", "things", "nothing", "something", "anything", "everything", "king", "kings", "ring", "rings",
            "sing", "bring", "brings", "string", "strings", "spring", "springs", "wing", "wings", "swing", "sting",
            "during", "ceiling", "cling", "fling", "sling", "thing's", "viking", "vikings", "wring"},
    "ly": {"only", "family", "reply", "apply", "supply", "july", "italy", "ally", "rely", "fly", "belly", "jelly",
           "holy", "lily", "ugly", "bully", "comply", "multiply", "imply", "assembly", "anomaly", "butterfly"},
}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """A test of a response that code can decide; ``phrase``: the instruction's words it reads."""

    name: str
    description: str
    test: Test
    phrase: str = ""

    def check(self, response: str, constraint: int | None) -> Check:
        ok, evidence = self.test(response)
        return Check(constraint, "rule", self.name, ok, f"{self.description}: {evidence}")


@dataclass(frozen=True)
class Check:
    """Whether one response satisfies one constraint (``constraint`` None: all of them, as one test)."""

    constraint: int | None
    method: str  # "rule" or "model"
    name: str  # the rule's name, or the checker's
    satisfied: bool | None  # None: the checker gave no readable answer
    evidence: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "constraint": self.constraint,
            "method": self.method,
            "name": self.name,
            "satisfied": self.satisfied,
            "evidence": self.evidence,
        }


# --------------------------------------------------------------------------- cutting text


def strip_fence(text: str) -> str:
    """The body of a response that is one fenced code block, else the response."""
    m = _FENCE.match(text)
    return m.group(1) if m else text


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        line = _MARKER.sub("", line).strip()
        out.extend(s.strip() for s in _SENT_END.split(line) if _WORD.search(s))
    return out


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def has_word(text: str, word: str) -> bool:
    """``word`` in ``text``, case-insensitively, as a whole word where it starts and ends with a letter or digit."""
    if re.match(r"\w", word) and re.search(r"\w$", word):
        return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.I) is not None
    return word.lower() in text.lower()


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")


# --------------------------------------------------------------------------- counts

COUNTERS: dict[str, Callable[[str], list[str]]] = {"words": words, "sentences": sentences, "paragraphs": paragraphs}
UNITS: dict[str, Callable[[str], list[str]]] = {"sentence": sentences, "paragraph": paragraphs, "line": lines}
OPS: dict[str, tuple[str, Callable[[int, int, int], bool]]] = {
    "max": ("at most {n}", lambda v, n, m: v <= n),
    "lt": ("fewer than {n}", lambda v, n, m: v < n),
    "min": ("at least {n}", lambda v, n, m: v >= n),
    "gt": ("more than {n}", lambda v, n, m: v > n),
    "eq": ("exactly {n}", lambda v, n, m: v == n),
    "range": ("{n} to {m}", lambda v, n, m: n <= v <= m),
}


def count_rule(what: str, op: str, n: int, unit: str | None = None, m: int = 0, phrase: str = "") -> Rule:
    """``what`` (words, sentences, paragraphs) counted in the whole response or in each ``unit``."""
    bound, holds = OPS[op]
    where = f" in each {unit}" if unit else ""
    noun = what[:-1] if n == 1 and op != "range" else what
    description = f"{bound.format(n=n, m=m)} {noun}{where}"
    count = COUNTERS[what]

    def test(response: str) -> tuple[bool, str]:
        parts = UNITS[unit](response) if unit else [response]
        if not parts:
            return False, f"no {unit} found"
        counts = [len(count(p)) for p in parts]
        bad = [k for k, v in enumerate(counts) if not holds(v, n, m)]
        if unit is None:
            return not bad, f"{counts[0]} {what}"
        if bad:
            k = bad[0]
            return False, f"{unit} {k + 1} of {len(parts)} has {counts[k]} {what}: {_short(parts[k])}"
        return True, f"all {len(parts)} {unit}s hold ({min(counts)} to {max(counts)} {what})"

    return Rule(f"{what}_{op}" + (f"_per_{unit}" if unit else ""), description, test, phrase)


# --------------------------------------------------------------------------- words and characters


def word_rule(items: Sequence[str], present: bool, phrase: str = "") -> Rule:
    """Every item appears (``present``) or none does (case-insensitive, whole words)."""
    shown = ", ".join(repr(w) for w in items)

    def test(response: str) -> tuple[bool, str]:
        found = [w for w in items if has_word(response, w)]
        if present:
            absent = [w for w in items if w not in found]
            return not absent, f"absent: {', '.join(map(repr, absent))}" if absent else "all present"
        return not found, f"found: {', '.join(map(repr, found))}" if found else "none found"

    name, verb = ("required_words", "contains") if present else ("forbidden_words", "does not contain")
    return Rule(name, f"{verb} {shown}", test, phrase)


def contains_rule(literal: str, phrase: str = "") -> Rule:
    """The exact characters ``literal`` appear somewhere."""
    return Rule(
        "contains", f"contains {literal!r}", lambda r: (literal in r, "found" if literal in r else "absent"), phrase
    )


def suffix_rule(suffix: str, phrase: str = "") -> Rule:
    """No word ends in ``suffix`` (words that only end in its letters, listed in NOT_SUFFIXED, excepted)."""
    spared = NOT_SUFFIXED.get(suffix, set())

    def test(response: str) -> tuple[bool, str]:
        found = [
            w
            for w in words(response)
            if w.lower().endswith(suffix) and len(w) > len(suffix) + 2 and w.lower() not in spared
        ]
        return not found, f"found {', '.join(sorted(set(found))[:8])}" if found else "none found"

    return Rule("no_suffix", f"no word with the suffix -{suffix}", test, phrase)


def lowercase_rule(phrase: str = "") -> Rule:
    def test(response: str) -> tuple[bool, str]:
        upper = sorted({c for c in response if c.isupper()})
        return not upper, f"capitals: {''.join(upper[:10])}" if upper else "no capital letter"

    return Rule("lowercase", "all letters lowercase", test, phrase)


def punctuation_rule(most: int, phrase: str = "") -> Rule:
    """At most ``most`` punctuation marks (0: none)."""

    def test(response: str) -> tuple[bool, str]:
        marks = [c for c in response if unicodedata.category(c).startswith("P")]
        return len(marks) <= most, f"{len(marks)} marks" + (f": {''.join(marks[:10])}" if marks else "")

    return Rule("punctuation", "no punctuation" if most == 0 else f"at most {most} punctuation marks", test, phrase)


# --------------------------------------------------------------------------- start and end


def starts_rule(prefix: str, phrase: str = "") -> Rule:
    def test(response: str) -> tuple[bool, str]:
        text = response.lstrip()
        return text.startswith(prefix.strip()), f"starts {_short(text[:40])}"

    return Rule("starts_with", f"starts with {prefix.strip()!r}", test, phrase)


def ends_rule(suffix: str, phrase: str = "") -> Rule:
    """Ends with ``suffix`` (case-insensitive; trailing punctuation, quotes and spaces ignored); "?": a question."""
    trail = " \t\n.!\"'”’*"

    def test(response: str) -> tuple[bool, str]:
        text = response.rstrip(" \t\n\"'”’*")
        if suffix == "?":
            return text.endswith("?"), f"ends {_short(text[-40:])}"
        return text.rstrip(trail).lower().endswith(suffix.rstrip(trail).lower()), f"ends {_short(text[-40:])}"

    what = "ends with a question" if suffix == "?" else f"ends with {suffix.strip()!r}"
    return Rule("ends_with", what, test, phrase)


# --------------------------------------------------------------------------- structure


def json_rule(only: bool, phrase: str = "") -> Rule:
    """Valid JSON: the whole response (``only``), or the response or its one fenced block."""

    def test(response: str) -> tuple[bool, str]:
        text = response.strip() if only else strip_fence(response).strip()
        try:
            json.loads(text)
        except (ValueError, RecursionError) as exc:
            return False, f"not JSON ({str(exc)[:60]})"
        return True, "parses as JSON"

    return Rule("json", "nothing but JSON" if only else "JSON", test, phrase)


def literal_rule(kind: type, phrase: str = "") -> Rule:
    """A Python literal of ``kind`` (list, dict), read with ``ast.literal_eval`` (never run)."""

    def test(response: str) -> tuple[bool, str]:
        try:
            value = ast.literal_eval(strip_fence(response).strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return False, "not a Python literal"
        return isinstance(value, kind), f"a Python {type(value).__name__}"

    return Rule(f"python_{kind.__name__}", f"a Python {kind.__name__}", test, phrase)


def lines_rule(name: str, pattern: str, what: str, phrase: str = "") -> Rule:
    """At least two lines that match ``pattern`` (bullets, numbers)."""
    regex = re.compile(pattern)

    def test(response: str) -> tuple[bool, str]:
        n = sum(bool(regex.match(line)) for line in response.splitlines())
        return n >= 2, f"{n} such lines"

    return Rule(name, what, test, phrase)


def bullets_rule(phrase: str = "") -> Rule:
    return lines_rule("bullets", r"^\s*[-*•+]\s+\S", "a bullet-point list", phrase)


def numbered_rule(phrase: str = "") -> Rule:
    return lines_rule("numbered", r"^\s*\d+[.)]\s*\S", "numbered items", phrase)


def table_rule(columns: Sequence[str] = (), phrase: str = "") -> Rule:
    """A Markdown table (a header row, a ``---`` rule, rows) whose header names ``columns``."""

    def test(response: str) -> tuple[bool, str]:
        rule = _TABLE_RULE.search(response)
        if rule is None:
            return False, "no Markdown table"
        before = response[: rule.start()].rstrip("\n").splitlines()
        header = before[-1].lower() if before else ""
        absent = [c for c in columns if c.lower() not in header]
        return not absent, f"header lacks {', '.join(map(repr, absent))}" if absent else "a Markdown table"

    named = f" with columns {', '.join(map(repr, columns))}" if columns else ""
    return Rule("markdown_table", f"a Markdown table{named}", test, phrase)


def markup_rule(kind: str, phrase: str = "") -> Rule:
    """HTML tags, LaTeX (a LaTeX table: ``tabular``), or a fenced code block."""
    patterns = {
        "html": (_HTML_TAG, "HTML"),
        "latex": (re.compile(r"\\(?:begin|documentclass|section|textbf)\b"), "LaTeX"),
        "latex_table": (re.compile(r"\\begin\{tabular"), "a LaTeX tabular"),
        "code_block": (re.compile(r"```"), "a fenced code block"),
    }
    regex, what = patterns[kind]

    def test(response: str) -> tuple[bool, str]:
        found = regex.search(response)
        return found is not None, f"found {found.group(0)!r}" if found else "none found"

    return Rule(kind, what, test, phrase)
