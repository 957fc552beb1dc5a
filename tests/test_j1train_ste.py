"""The Self-Taught Evaluator DPO data loader, on a local file in the hub dataset's schema."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from j1eval.errors import InputError, SetupError
from j1train.ste import load_ste_pairs, wildchat_prompts

FIXTURE = "tests/fixtures/j1train/ste_dpo_sample.jsonl"
HASH = "8c1d3b9a4e5f60718293a4b5c6d7e8f9"


def rows() -> list[dict]:
    with open(FIXTURE, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def write_jsonl(path, records) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def test_pairs_responses_and_labels_come_from_the_judge_prompt_and_the_chosen_verdict():
    pairs = load_ste_pairs(FIXTURE)
    # rows 1 and 2 share one judge prompt: one pair, counted twice
    assert [p.label for p in pairs] == [1, 2, 2]
    assert pairs[0].meta["rows"] == 2 and pairs[1].meta["rows"] == 1
    haiku, swapped, code = pairs
    assert haiku.response_1.startswith("Here is a haiku about autumn:\n\nCrisp leaves")
    assert haiku.response_1.endswith("the year exhales slow")  # the marker's newline is not part of it
    assert haiku.response_2.endswith("the year breathes anew")
    assert (swapped.response_1, swapped.response_2) == (haiku.response_2, haiku.response_1)
    assert code.prompt == "Write a Python function that adds two numbers."
    assert "return a + b" in code.response_2 and code.response_2.startswith("```python\n")
    assert {p.bench for p in pairs} == {"ste"} and len({p.pair_id for p in pairs}) == 3
    # the published rows carry a WildChat hash for the question: kept, and flagged
    assert haiku.prompt == HASH and haiku.meta["prompt_resolved"] is False
    assert code.meta["prompt_resolved"] is True
    assert haiku.meta["record"] == "line 1" and haiku.meta["id"] == "0f1e"


def test_limit_and_restoring_wildchat_prompts(tmp_path):
    assert len(load_ste_pairs(FIXTURE, limit=2)) == 2
    wildchat = write_jsonl(
        tmp_path / "wildchat.jsonl",
        [
            {
                "conversation_hash": HASH,
                "turn": 2,
                "conversation": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                    {"role": "user", "content": "Write a haiku about autumn."},
                    {"role": "assistant", "content": "..."},
                ],
            }
        ],
    )
    prompts = wildchat_prompts(wildchat)
    assert prompts == {HASH: "Write a haiku about autumn."}
    pairs = load_ste_pairs(FIXTURE, prompts=prompts)
    assert pairs[0].prompt == "Write a haiku about autumn." and pairs[0].meta["prompt_resolved"] is True


def test_parquet_and_folder_read_like_jsonl(tmp_path):
    pq.write_table(pa.Table.from_pylist(rows()), tmp_path / "train.parquet")
    from_parquet = load_ste_pairs(str(tmp_path / "train.parquet"))
    from_folder = load_ste_pairs(str(tmp_path))
    expected = load_ste_pairs(FIXTURE)
    for got in (from_parquet, from_folder):
        assert [(p.pair_id, p.prompt, p.response_1, p.response_2, p.label) for p in got] == [
            (p.pair_id, p.prompt, p.response_1, p.response_2, p.label) for p in expected
        ]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda r: r.pop("tgt_chosen"), "tgt_chosen", "missing"),
        (lambda r: r.update(tgt_chosen="A is better [[A]] or maybe [[B]]"), "tgt_chosen", "both [[A]] and [[B]]"),
        (lambda r: r.update(tgt_chosen="no verdict"), "tgt_chosen", "neither"),
        (lambda r: r.update(src="[User Question]\nhi\n[The Start of Assistant A's Answer]\nx"), "src", "lacks"),
        (lambda r: r.update(src=42), "src", "expected str"),
    ],
)
def test_bad_records_name_file_record_and_field(tmp_path, change, field, words):
    records = rows()
    change(records[2])
    path = write_jsonl(tmp_path / "bad.jsonl", records)
    with pytest.raises(InputError) as err:
        load_ste_pairs(path)
    message = str(err.value)
    assert path in message and "record line 3" in message and f"field '{field}'" in message and words in message
    assert "\n" not in message


def test_conflicting_labels_for_one_judge_prompt_are_an_error(tmp_path):
    records = rows()
    records[1]["tgt_chosen"] = "B is better [[B]]"
    with pytest.raises(InputError, match="record line 2.*labelled 1 before"):
        load_ste_pairs(write_jsonl(tmp_path / "bad.jsonl", records))


def test_hub_id_without_hub_access_is_one_clear_line():
    with pytest.raises(SetupError) as err:
        load_ste_pairs("facebook/Self-taught-evaluator-DPO-data")
    assert "neither a local file nor reachable" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="no such file"):
        load_ste_pairs("missing/data.jsonl")
