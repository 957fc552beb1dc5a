"""FollowBench's instructions, and the constraints each one adds to the instruction below it.

Layout (YJiangcm/FollowBench, ``data/``): one JSON list per category file
(``content_constraints.json``, ...), objects with ``example_id``, ``category``, ``source``,
``level`` (0-5), ``instruction``, ``target``, and ``answer`` in the example category. A
level-k instruction is the level-0 instruction of the same example (same ``example_id`` in
the same category) with k constraints added, one per level. FollowBench does not list the
constraints, so each one is derived by comparing level j with level j-1:

1. level j starts with level j-1: constraint j is the appended text ("appended");
2. otherwise (FollowBench often rewrites the whole instruction), the sentences of level j
   with no close match in level j-1 (word-sequence similarity below 0.5) that bring new
   words ("new sentences"); when there is none (the constraint was woven into a sentence),
   the sentence of level j with the most words absent from level j-1 ("changed sentence").

The derived text is a hint, not ground truth (a rewrite can carry a restated older
constraint): rules fire only on phrases present in the instruction being answered, and the
checker model also sees levels j-1 and j, as FollowBench's own evaluation shows its judge
the whole evolution. The example category has no level 0: its one constraint is the answer
format that its in-context examples show (``target``), checked by rule.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from j1eval.benchmarks._sources import read_json_list
from j1eval.errors import InputError

CATEGORIES = ("content", "situation", "style", "format", "example", "mixed")
TYPES = ("content", "situation", "style", "format", "example")
FILE_GLOB = "*_constraints.json"
FIELDS = ("example_id", "category", "source", "level", "instruction", "target")
LAYOUT = (
    "FollowBench's layout (a JSON list of objects with example_id, category, source, level 0-5, "
    "instruction, target; one file per category, e.g. content_constraints.json)"
)
SIMILAR = 0.5  # a sentence of level j this close to one of level j-1 is not new

_SENTENCE = re.compile(r"(?<=[^0-9\s][.!?;])(?<!\s[A-Z]\.)(?<!e\.g\.)(?<!i\.e\.)\s+|\n+")
_WORD = re.compile(r"[\w'’-]+")


@dataclass(frozen=True)
class Instruction:
    """One FollowBench record."""

    category: str  # one of CATEGORIES (the mixed file's records name their constraint types instead)
    example_id: str
    level: int
    source: str
    text: str
    target: str
    answer: str | None
    types: tuple[str, ...]  # mixed: the type of each added constraint, in order
    file: str
    record: str

    @property
    def pair_id(self) -> str:
        """The stable id of the pair built from this instruction."""
        return f"{self.category}:{self.example_id}:L{self.level}"


@dataclass(frozen=True)
class Constraint:
    """Constraint ``index`` (1..level) of an instruction, as derived from the levels below it."""

    index: int
    type: str
    text: str
    derived: str  # appended, new sentences, changed sentence, example format, unchanged, no lower text/level
    before: str  # the instruction without it (level index-1; "" when absent)
    after: str  # the instruction that added it (level index)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "type": self.type, "text": self.text, "derived": self.derived}


@dataclass(frozen=True)
class Task:
    """An instruction with constraints (level 1-5): one pair at most is built from it."""

    item: Instruction
    constraints: tuple[Constraint, ...]


def instruction_files(path: Path) -> list[Path]:
    """The FollowBench files at ``path``: the file itself, or a folder's ``*_constraints.json``."""
    if path.is_dir():
        files = sorted(path.glob(FILE_GLOB))
        if not files:
            raise InputError(f"no {FILE_GLOB} file in this folder: expected {LAYOUT}", path=path)
        return files
    if not path.is_file():
        raise InputError("no such file or folder (FollowBench's instructions)", path=path)
    return [path]


def load_instructions(path: Path) -> list[Instruction]:
    """Every record of the FollowBench file(s) at ``path``; anything in another layout is one InputError."""
    items: list[Instruction] = []
    seen: dict[tuple[str, str, int], str] = {}
    for file in instruction_files(path):
        if file.suffix.lower() != ".json":
            raise InputError(f"a {file.suffix or 'suffix-less'} file: expected {LAYOUT}", path=file)
        try:
            records = read_json_list(file)
        except InputError as exc:
            raise InputError(f"{exc}; expected {LAYOUT}") from None
        for loc, rec in records:
            item = _instruction(rec, file, loc)
            key = (item.category, item.example_id, item.level)
            if key in seen:
                where = f"example {item.example_id}, level {item.level} is also {seen[key]}"
                raise InputError(f"duplicate instruction ({where})", path=file, record=loc)
            seen[key] = f"{file.name} {loc}"
            items.append(item)
    if not items:
        raise InputError(f"no instruction: expected {LAYOUT}", path=path)
    return items


