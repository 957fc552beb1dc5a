"""Hostile conditions, second round (issue #22): j1train's config and data validation, pipes and FIFOs,
one UTF-8/BOM rule in both judgment readers, negative seeds, malformed URLs, symlink loops, and reuse
keyed on the content of ``judgments.jsonl``.

Each refusal: its exit code, one line naming the file/record/field, no new file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import JUDGEBENCH_FILE, SHARED_DATA, require

from j1eval.cli import main
from j1train import cli as train_cli
from j1train.config import load_config

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 3


def one_line(err: str, code: int, expected: int, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert code == expected, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and "unexpected" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(SHARED_DATA / JUDGEBENCH_FILE)
    out = tmp_path_factory.mktemp("inputs") / "run"
    assert main([*RUN, "--out", str(out)]) == 0
    return out


RUN = ["run", "--judge", "first", "--bench", "judgebench", "--limit", str(LIMIT), "--data-dir", str(SHARED_DATA)]
RUN += ["--no-progress"]


# --------------------------------------------------------------------------- j1train config

#: Each value the issue found accepted, and the words of its one line. The model folder and the
#: pairs file do not exist: a bad value is named by its key before either is looked at.
BAD_VALUES = {
    "learning_rate: '1e-6'": ("learning_rate", "expected a number, got text"),
    "learning_rate: .nan": ("learning_rate", "finite"),
    "learning_rate: -1": ("learning_rate", "must be above 0"),
    "learning_rate: .inf": ("learning_rate", "finite"),
    "rewards: {verdict: -1}": ("rewards.verdict", "at least 0"),
    "rewards: {verdict: .nan}": ("rewards.verdict", "finite"),
    "beta: -0.5": ("beta", "at least 0"),
    "lora: {r: 0}": ("lora.r", "at least 1"),
    "lora: {r: '16'}": ("lora.r", "expected a whole number, got text"),
    "lora: {dropout: 2.0}": ("lora.dropout", "below 1"),
    "temperature: -1": ("temperature", "above 0"),
    "top_p: 2": ("top_p", "at most 1"),
    "seed: x": ("seed", "expected a whole number"),
    "seed: -1": ("seed", "at least 0"),
    "num_train_epochs: -1": ("num_train_epochs", "above 0"),
    "per_device_train_batch_size: 4.0": ("per_device_train_batch_size", "expected a whole number, got 4.0"),
    "num_generations: '5'": ("num_generations", "expected a whole number, got text"),
    "limit: x": ("limit", "expected a whole number"),
    "use_vllm: 'yes'": ("use_vllm", "expected true or false"),
    "eval_benches: &b {k: 1}": ("eval_benches", "expected a list of names"),
    "subsets: &a {k: 1}": ("subsets", "expected a list of names"),
    "seed: 1\nseed: 2": ("seed", "given twice"),
    # Values checked with TRL or against another key: still before the model folder and the data.
    "trl: {no_such_field: 1}": ("trl.no_such_field", "unknown GRPOConfig field"),
    "per_device_train_batch_size: 3": ("per_device_train_batch_size", "cannot hold whole pairs"),
    "format: pointwise": ("rewards", "drop 'consistency'"),
}


def write_config(folder: Path, extra: str) -> Path:
    path = folder / "c.yaml"
    path.write_text(f"model: ./no/such/model\ntrain_pairs: ./no/such/pairs.jsonl\n{extra}\n")
    return path


@pytest.mark.parametrize("check", [True, False])
@pytest.mark.parametrize("extra", sorted(BAD_VALUES))
def test_a_bad_config_value_is_one_line_naming_its_key(extra: str, check: bool, tmp_path: Path, capsys) -> None:
    key, words = BAD_VALUES[extra]
    config = write_config(tmp_path, extra)
    code = train_cli.main(["grpo", "--config", str(config), *(["--check"] if check else [])])
    err = capsys.readouterr().err
    needle = f"field '{key}'" if "twice" not in words else f"key '{key}' given twice"
    one_line(err, code, 2, str(config), needle, words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_yaml_numbers_in_any_notation_are_numbers(tmp_path: Path) -> None:
    text = "learning_rate: 1e-6\nbeta: 5E-3\ntemperature: 1\ntop_p: .9\nrewards: {verdict: 1, consistency: 2.5e-1}\n"
    path = tmp_path / "c.yaml"
    path.write_text("model: m\ntrain_pairs: p.jsonl\n" + text)
    config = load_config(path)
    assert config.learning_rate == 1e-6 and isinstance(config.learning_rate, float)
    assert config.beta == 5e-3 and config.top_p == 0.9
    assert config.temperature == 1.0 and isinstance(config.temperature, float)
    assert config.rewards == {"verdict": 1.0, "consistency": 0.25}
    assert load_config(write_config(tmp_path, "seed: 10")).seed == 10  # a whole number stays an int


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_config_that_is_not_utf8_is_one_line(encoding: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes("model: café\ntrain_pairs: p.jsonl\n".encode(encoding))
    code = train_cli.main(["grpo", "--config", str(path), "--check"])
    one_line(capsys.readouterr().err, code, 2, str(path), "not UTF-8")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"prompt": " ", "response_1": "a", "response_2": "b", "label": 1}, "prompt"),
        ({"prompt": "q", "response_1": "", "response_2": "b", "label": 1}, "response_1"),
        ({"prompt": "q", "response_1": "same", "response_2": "same ", "label": 2}, "response_1 and response_2"),
    ],
)
def test_a_training_pair_that_teaches_nothing_is_refused(
    record: dict, field: str, tmp_path: Path, capsys, tiny: Path
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    good = {"prompt": "q", "response_1": "a", "response_2": "b", "label": 1}
    pairs.write_text(json.dumps(good) + "\n" + json.dumps(record) + "\n")
    config = tmp_path / "c.yaml"
    config.write_text(f"model: {tiny}\ntrain_pairs: {pairs}\nnum_generations: 2\nper_device_train_batch_size: 4\n")
    code = train_cli.main(["grpo", "--config", str(config), "--check"])
    one_line(capsys.readouterr().err, code, 2, str(pairs), "record line 2", f"field '{field}'")


def test_benchmark_pairs_that_teach_nothing_are_dropped_with_a_count(tmp_path: Path, capsys) -> None:
    """Third-party data cannot be fixed by the user: its degenerate pairs are dropped and counted, not refused."""
    from j1train.data import load_training_pairs

    require(SHARED_DATA / JUDGEBENCH_FILE)
    records = [json.loads(line) for line in (SHARED_DATA / JUDGEBENCH_FILE).read_text().splitlines()[:4]]
    records[1]["response_B"] = records[1]["response_A"] + "  "  # identical once stripped
    records[2]["question"] = " "
    (tmp_path / JUDGEBENCH_FILE).parent.mkdir(parents=True)
    (tmp_path / JUDGEBENCH_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    pairs = load_training_pairs("bench:judgebench", data_dir=tmp_path)
    assert [p.pair_id for p in pairs] == [records[0]["pair_id"], records[3]["pair_id"]]
    assert "bench:judgebench: dropped 2 pairs with an empty prompt or response" in capsys.readouterr().out


def test_a_bug_in_j1train_is_one_line_with_the_traceback_kept(tmp_path: Path, capsys, monkeypatch) -> None:
    import j1train.config

    def broken(path: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.delenv("J1EVAL_TRACEBACK", raising=False)
    monkeypatch.setattr(j1train.config, "load_config", broken)
    code = train_cli.main(["grpo", "--config", str(tmp_path / "c.yaml"), "--check"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: unexpected RuntimeError: boom"), err
    kept = Path(lines[0].rsplit(" in ", 1)[1].rstrip(")"))
    assert "RuntimeError: boom" in kept.read_text()
    kept.unlink()


#: What only the tokenizer can tell (prompt lengths): --check says it as training does, before any weights load.
AFTER_TOKENIZER = {
    "no prompt fits": (5, ["short", "brief"], "field 'max_prompt_length'", "no pair fits max_prompt_length 5"),
    "too few left": (600, ["short", "long " * 400], "field 'train_pairs'", "1 training pairs left after the prompt"),
}


@pytest.mark.parametrize("check", [True, False])
@pytest.mark.parametrize("case", sorted(AFTER_TOKENIZER))
def test_check_runs_the_checks_training_runs(case: str, check: bool, tmp_path: Path, capsys, tiny: Path, monkeypatch):
    import transformers

    def no_weights(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model loaded before the prompt-length checks")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_weights)
    max_len, prompts, *needles = AFTER_TOKENIZER[case]
    pairs = tmp_path / "pairs.jsonl"
    records = [{"prompt": q, "response_1": "a", "response_2": "b", "label": 1} for q in prompts]
    pairs.write_text("".join(json.dumps(r) + "\n" for r in records))
    config = tmp_path / "c.yaml"
    config.write_text(
        f"model: {tiny}\ntrain_pairs: {pairs}\nnum_generations: 2\nper_device_train_batch_size: 8\n"
        f"max_prompt_length: {max_len}\noutput_dir: {tmp_path / 'out'}\n"
    )
    code = train_cli.main(["grpo", "--config", str(config), *(["--check"] if check else [])])
    captured = capsys.readouterr()
    one_line(captured.err, code, 2, str(config), *needles)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("url", ["http://[::1", "http://h:%00/v1", "http://h:1/v1\n"])
def test_j1train_data_with_a_malformed_url_is_one_line(url: str, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "hi"}\n')
    argv = ["data", "--prompts", str(prompts), "--generator", f"openai:m@{url}", "--out", str(tmp_path / "out")]
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "j1train", *argv], capture_output=True, text=True, cwd=ROOT
    )
    one_line(proc.stderr, proc.returncode, 2, "not a valid URL" if "\n" not in url else "control character")
    assert not (tmp_path / "out").exists()


def test_j1train_data_with_a_negative_seed_is_one_line(tmp_path: Path, capsys) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "hi"}\n')
    argv = ["data", "--prompts", str(prompts), "--generator", "openai:m@http://127.0.0.1:9/v1", "--seed", "-1"]
    code = train_cli.main([*argv, "--out", str(tmp_path / "out")])
    one_line(capsys.readouterr().err, code, 2, "--seed", "-1")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- j1eval inputs


@pytest.mark.parametrize("url", ["http://[::1", "http://h:%00/v1", "http://h:1/v1\n"])
def test_run_with_a_malformed_url_is_one_line(url: str, tmp_path: Path, capsys) -> None:
    require(SHARED_DATA / JUDGEBENCH_FILE)
    argv = [*RUN, "--out", str(tmp_path / "out")]
    argv[2] = f"openai:m@{url}"
    code = main(argv)
    one_line(capsys.readouterr().err, code, 2, "base_url")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "score"])
def test_a_negative_seed_is_one_line(command: str, base_run: Path, tmp_path: Path, capsys) -> None:
    if command == "run":
        argv = [*RUN, "--out", str(tmp_path / "out"), "--seed", "-1"]
    else:
        argv = ["score", "--bench", "judgebench", "--judgments", str(base_run / "judgments.jsonl"), "--seed", "-1"]
        argv += ["--data-dir", str(SHARED_DATA), "--out", str(tmp_path / "out")]
    code = main(argv)
    one_line(capsys.readouterr().err, code, 2, "--seed", "-1")
    assert not (tmp_path / "out").exists()


def test_a_symlink_loop_as_data_dir_is_named(tmp_path: Path, capsys) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    argv = [*RUN, "--out", str(tmp_path / "out")]
    argv[argv.index("--data-dir") + 1] = str(tmp_path / "a")
    code = main(argv)
    one_line(capsys.readouterr().err, code, 2, str(tmp_path / "a"), "symlink loop")
    assert not (tmp_path / "out").exists()


def score_argv(judgments: str) -> list[str]:
    return ["score", "--bench", "judgebench", "--judgments", judgments, "--data-dir", str(SHARED_DATA)]


def test_a_pipe_is_read_once_and_its_bad_line_named(base_run: Path, tmp_path: Path) -> None:
    lines = (base_run / "judgments.jsonl").read_text().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines[:3]) + "{bad\n" + "".join(lines[3:]))
    code = f"cat {bad} | {sys.executable} -m j1eval {' '.join(score_argv('/dev/stdin'))}"
    proc = subprocess.run(["bash", "-c", code], capture_output=True, text=True, cwd=ROOT)
    one_line(proc.stderr, proc.returncode, 2, "record line 4", "not valid JSON")
    good = f"cat {base_run / 'judgments.jsonl'} | {sys.executable} -m j1eval {' '.join(score_argv('/dev/stdin'))}"
    proc = subprocess.run(["bash", "-c", good], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "no judgments" not in proc.stdout + proc.stderr, proc.stderr
    assert "JudgeBench" in proc.stdout or "judgebench" in proc.stdout


def test_a_fifo_with_no_writer_is_refused_not_waited_on(tmp_path: Path) -> None:
    require(SHARED_DATA / JUDGEBENCH_FILE)
    fifo = tmp_path / "j.jsonl"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "j1eval", *score_argv(str(fifo))], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    one_line(proc.stderr, proc.returncode, 2, str(fifo), "FIFO")


def test_bom_and_invalid_utf8_are_refused_by_both_readers(base_run: Path, tmp_path: Path, capfd) -> None:
    """The column-wise reader (pyarrow) hands such a file to the line reader, which names it: one rule."""
    from j1eval.store.columnar import rows_from_bytes

    text = (base_run / "judgments.jsonl").read_bytes()
    assert rows_from_bytes(text) is not None  # the clean file is read column-wise
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + text)
    assert rows_from_bytes(bom.read_bytes()) is None
    code = main(score_argv(str(bom)))
    one_line(capfd.readouterr().err, code, 2, str(bom), "byte-order mark")
    lines = text.splitlines(keepends=True)
    for field in ("raw", "judge", "key"):
        rec = json.loads(lines[1])
        line = json.dumps(rec).encode().replace(json.dumps(rec[field]).encode(), b'"x\xff"', 1)
        bad = tmp_path / f"bad-{field}.jsonl"
        bad.write_bytes(lines[0] + line + b"\n" + b"".join(lines[2:]))
        assert rows_from_bytes(bad.read_bytes()) is None
        code = main(score_argv(str(bad)))
        one_line(capfd.readouterr().err, code, 2, str(bad), "record line 2", "UTF-8")


# --------------------------------------------------------------------------- reuse keyed on content


def test_a_rerun_sees_verdicts_edited_in_place_with_size_and_mtime_restored(base_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    before = json.loads((run / "results.json").read_text())
    path = run / "judgments.jsonl"
    st = path.stat()
    text = path.read_text()
    edited = text.replace('"verdict": "A"', '"verdict": "B"').replace("[[A]]", "[[B]]")
    assert len(edited) == len(text) and edited != text
    path.write_text(edited)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert main([*RUN, "--out", str(run)]) == 0
    after = json.loads((run / "results.json").read_text())
    assert after != before
    scored = tmp_path / "scored"
    assert main([*score_argv(str(path)), "--out", str(scored)]) == 0
    assert json.loads((scored / "results.json").read_text())["judgebench"] == after["judgebench"]
