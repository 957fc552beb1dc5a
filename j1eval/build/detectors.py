"""Code-checkable rules found in a constraint's own words (lengths, counts, keywords, structure).

Each detector is a regular expression over the constraint's text and a builder of the rule
it states. Scope decides where a count or a start/end applies: under "each/every/per/no
<unit>" it applies to each sentence, paragraph or line, and under any other unit ("each
section", "each title") it is left to the checker model; an unscoped count applies to the
whole response only when its clause names the response (response, answer, reply, output,
summary, story, essay, poem, proposal; not "the translated text", which may be a part of
it). Words tied to a position ("in the second sentence") are left to the model too. A
constraint is decided by its rules alone when, their phrases taken out, at most ``SLACK``
content word remains; otherwise the checker model is asked as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from j1eval.build import checks as C

NUMBERS = {
    "a single": 1, "single": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "one hundred": 100, "a hundred": 100,
    "hundred": 100,
}  # fmt: skip
NUM = r"(?:\d+|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + r")"
_Q, _QE = "[\"'“‘`]", "[\"'”’`]"
_ITEM = rf"{_Q}[^\"'“”‘’`\n]{{1,60}}?{_QE}"
ITEMS = rf"(?P<items>{_ITEM}(?:\s*(?:,|,?\s*(?:or|and|nor))\s*{_ITEM})*)"
_NEG = r"(?:do not|don't|never|avoid(?:ing)?|without|must not|should not|shouldn't|cannot|can't|not)"
_OPS = [
    (r"no more than|not more than|(?:does |do |must |should |shall )?not (?:to )?exceed(?:ing)?|doesn't exceed|"
     r"not exceeding|at most|a maximum of|maximum of|max(?:imum)?|up to|limited to|confined to|within|"
     r"no longer than", "max"),
    (r"less than|fewer than|under|below|shorter than", "lt"),
    (r"at least|a minimum of|minimum of|no less than|no fewer than", "min"),
    (r"more than|over|longer than", "gt"),
    (r"exactly|precisely|only", "eq"),
]  # fmt: skip
_OP = "|".join(f"(?P<{op}>{words})" for words, op in _OPS)
_UNIT_BEFORE = re.compile(
    r"\b(?:(?:each|every|per)\s+(?:single\s+|individual\s+)?(?P<u>[a-z]+)|"
    r"(?:no|all)\s+(?:the\s+)?(?P<v>sentence|paragraph|line|section|point|step|heading|entry|description)s?\b)",
    re.I,
)
_UNIT_AFTER = re.compile(r"^\s*(?:per|in each|for each|in every)\s+(?P<u>[a-z]+)", re.I)
_RESPONSE = re.compile(r"\b(?:response|answer|reply|summar\w*|output|story|essay|poem|proposal)\b", re.I)
_POSITION = re.compile(r"\b(?:first|second|third|fourth|fifth|last|final|opening)\s+(?:sentence|paragraph|line)", re.I)
SLACK = 1
_FILLER_WORDS = (
    "a an the and or but also additionally furthermore moreover lastly besides finally please ensure make sure that "
    "your you it its this these those should must be is are in on of to with for as by at from all any each every "
    "per no not do don't never only just keep use using write response answer reply output text translated "
    "translation summary summarization result words word sentence sentences paragraph paragraphs contain contains "
    "containing appear appears include includes including remember there following format structure overall "
    "entire whole whose which total strictly exactly let have has need needs can will maintain constraint "
    "morphological length limitation limit adhere respect rule requirement long"
)
FILLER = frozenset(_FILLER_WORDS.split())


@dataclass(frozen=True)
class Found:
    """A rule stated by the constraint, and where (``span``) its words are."""

    rule: C.Rule
    span: tuple[int, int]


Builder = Callable[[re.Match[str], str, str], "C.Rule | None"]  # (match, clause before the match, clause)


def to_int(text: str) -> int:
    t = text.lower().strip()
    return int(t) if t.isdigit() else NUMBERS[t]


def quoted(text: str) -> list[str]:
    return [s for s in re.findall(rf"{_Q}([^\"'“”‘’`\n]{{1,60}}?){_QE}", text) if s.strip()]


def _unit(m: re.Match[str], before: str, clause: str) -> str | None:
    """The unit a count applies to: sentence/paragraph/line, "" (the whole response), None (not checkable)."""
    units = list(_UNIT_BEFORE.finditer(before))
    after = _UNIT_AFTER.match(clause[len(before) + len(m.group(0)) :])
    name = ""
    if after:
        name = after.group("u").lower()
    elif units:
        name = (units[-1].group("u") or units[-1].group("v")).lower()
    name = name[:-1] if name.endswith("s") else name
    if name in C.UNITS:
        return name
    if name:
        return None
    return "" if _RESPONSE.search(clause) else None


def _count(m: re.Match[str], before: str, clause: str) -> C.Rule | None:
    what = m.group("what").lower().rstrip("s") + "s"
    unit = _unit(m, before, clause)
    if unit is None or (unit and what == f"{unit}s"):
        return None
    g = m.groupdict()
    if g.get("m"):
        op, n, hi = "range", to_int(g["n"]), to_int(g["m"])
    else:
        op = next((k for _, k in _OPS if g.get(k)), "eq")
        n, hi = to_int(g["n"]), 0
        if g.get("neg"):
            op = {"gt": "max", "lt": "min"}.get(op, op)
    if what == "words" and op == "eq" and not g.get("eq") and "-" not in m.group(0):
        return None  # "in 100 words" is a rough length
    return C.count_rule(what, op, n, unit or None, hi, m.group(0))


def _words(present: bool) -> Builder:
    def build(m: re.Match[str], before: str, clause: str) -> C.Rule | None:
        items = quoted(m.group("items"))
        if not items or _POSITION.search(clause):
            return None
        if present and (re.search(rf"\b{_NEG}\b[^,;]*$", before, re.I) or _UNIT_BEFORE.search(before)):
            return None
        return C.word_rule(items, present, m.group(0))

    return build


def _first_item(make: Callable[[str, str], C.Rule], scoped: bool = False) -> Builder:
    def build(m: re.Match[str], before: str, clause: str) -> C.Rule | None:
        items = quoted(m.group("items"))
        if not items or (scoped and _UNIT_BEFORE.search(before)):
            return None
        return make(items[-1], m.group(0))

    return build


def _suffix(m: re.Match[str], before: str, clause: str) -> C.Rule | None:
    if re.search(r"\bin\s+(?:the|your|each)\s+(?!response|answer|reply|text|output)\w+", clause, re.I):
        return None  # "avoid -ing words in the instructions": a part of the response only
    return C.suffix_rule(m.group("suf").lower(), m.group(0))


def _table(m: re.Match[str], before: str, clause: str) -> C.Rule | None:
    if re.search(r"latex", clause, re.I):
        return C.markup_rule("latex_table", m.group(0))
    if re.search(r"html", clause, re.I):
        return None
    named = re.search(rf"columns?\s*(?::|with|named|titled|labell?ed)?\s*{ITEMS}", clause, re.I)
    return C.table_rule(quoted(named.group("items")) if named else (), m.group(0))


def _fixed(make: Callable[[str], C.Rule], unless: str = "") -> Builder:
    def build(m: re.Match[str], before: str, clause: str) -> C.Rule | None:
        return None if unless and re.search(unless, clause, re.I) else make(m.group(0))

    return build


_COUNT_WHAT = r"(?P<what>words?|sentences?|paragraphs?)\b(?!-)"
DETECTORS: list[tuple[str, Builder]] = [
    (rf"\b(?P<n>{NUM})\s*(?:-|–|to)\s*(?P<m>{NUM})[\s-]+{_COUNT_WHAT}", _count),
    (rf"\bbetween\s+(?P<n>{NUM})\s+and\s+(?P<m>{NUM})\s+{_COUNT_WHAT}", _count),
    (
        rf"(?:\b(?P<neg>not\s+(?:contain|have|include|use|be)\s+))?\b(?:{_OP})\s+(?P<n>{NUM})\s+{_COUNT_WHAT}"
        r"(?:\s+long)?",
        _count,
    ),
    (
        rf"(?<![\w-])(?P<n>{NUM})[\s-]{_COUNT_WHAT}(?!\s+(?:(?-i:in\s+[A-Z])|that|which|about|with|from|for|of)\b)",
        lambda m, b, c: None if re.search(rf"(?:\b(?:{_OP}|to|and)|[-–])\s*$", b, re.I) else _count(m, b, c),
    ),
    (
        rf"\b{_NEG}\s+(?:(?:use|using|mention(?:ing)?|include|including|say|saying|write|writing|output)\s+)?"
        rf"(?:(?:any|the)\s+)?(?:(?:words?|terms?|phrases?|expressions?)\s+)?(?:like\s+|such as\s+)?{ITEMS}",
        _words(False),
    ),
    (
        rf"(?:\b(?:the\s+)?(?:words?|terms?|phrases?)\s+)?{ITEMS}\s+(?:should|must|may|can|does|will|is|are)\s*"
        r"(?:not|n't|never)\s+(?:be\s+)?(?:appear|used|included|mentioned|present)",
        _words(False),
    ),
    (
        rf"\b(?:contains?|includes?|uses?|mention|feature|incorporate)\s+(?:(?:the|a|an)\s+)?"
        rf"(?:(?:words?|terms?|phrases?|keywords?)\s+)?{ITEMS}",
        _words(True),
    ),
    (rf"{ITEMS}\s+(?:must\s+|should\s+|has to\s+|needs to\s+)?(?:appears?|be used|be included)\b", _words(True)),
    (
        rf"\btranslat\w*\s+(?:the\s+(?:words?|phrases?|terms?)\s+)?{_ITEM}\s+(?:in)?to\s+{ITEMS}",
        _first_item(C.contains_rule),
    ),
    (
        rf"\benclose\s+(?:the\s+)?(?:(?:words?|terms?|phrases?)\s+)?{ITEMS}\s+in\s+(?:square\s+)?brackets",
        _first_item(lambda w, p: C.contains_rule(f"[{w}]", p)),
    ),
    (
        rf"\b(?:avoid\w*|without|not\s+use|never\s+use|no|not\s+contain\w*|don't\s+use)\b[^.;]{{0,60}}?"
        rf"\bsuffix(?:es)?\s+(?:of\s+)?{_Q}?-?(?P<suf>[a-z]{{2,5}}){_QE}?",
        _suffix,
    ),
    (
        r"\b(?:all\s+(?:the\s+)?(?:letters|words|text|characters)\s+(?:are\s+|be\s+|should\s+be\s+|must\s+be\s+|"
        r"in\s+)?lower\s?case|(?:in|use|using|write\s+in)\s+(?:all\s+)?lower\s?case)\b",
        _fixed(C.lowercase_rule),
    ),
    (
        r"\b(?:do not|don't|never|without|avoid)\s+(?:use\s+|using\s+)?(?:any\s+)?punctuation",
        _fixed(lambda p: C.punctuation_rule(0, p)),
    ),
    (
        r"\b(?:begin|start|commence|open)s?\s+(?:(?:your|the)\s+(?:response|answer|reply|summary|translation|"
        rf"output|text|story|letter)\s+)?with\s+(?:the\s+(?:word|phrase|sentence|line)\s+)?{ITEMS}",
        _first_item(C.starts_rule, scoped=True),
    ),
    (rf"\b(?:first|firstly)\s+(?:output|write|say|print)\s+{ITEMS}", _first_item(C.starts_rule, scoped=True)),
    (rf"\badd\s+{ITEMS}\s+at\s+the\s+(?:beginning|start)", _first_item(C.starts_rule, scoped=True)),
    (
        r"\b(?:end|finish|conclude)s?\s+(?:(?:your|the)\s+(?:response|answer|reply|summary|translation|output|text|"
        rf"story|letter|speech|introduction)\s+)?with\s+(?:the\s+(?:word|phrase|sentence|line)\s+)?{ITEMS}",
        _first_item(C.ends_rule, scoped=True),
    ),
    (rf"\b(?:say|write|add|output)\s+{ITEMS}\s+at\s+the\s+end", _first_item(C.ends_rule, scoped=True)),
    (
        r"\b(?:end|ending|finish|conclude|concluding)\s+(?:(?:your|the)\s+(?:response|answer|reply|summary|text|"
        r"story|letter|speech|introduction)\s+)?with\s+an?\s+(?:rhetorical\s+|open\s+|thought-provoking\s+)?question",
        lambda m, b, c: None if _UNIT_BEFORE.search(b) else C.ends_rule("?", m.group(0)),
    ),
    (
        r"\b(?:do not|don't)\s+\w+\s+anything\s+(?:else\s+)?(?:except|but|other than|besides)\s+(?:the\s+)?json",
        _fixed(lambda p: C.json_rule(True, p)),
    ),
    (
        r"\b(?:in|as|using|into)\s+(?:a\s+|the\s+|valid\s+)*json\b|\bjson\s+(?:format|object|structure)\b",
        _fixed(lambda p: C.json_rule(False, p), unless=r"anything\s+(?:else\s+)?(?:except|but)"),
    ),
    (r"\bpython\s+list\b", _fixed(lambda p: C.literal_rule(list, p))),
    (r"\bpython\s+dict(?:ionary)?\b", _fixed(lambda p: C.literal_rule(dict, p))),
    (r"\bbullet(?:ed)?(?:[- ]?points?)?\b|\bbullets\b", _fixed(C.bullets_rule)),
    (r"\bnumber(?:ed)?\s+(?:markers?|list)\b", _fixed(C.numbered_rule)),
    (
        r"\b(?:in|as|into|using|with|creat\w*|construct\w*|draw\w*|mak\w*|present\w*|provid\w*|organi[sz]\w*|"
        r"build\w*|format\w*)\s+"
        r"(?:it\s+|this\s+|your\s+\w+\s+)?(?:a|the|an)\s+(?:\w+\s+)?table\b|\btable\s+format\b|\btabular\b",
        _table,
    ),
    (r"\b(?:in|as|using)\s+(?:an?\s+)?html\b|\bhtml\s+format\b", _fixed(lambda p: C.markup_rule("html", p))),
    (
        r"\b(?:in|as|using)\s+(?:a\s+)?latex\b|\blatex\s+format\b",
        _fixed(lambda p: C.markup_rule("latex", p), unless=r"\btable\b"),
    ),
    (r"\bcode\s+block\b", _fixed(lambda p: C.markup_rule("code_block", p))),
]
_COMPILED = [(re.compile(pattern, re.I), build) for pattern, build in DETECTORS]
_CLAUSE_END = re.compile(r"(?<![0-9])[.;!?](?=\s|$)|\n")


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    begin = max((m.end() for m in _CLAUSE_END.finditer(text, 0, start)), default=0)
    stop = _CLAUSE_END.search(text, end)
    return begin, stop.start() if stop else len(text)


def find_rules(text: str) -> list[Found]:
    """The rules ``text`` states, each once, in the order their words appear."""
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for regex, build in _COMPILED:
        for m in regex.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue  # words already read by an earlier detector
            begin, stop = _clause(text, m.start(), m.end())
            rule = build(m, text[begin : m.start()], text[begin:stop])
            if rule is not None and all(rule.description != f.rule.description for f in found):
                found.append(Found(rule, m.span()))
                taken.append(m.span())
    return sorted(found, key=lambda f: f.span)


def covered(text: str, found: list[Found]) -> bool:
    """Whether ``found`` reads all of ``text``: at most SLACK content words left once its phrases are out."""
    if not found:
        return False
    rest = list(text)
    for f in found:
        rest[f.span[0] : f.span[1]] = [" "] * (f.span[1] - f.span[0])
    left = [w for w in re.findall(r"[a-z][a-z'-]+", "".join(rest).lower()) if w not in FILLER and w not in NUMBERS]
    return len(left) <= SLACK