def _instruction(rec: dict[str, Any], file: Path, loc: str) -> Instruction:
    for name in FIELDS:
        if name not in rec:
            raise InputError(f"missing: expected {LAYOUT}", path=file, record=loc, field=name)
    level = rec["level"]
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 5:
        raise InputError(f"expected a whole number from 0 to 5, got {level!r}", path=file, record=loc, field="level")
    example_id = rec["example_id"]
    if isinstance(example_id, bool) or not isinstance(example_id, int | str):
        raise InputError(f"expected a number or text, got {example_id!r}", path=file, record=loc, field="example_id")
    for name in ("instruction", "source", "target", "category"):
        if not isinstance(rec[name], str):
            got = type(rec[name]).__name__
            raise InputError(f"expected text, got {got}", path=file, record=loc, field=name)
    if level and not rec["instruction"].strip():  # level 0 is blank in some FollowBench examples
        raise InputError("is empty", path=file, record=loc, field="instruction")
    category, types = _category(rec["category"], level, file, loc)
    answer = rec.get("answer")
    return Instruction(
        category=category,
        example_id=str(example_id),
        level=level,
        source=rec["source"],
        text=rec["instruction"],
        target=rec["target"],
        answer=answer if isinstance(answer, str) else None,
        types=types,
        file=str(file),
        record=loc,
    )


def _category(value: str, level: int, file: Path, loc: str) -> tuple[str, tuple[str, ...]]:
    """(category, constraint types). The category is the file's (``mixed_constraints.json``: mixed), else the
    record's; the mixed file's records name the type of each of their constraints ("content, format")."""
    parts = tuple(p.strip() for p in value.split(","))
    if not parts or not all(p in CATEGORIES for p in parts):
        expected = f"one of {', '.join(CATEGORIES)}, or a list of constraint types"
        raise InputError(f"expected {expected}, got {value!r}", path=file, record=loc, field="category")
    named = file.name.removesuffix("_constraints.json")
    category = named if named in CATEGORIES else (parts[0] if len(parts) == 1 else "mixed")
    types = parts if category == "mixed" and len(parts) == level and all(p in TYPES for p in parts) else ()
    return category, types


def derive_tasks(items: list[Instruction]) -> list[Task]:
    """A task for each instruction of level 1-5, with its constraints derived from the levels below."""
    by_example: dict[tuple[str, str], dict[int, Instruction]] = defaultdict(dict)
    for item in items:
        by_example[(item.category, item.example_id)][item.level] = item
    return [
        Task(item, constraints_of(item, by_example[(item.category, item.example_id)])) for item in items if item.level
    ]


def constraints_of(item: Instruction, levels: dict[int, Instruction]) -> tuple[Constraint, ...]:
    if item.category == "example":
        shown = example_template(item.target).replace("{answer}", "...")
        text = f"answer in the format of the in-context examples: {shown}"
        return (Constraint(1, "example", text, "example format", "", item.text),)
    out = []
    for j in range(1, item.level + 1):
        kind = item.types[j - 1] if item.types else (item.category if item.category in TYPES else "mixed")
        lower, upper = levels.get(j - 1), item if j == item.level else levels.get(j)
        if lower is None or upper is None:
            missing = j - 1 if lower is None else j
            out.append(Constraint(j, kind, "", f"no level {missing} instruction", "", item.text))
            continue
        how, text = added_text(lower.text, upper.text)
        out.append(Constraint(j, kind, text, how, lower.text, upper.text))
    return tuple(out)


def example_template(target: str) -> str:
    """The answer pattern of an example-category record, ``{answer}`` standing for the answer itself."""
    return target.replace("{instruction}\n", "").replace("{instruction}", "").replace("{{", "{").replace("}}", "}")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def added_text(before: str, after: str) -> tuple[str, str]:
    """(how, text) of what ``after`` adds to ``before`` (the method is in the module docstring)."""
    b, a = before.strip(), after.strip()
    if not b:
        return "no lower text", ""
    if a == b:
        return "unchanged", ""
    if a.startswith(b):
        return "appended", a[len(b) :].lstrip(" \t\n;,.:?!")
    old = sentences(b)
    old_words = set(words(b))
    old_lists = [words(s) for s in old]
    fresh: list[str] = []
    most: tuple[int, str] = (-1, "")
    for sentence in sentences(a):
        if sentence in old:
            continue
        toks = words(sentence)
        new = sum(t not in old_words for t in toks)
        if new > most[0]:
            most = (new, sentence)
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(toks)
        best = 0.0
        for other in old_lists:
            matcher.set_seq1(other)
            best = max(best, matcher.ratio())
        if best < SIMILAR and new >= 2:
            fresh.append(sentence)
    if fresh:
        return "new sentences", " ".join(fresh)
    return "changed sentence", most[1]
