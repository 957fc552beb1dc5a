"""The Self-Taught Evaluator preference data (Wang et al. 2024, arXiv 2408.02666) as j1eval pairs.

J1 trains on the WildChat pairs of ``facebook/Self-taught-evaluator-DPO-data`` (a gated hub
dataset). Its schema, from the dataset card and the authors' scripts
(github.com/facebookresearch/RAM, ``projects/self_taught_evaluator/src/prepare_dpo_data.py``
and ``load_dpo_data_from_hf.py``), one JSON object per row:

- ``src``: the whole judge prompt: a system prompt ("Please act as an impartial judge ..."),
  Llama-3 chat markers, then ``[User Question]\\n{question}\\n\\n[The Start of Assistant A's
  Answer]\\n{response A}\\n[The End of Assistant A's Answer]\\n\\n[The Start of Assistant B's
  Answer]\\n{response B}\\n[The End of Assistant B's Answer]``;
- ``tgt_chosen``: a judgement whose verdict (``[[A]]`` or ``[[B]]``) names the better response;
- ``tgt_rejected``: a judgement with the wrong verdict, a tie or none;
- ``instruction``: the WildChat ``conversation_hash`` that stands in ``src`` for the question
  (the card tells users to replace it by the WildChat-1M prompt text);
- ``id`` (optional): the row's id.

Assumptions, since the rows themselves could not be read here (gated, no hub access): the
markers are exactly as in the authors' eval prompt above; the label is read from
``tgt_chosen``'s verdict. Several rows share one ``src`` (several judgement pairs per response
pair): they become one pair. When the question is still the hash, pass ``prompts``
(hash -> text, e.g. from :func:`wildchat_prompts`) to restore it; otherwise the pair keeps the
hash as its prompt and ``meta["prompt_resolved"]`` is False.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from j1eval.benchmarks._sources import HubError, Record, field, find_files, load_hub, read_records
from j1eval.errors import InputError, SetupError
from j1eval.types import Pair

HUB_ID = "facebook/Self-taught-evaluator-DPO-data"
HUB_REVISION = "main"
BENCH = "ste"
QUESTION = "[User Question]"
A_START, A_END = "[The Start of Assistant A's Answer]", "[The End of Assistant A's Answer]"
B_START, B_END = "[The Start of Assistant B's Answer]", "[The End of Assistant B's Answer]"


def _strip_newline(text: str) -> str:
    """``text`` without the one newline each marker adds on either side."""
    if text.startswith("\n"):
        text = text[1:]
    if text.endswith("\n"):
        text = text[:-1]
    return text


def split_src(src: str, where: object, loc: str) -> tuple[str, str, str]:
    """(question, response A, response B) of a judge prompt in the Self-Taught Evaluator layout."""
    q = src.find(QUESTION)
    a0 = src.find(A_START, q + 1)
    b1 = src.rfind(B_END)
    b0 = src.rfind(B_START, 0, b1 if b1 >= 0 else None)
    a1 = src.rfind(A_END, 0, b0 if b0 >= 0 else None)
    if min(q, a0, a1, b0, b1) < 0 or not q < a0 < a1 < b0 < b1:
        missing = [m for m, i in ((QUESTION, q), (A_START, a0), (A_END, a1), (B_START, b0), (B_END, b1)) if i < 0]
        what = f"lacks {missing[0]!r}" if missing else "has its markers out of order"
        raise InputError(f"not a Self-Taught Evaluator judge prompt: it {what}", path=where, record=loc, field="src")
    question = src[q + len(QUESTION) : a0].strip("\n")
    return question, _strip_newline(src[a0 + len(A_START) : a1]), _strip_newline(src[b0 + len(B_START) : b1])


def verdict_label(judgement: str, where: object, loc: str, name: str = "tgt_chosen") -> int:
    """1 when the judgement's verdict is ``[[A]]``, 2 when ``[[B]]``; anything else is an input error."""
    a, b = "[[A]]" in judgement, "[[B]]" in judgement
    if a == b:
        found = "both [[A]] and [[B]]" if a else "neither [[A]] nor [[B]]"
        raise InputError(f"expected one verdict, found {found}", path=where, record=loc, field=name)
    return 1 if a else 2


