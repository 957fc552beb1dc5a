"""Prompt sources of the pair builder: a local JSONL/JSON/parquet file (or a folder of them), or a hub dataset."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from j1eval.benchmarks._sources import HubError, find_files, load_hub, read_records
from j1eval.errors import InputError, SetupError
from j1train.decontam import normalise_prompt

SUFFIXES = (".jsonl", ".json", ".parquet")
HUB_REVISION = "main"


@dataclass(frozen=True)
class PromptItem:
    """One prompt to build a pair from (``answer``: the reference answer of a math prompt)."""

    item_id: str
    prompt: str
    answer: str | None
    source: str
    record: str


@dataclass
class Loaded:
    items: list[PromptItem]
    source: str  # the files read, or hf:<id>@<revision>
    n_records: int
    n_duplicates: int


def _looks_local(source: str) -> bool:
    return source.startswith(("/", "./", "../", "~")) or source.lower().endswith(SUFFIXES) or Path(source).exists()


def _rows(source: str, split: str) -> tuple[list[tuple[str, str, dict]], str]:
    """(where, location, record) rows and a description of where they came from."""
    if _looks_local(source):
        path = Path(source).expanduser()
        if path.is_dir():
            files = find_files(path, [f"*{s}" for s in SUFFIXES], recursive=True)
            if not files:
                raise InputError("no .jsonl, .json or .parquet file in this folder", path=path)
        elif path.is_file():
            files = [path]
        else:
            raise InputError("--prompts: no such file or folder", path=path)
        return [(str(f), loc, rec) for f in files for loc, rec in read_records(f)], ", ".join(map(str, files))
    try:
        rows = load_hub(source, split, HUB_REVISION)
    except HubError as exc:
        raise SetupError(
            f"--prompts {source!r} is neither a local file nor a loadable hub dataset (split {split!r}): {exc}"
        ) from None
    return [(f"hf:{source}", loc, rec) for loc, rec in rows], f"hf:{source} (split {split})"


def _text(rec: dict, name: str, where: str, loc: str, kind: str) -> str:
    if name not in rec:
        columns = ", ".join(sorted(rec)) or "none"
        raise InputError(f"no {kind} column {name!r} (columns: {columns})", path=where, record=loc, field=name)
    value = rec[name]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        got = "null" if value is None else type(value).__name__
        raise InputError(f"expected text, got {got}", path=where, record=loc, field=name)
    text = str(value)
    if not text.strip():
        raise InputError("is empty", path=where, record=loc, field=name)
    return text


def load_prompts(
    source: str, split: str = "train", prompt_column: str = "prompt", answer_column: str | None = None
) -> Loaded:
    """Every distinct prompt of ``source`` (first occurrence kept; duplicates after normalisation counted)."""
    rows, described = _rows(source, split)
    if not rows:
        raise InputError("--prompts: the source holds no records", path=described)
    items: list[PromptItem] = []
    seen: set[str] = set()
    duplicates = 0
    for where, loc, rec in rows:
        prompt = _text(rec, prompt_column, where, loc, "prompt")
        answer = _text(rec, answer_column, where, loc, "answer") if answer_column else None
        norm = normalise_prompt(prompt)
        if norm in seen:
            duplicates += 1
            continue
        seen.add(norm)
        item_id = hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:16]
        items.append(PromptItem(item_id, prompt, answer, where, loc))
    return Loaded(items, described, len(rows), duplicates)