def _records(path_or_hub_id: str, split: str) -> list[tuple[str, str, Record]]:
    """(source, location, record) rows: source is the file or ``hf:<id>``, location the line or row."""
    path = Path(path_or_hub_id).expanduser()
    if path.is_dir():
        files = find_files(path, ["*.jsonl", "*.json", "*.parquet"], recursive=True)
        if not files:
            raise InputError("no .jsonl, .json or .parquet file in this folder", path=path)
        return [(str(f), loc, rec) for f in files for loc, rec in read_records(f)]
    if path.exists() or path.suffix.lower() in (".jsonl", ".json", ".parquet"):
        if not path.is_file():
            raise InputError("no such file", path=path)
        return [(str(path), loc, rec) for loc, rec in read_records(path)]
    try:
        rows = load_hub(path_or_hub_id, split, HUB_REVISION)
    except HubError as exc:
        raise SetupError(
            f"Self-Taught Evaluator data {path_or_hub_id!r} is neither a local file nor reachable on the hub ({exc}); "
            f"download {HUB_ID} (data.jsonl) and pass its path"
        ) from None
    return [(f"hf:{path_or_hub_id}", loc, rec) for loc, rec in rows]


def load_ste_pairs(
    path_or_hub_id: str,
    split: str = "train",
    limit: int | None = None,
    prompts: Mapping[str, str] | None = None,
) -> list[Pair]:
    """Pairs from the Self-Taught Evaluator DPO data: a local JSONL/JSON/parquet file or folder, or a hub id.

    ``prompts`` maps WildChat conversation hashes to prompt text (see the module docstring).
    Bad records raise :class:`InputError` naming the file, the record and the field.
    """
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    rows = _records(path_or_hub_id, split)
    pairs: list[Pair] = []
    seen: dict[str, int] = {}
    for where, loc, rec in rows:
        src = field(rec, "src", where, loc)
        chosen = field(rec, "tgt_chosen", where, loc)
        field(rec, "tgt_rejected", where, loc)
        instruction = field(rec, "instruction", where, loc, nullable=True) if "instruction" in rec else None
        question, resp_a, resp_b = split_src(src, where, loc)
        label = verdict_label(chosen, where, loc)
        if not resp_a.strip() or not resp_b.strip():
            raise InputError("a response is empty", path=where, record=loc, field="src")
        resolved = True
        if instruction and question.strip() == instruction.strip():
            if prompts is not None and instruction in prompts:
                question = prompts[instruction]
            else:
                resolved = False
        pair_id = f"{BENCH}:{hashlib.sha256(src.encode('utf-8')).hexdigest()[:16]}"
        if pair_id in seen:
            first = pairs[seen[pair_id]]
            if first.label != label:
                raise InputError(
                    f"the same judge prompt was labelled {first.label} before",
                    path=where,
                    record=loc,
                    field="tgt_chosen",
                )
            first.meta["rows"] += 1  # type: ignore[index]
            continue
        if limit is not None and len(pairs) >= limit:
            break
        meta = {
            "source": where,
            "record": loc,
            "id": rec.get("id"),
            "instruction": instruction,
            "prompt_resolved": resolved,
            "rows": 1,
        }
        seen[pair_id] = len(pairs)
        pairs.append(Pair(pair_id, BENCH, "wildchat", question, resp_a, resp_b, label, meta))
    return pairs


def wildchat_prompts(path_or_hub_id: str, split: str = "train") -> dict[str, str]:
    """WildChat-1M conversation hash -> the prompt of its last user turn, as the dataset card prescribes."""
    rows = _records(path_or_hub_id, split)
    out: dict[str, str] = {}
    for where, loc, rec in rows:
        key = field(rec, "conversation_hash", where, loc)
        turn = field(rec, "turn", where, loc, int)
        conversation = field(rec, "conversation", where, loc, list)
        index = 2 * (turn - 1)
        if not 0 <= index < len(conversation) or not isinstance(conversation[index], dict):
            raise InputError(f"turn {turn} is not in the conversation", path=where, record=loc, field="turn")
        out[key] = str(conversation[index].get("content", ""))
    return out
