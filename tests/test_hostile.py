"""Hostile input (issue #10): whatever a run directory, a data folder or a flag holds, a command ends
with one line naming the file, the record and the field, a non-zero exit, and nothing already written
changed. ``CASES`` (plus ``READ_ONLY_CASES``) is the list of what is tried: keep adding to it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import JUDGEBENCH_FILE, SHARED_DATA, require

from j1eval.cli import main
from j1eval.judging.lock import LOCK_FILE

LIMIT = 3
HTTP_JUDGE = "openai:m@http://127.0.0.1:9/v1"  # never contacted: every case fails before


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run of the `first` baseline on 3 JudgeBench pairs (6 judgments)."""
    require(SHARED_DATA / JUDGEBENCH_FILE)
    out = tmp_path_factory.mktemp("hostile") / "run"
    argv = ["run", "--judge", "first", "--bench", "judgebench", "--limit", str(LIMIT)]
    assert main([*argv, "--data-dir", str(SHARED_DATA), "--out", str(out), "--no-progress"]) == 0
    return out


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes; the lock file is left out (it holds the last taker's pid)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.name != LOCK_FILE
    }


def make_env(base_run: Path, tmp_path: Path) -> SimpleNamespace:
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    return SimpleNamespace(
        tmp=tmp_path,
        run=run,
        data=SHARED_DATA,
        jsonl=run / "judgments.jsonl",
        manifest=run / "manifest.json",
        results=run / "results.json",
    )


# --------------------------------------------------------------------------- commands


def run_cmd(env: SimpleNamespace, *extra: str, judge: str = "first", out: Path | None = None) -> list[str]:
    return ["run", "--judge", judge, "--bench", "judgebench", "--limit", str(LIMIT)] + [
        "--data-dir",
        str(env.data),
        "--out",
        str(out or env.run),
        "--no-progress",
        *extra,
    ]


def report_cmd(env: SimpleNamespace, *extra: str) -> list[str]:
    return ["report", str(env.run), "--no-plots", "--data-dir", str(env.data), *extra]


def score_cmd(env: SimpleNamespace, *extra: str) -> list[str]:
    return ["score", "--bench", "judgebench", "--judgments", str(env.jsonl), "--data-dir", str(env.data), *extra]


COMMANDS: dict[str, Callable[[SimpleNamespace], list[str]]] = {
    "run": run_cmd,
    "report": report_cmd,
    "score": score_cmd,
}


# --------------------------------------------------------------------------- what the cases do to the files


def insert_line(path: Path, raw: bytes, at: int = 3) -> None:
    """Put ``raw`` (one line) among the file's lines, not at its end (a bad last line may be a partial write)."""
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:at]) + raw + b"\n" + b"".join(lines[at:]))


def edit_record(path: Path, line: int, **changes: object) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rec = json.loads(lines[line - 1])
    rec.update(changes)
    lines[line - 1] = json.dumps(rec) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def data_dir_with(env: SimpleNamespace, folder: str, name: str, content: bytes) -> None:
    """A data folder of one benchmark file, used by the command instead of the shared data."""
    (env.tmp / "data" / folder).mkdir(parents=True)
    (env.tmp / "data" / folder / name).write_bytes(content)
    env.data = env.tmp / "data"


@dataclass
class Case:
    id: str
    prepare: Callable[[SimpleNamespace], list[str]]  # corrupts what it needs, returns the command line
    code: int
    needles: Callable[[SimpleNamespace], list[str]] = field(default=lambda env: [])


CASES: list[Case] = []

# A bad line in judgments.jsonl, read by each command that reads it (line 4 of 7).
BAD_LINES = {
    "non_utf8": (b'{"pair_id": "\xff\xfe"}', "not UTF-8"),
    "list": (b"[1, 2]", "must be a JSON object, got a list"),
    "string": (b'"text"', "must be a JSON object, got a string"),
    "null": (b"null", "must be a JSON object, got null"),
    "number": (b"42", "must be a JSON object, got a number"),
    "not_json": (b"{not json", "not valid JSON"),
    "deeply_nested": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "deeply_nested_unclosed": (b'{"a":' * 200_000, "nested too deeply"),
}
for _name, (_raw, _what) in BAD_LINES.items():
    for _cmd in ("run", "score"):  # `report` reads pairs.parquet, not the judgments (BAD_PAIRS below)

        def _prepare(env, raw=_raw, cmd=_cmd):
            insert_line(env.jsonl, raw)
            return COMMANDS[cmd](env)

        CASES.append(Case(f"judgments-{_name}-{_cmd}", _prepare, 2, lambda env, w=_what: [str(env.jsonl), "line 4", w]))

# A judgment whose JSON is fine but one field is not (line 2 keeps its key: `run` rescoring reads it).
BAD_FIELDS = {
    "key": ({"key": [1]}, ("run",)),
    "verdict": ({"verdict": "Z"}, ("run", "score")),
    "order": ({"order": "xy"}, ("run", "score")),
    "sample": ({"sample": "x"}, ("run", "score")),
    "p_a": ({"p_a": 2}, ("run", "score")),
    "pair_id": ({"pair_id": 5}, ("run", "score")),
    "failure": ({"failure": "exploded"}, ("run", "score")),
    "scores": ({"scores": "7"}, ("score",)),
    "bench": ({"bench": ["judgebench"]}, ("run",)),
}
for _field, (_change, _cmds) in BAD_FIELDS.items():
    for _cmd in _cmds:

        def _prepare(env, change=_change, cmd=_cmd):
            edit_record(env.jsonl, 2, **change)
            return COMMANDS[cmd](env)

        needle = "" if _field == "bench" else f"field '{_field}'"
        CASES.append(
            Case(f"judgment-field-{_field}-{_cmd}", _prepare, 2, lambda env, n=needle: [str(env.jsonl), "line 2", n])
        )

# manifest.json: not an object, not UTF-8, not JSON, or a field of the wrong type.
BAD_MANIFESTS: dict[str, tuple[Callable[[Path], None], str, tuple[str, ...]]] = {
    "list": (lambda p: p.write_text("[1, 2]"), "must be a JSON object, got a list", ("run", "report")),
    "non_utf8": (lambda p: p.write_bytes(b'{"judge": "\xff"}'), "not UTF-8", ("run", "report")),
    "nested": (lambda p: p.write_bytes(b"[" * 100_000), "nested too deeply", ("run", "report")),
    "empty": (lambda p: p.write_bytes(b""), "not valid JSON", ("run", "report")),
    "seed": (lambda p: edit_json(p, lambda m: m.update(seed="x")), "field 'seed'", ("run", "report")),
    "order": (lambda p: edit_json(p, lambda m: m.update(order="sideways")), "field 'order'", ("run", "report")),
    "benchmarks": (lambda p: edit_json(p, lambda m: m.update(benchmarks=[])), "field 'benchmarks'", ("report",)),
    "n_pairs_run": (
        lambda p: edit_json(p, lambda m: m["benchmarks"]["judgebench"].update(n_pairs_run="3")),
        "field 'benchmarks.judgebench.n_pairs_run'",
        ("report",),
    ),
    "invocations": (lambda p: edit_json(p, lambda m: m.update(invocations="x")), "field 'invocations'", ("run",)),
    "samples": (lambda p: edit_json(p, lambda m: m.update(samples=0)), "field 'samples'", ("report",)),
    "judge": (lambda p: edit_json(p, lambda m: m.update(judge=5)), "field 'judge'", ("report",)),
}
for _name, (_corrupt, _what, _cmds) in BAD_MANIFESTS.items():
    for _cmd in _cmds:

        def _prepare(env, corrupt=_corrupt, cmd=_cmd):
            corrupt(env.manifest)
            return COMMANDS[cmd](env)

        CASES.append(Case(f"manifest-{_name}-{_cmd}", _prepare, 2, lambda env, w=_what: [str(env.manifest), w]))

# results.json: read by `report`, and by `score --out RUN_DIR`, which keeps its other benchmarks.
BAD_RESULTS: dict[str, tuple[Callable[[Path], None], str, tuple[str, ...]]] = {
    "list": (lambda p: p.write_text("[1]"), "must be a JSON object, got a list", ("report", "score")),
    "bench_not_object": (lambda p: p.write_text('{"judgebench": 5}'), "field 'judgebench'", ("report", "score")),
    "non_utf8": (lambda p: p.write_bytes(b'{"judgebench": "\xff"}'), "not UTF-8", ("report", "score")),
    "nested": (lambda p: p.write_bytes(b'{"a":' * 100_000), "nested too deeply", ("report",)),
    "figure": (
        lambda p: edit_json(p, lambda r: r["judgebench"]["overall"].update(acc_ab="x")),
        "field 'judgebench.overall.acc_ab'",
        ("report",),
    ),
    "ci": (
        lambda p: edit_json(p, lambda r: r["judgebench"]["overall"]["ci"].update(acc_ab=[0.1])),
        "field 'judgebench.overall.ci.acc_ab'",
        ("report",),
    ),
    "n_pairs": (
        lambda p: edit_json(p, lambda r: r["judgebench"]["overall"].update(n_pairs=-1)),
        "field 'judgebench.overall.n_pairs'",
        ("report",),
    ),
    "missing": (
        lambda p: edit_json(p, lambda r: r["judgebench"]["overall"].update(missing="math")),
        "field 'judgebench.overall.missing'",
        ("report",),
    ),
    "subsets": (
        lambda p: edit_json(p, lambda r: r["judgebench"].update(subsets=[])),
        "field 'judgebench.subsets'",
        ("report",),
    ),
}
for _name, (_corrupt, _what, _cmds) in BAD_RESULTS.items():
    for _cmd in _cmds:

        def _prepare(env, corrupt=_corrupt, cmd=_cmd):
            corrupt(env.results)
            return report_cmd(env) if cmd == "report" else score_cmd(env, "--out", str(env.run))

        CASES.append(Case(f"results-{_name}-{_cmd}", _prepare, 2, lambda env, w=_what: [str(env.results), w]))


def rewrite_pairs(
    env: SimpleNamespace, change: Callable = lambda f: f, meta: Callable = lambda m: m, raw: bytes | None = None
) -> None:
    """Rewrite the run's pairs.parquet: its rows through ``change``, its column list through ``meta`` (or ``raw``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = env.run / "pairs.parquet"
    table = pq.read_table(path)
    columns = meta(json.loads(table.schema.metadata[b"j1eval.columns"]))
    new = pa.Table.from_pandas(change(table.to_pandas()), preserve_index=False)
    value = raw if raw is not None else None if columns is None else json.dumps(columns).encode()
    pq.write_table(new.replace_schema_metadata({} if value is None else {b"j1eval.columns": value}), path)


def _retype(column: str, dtype: str) -> Callable[[dict], dict]:
    return lambda m: {b: {**cols, column: dtype} for b, cols in m.items()}


# pairs.parquet, the per-pair table `report` reads: absent (a run from an older j1eval), not parquet, not j1eval's.
NOT_PARQUET = "not a readable parquet file"
BAD_PAIRS: dict[str, tuple[Callable[[SimpleNamespace], None], str]] = {
    "absent": (lambda env: (env.run / "pairs.parquet").unlink(), "no pairs.parquet"),
    "empty": (lambda env: (env.run / "pairs.parquet").write_bytes(b""), NOT_PARQUET),
    "text": (lambda env: (env.run / "pairs.parquet").write_text("pair_id,verdict\n"), NOT_PARQUET),
    "truncated": (
        lambda env: (env.run / "pairs.parquet").write_bytes((env.run / "pairs.parquet").read_bytes()[:-200]),
        NOT_PARQUET,
    ),
    "no_metadata": (lambda env: rewrite_pairs(env, meta=lambda m: None), "no column list in its metadata"),
    "metadata_not_json": (lambda env: rewrite_pairs(env, raw=b"{"), "no column list in its metadata"),
    "metadata_list": (lambda env: rewrite_pairs(env, raw=b"[1]"), "no column list in its metadata"),
    "metadata_columns_list": (
        lambda env: rewrite_pairs(env, meta=lambda m: {b: list(c) for b, c in m.items()}),
        "is not {column: dtype}",
    ),
    "no_bench_column": (lambda env: rewrite_pairs(env, lambda f: f.drop(columns="bench")), "no 'bench' column"),
    "other_bench_only": (
        lambda env: rewrite_pairs(env, lambda f: f.assign(bench="rmbench"), lambda m: {"rmbench": m["judgebench"]}),
        "pairs.parquet has no rows of judgebench",
    ),
    "missing_column": (
        lambda env: rewrite_pairs(env, lambda f: f.drop(columns="verdict_ab")),
        "lack the column(s) verdict_ab",
    ),
    "rows_out_of_step": (
        lambda env: rewrite_pairs(env, lambda f: f.iloc[1:]),
        f"holds {LIMIT - 1} judgebench pairs but results.json scores {LIMIT}",
    ),
    "judged_not_bool": (
        lambda env: rewrite_pairs(env, lambda f: f.assign(judged_ab="yes"), _retype("judged_ab", "str")),
        "judged_ab must be true or false",
    ),
    "verdict_unknown": (lambda env: rewrite_pairs(env, lambda f: f.assign(verdict_ba="Z")), "verdict_ba must be A, B"),
    "label_three": (lambda env: rewrite_pairs(env, lambda f: f.assign(label=3)), "label must be 1 or 2"),
    "label_text": (
        lambda env: rewrite_pairs(env, lambda f: f.assign(label="one")),
        "a column does not read as its dtype",
    ),
    "directory": (
        lambda env: ((env.run / "pairs.parquet").unlink(), (env.run / "pairs.parquet").mkdir()),
        "pairs.parquet",
    ),
}
for _name, (_corrupt, _what) in BAD_PAIRS.items():
    # `score --out RUN_DIR` keeps the other benchmarks' rows: it reads the file too, and stops before writing
    for _cmd in ("report", "score") if _name in ("text", "truncated", "no_metadata", "label_text") else ("report",):

        def _prepare(env, corrupt=_corrupt, cmd=_cmd):
            corrupt(env)
            return report_cmd(env) if cmd == "report" else score_cmd(env, "--out", str(env.run))

        CASES.append(Case(f"pairs-{_name}-{_cmd}", _prepare, 2, lambda env, w=_what: [str(env.run), w]))

# Backend options: each backend declares the options it takes, in their types.
BAD_OPTIONS = {
    "timeout_s_text": (HTTP_JUDGE, ["--backend-option", "timeout_s=abc"], "--backend-option timeout_s"),
    "concurrency_list": (HTTP_JUDGE, ["--backend-option", "concurrency=[1]"], "--backend-option concurrency"),
    "concurrency_zero": (HTTP_JUDGE, ["--concurrency", "0"], "--backend-option concurrency"),
    "unknown_key": (HTTP_JUDGE, ["--backend-option", "timeout=5"], "did you mean 'timeout_s'"),
    "max_retries_negative": (HTTP_JUDGE, ["--backend-option", "max_retries=-1"], "max_retries"),
    "check_models_text": (HTTP_JUDGE, ["--backend-option", "check_models=maybe"], "true or false"),
    "prefill_choice": (HTTP_JUDGE, ["--backend-option", "prefill=bogus"], "auto, chat, completions"),
    "connect_timeout_zero": (HTTP_JUDGE, ["--backend-option", "connect_timeout_s=0"], "connect_timeout_s"),
    "timeout_nan": (HTTP_JUDGE, ["--backend-option", "timeout_s=NaN"], "expected a number"),
    "hf_batch_size_zero": ("hf:/no/such/model", ["--batch-size", "0"], "batch_size"),
    "hf_batch_size_fraction": ("hf:/no/such/model", ["--backend-option", "batch_size=2.5"], "whole number"),
    "hf_dtype_number": ("hf:/no/such/model", ["--backend-option", "dtype=16"], "expected text"),
    "baseline_batch_size": ("first", ["--batch-size", "4"], "baseline backend has no such option"),
    "baseline_any_option": ("first", ["--backend-option", "x=1"], "it takes none"),
    "vllm_memory_share": ("vllm:/no/such/model", ["--backend-option", "gpu_memory_utilization=2"], "at most 1"),
    "vllm_eager_number": ("vllm:/no/such/model", ["--backend-option", "enforce_eager=1"], "true or false"),
    "no_equals": ("first", ["--backend-option", "novalue"], "expected KEY=VALUE"),
    "no_key": ("first", ["--backend-option", "=5"], "expected KEY=VALUE"),
}
for _name, (_judge, _flags, _what) in BAD_OPTIONS.items():
    CASES.append(
        Case(
            f"option-{_name}",
            lambda env, j=_judge, f=_flags: run_cmd(env, *f, judge=j, out=env.tmp / "new"),
            2,
            lambda env, w=_what: [w],
        )
    )

# Sampling settings no judge can run with (a NaN temperature would break every later resume).
BAD_SAMPLING = {
    "max_tokens_zero": (["--max-tokens", "0"], "--max-tokens"),
    "max_tokens_negative": (["--max-tokens", "-3"], "--max-tokens"),
    "top_p_zero": (["--top-p", "0"], "--top-p"),
    "top_p_above_one": (["--top-p", "1.5"], "--top-p"),
    "top_p_nan": (["--top-p", "nan"], "--top-p"),
    "temperature_negative": (["--temperature", "-1"], "--temperature"),
    "temperature_nan": (["--temperature", "nan"], "--temperature"),
    "temperature_inf": (["--temperature", "inf"], "--temperature"),
}
for _name, (_flags, _what) in BAD_SAMPLING.items():
    CASES.append(
        Case(
            f"sampling-{_name}", lambda env, f=_flags: run_cmd(env, *f, out=env.tmp / "new"), 2, lambda e, w=_what: [w]
        )
    )

# A baseline asked for a format it cannot answer (it gives verdicts, not scores).
for _fmt in ("pairwise-scores", "pointwise"):
    CASES.append(
        Case(
            f"baseline-format-{_fmt}",
            lambda env, f=_fmt: run_cmd(env, "--format", f, out=env.tmp / "new"),
            2,
            lambda env, f=_fmt: [f"--format {f}", "cannot answer"],
        )
    )

# A rerun into the directory with another set-up: the message names each field that differs.
MISMATCHES = {
    "seed": (["--seed", "1"], "seed: 0 -> 1"),
    "order": (["--order", "single"], 'order: "both" -> "single"'),
    "temperature": (["--temperature", "0.5"], "judge.sampling.temperature: 0.0 -> 0.5"),
    "format": (["--format", "plan-execute"], 'judge.format: "pairwise-verdict" -> "plan-execute"'),
    "max_tokens": (["--max-tokens", "32"], "judge.sampling.max_tokens: 16 -> 32"),
    "judge": ([], 'judge.name: "first" -> "longer"'),
}
for _name, (_flags, _what) in MISMATCHES.items():
    CASES.append(
        Case(
            f"rerun-other-{_name}",
            lambda env, f=_flags, n=_name: run_cmd(env, *f, judge="longer" if n == "judge" else "first"),
            2,
            lambda env, w=_what: [str(env.run), "another set-up", w],
        )
    )

# Benchmark data that holds nothing: an error naming the file, before the run directory is touched.
JB_NAME = Path(JUDGEBENCH_FILE).name
EMPTY_DATA = {
    "empty-run": ("judgebench", JB_NAME, b"", "run"),
    "blank-run": ("judgebench", JB_NAME, b"\n  \n\t\n", "run"),
    "empty-score": ("judgebench", JB_NAME, b"", "score"),
    "blank-score": ("judgebench", JB_NAME, b" \n\n", "score"),
    "empty-list-rmbench": ("rmbench", "chat_filtered.json", b"[ ]\n", "run-rmbench"),
}
for _name, (_folder, _file, _content, _cmd) in EMPTY_DATA.items():

    def _prepare(env, folder=_folder, file=_file, content=_content, cmd=_cmd):
        data_dir_with(env, folder, file, content)
        if cmd == "run-rmbench":
            return [
                "run",
                "--judge",
                "first",
                "--bench",
                "rmbench",
                "--data-dir",
                str(env.data),
                "--out",
                str(env.run),
                "--no-progress",
            ]
        return COMMANDS[cmd](env)

    CASES.append(
        Case(
            f"data-{_name}",
            _prepare,
            2,
            lambda env, folder=_folder, file=_file: [str(env.tmp / "data" / folder / file), "empty data file"],
        )
    )

# Outputs that are not folders.
CASES += [
    Case(
        "run-out-is-a-file",
        lambda env: run_cmd(env, out=env.jsonl),
        1,
        lambda env: [str(env.jsonl)],
    ),
    Case(
        "run-out-below-a-file",
        lambda env: run_cmd(env, out=env.jsonl / "sub"),
        1,
        lambda env: [str(env.jsonl / "sub")],
    ),
    Case(
        "score-out-is-a-file",
        lambda env: score_cmd(env, "--out", str(env.results)),
        2,
        lambda env: [str(env.results), "not a folder"],
    ),
    Case(
        "report-out-is-a-file",
        lambda env: report_cmd(env, "--out", str(env.results)),
        2,
        lambda env: [str(env.results), "not a folder"],
    ),
    Case(
        "report-not-a-run-dir",
        lambda env: ["report", str(env.tmp), "--no-plots"],
        2,
        lambda env: [str(env.tmp), "no manifest.json"],
    ),
    Case(
        "report-missing-dir",
        lambda env: ["report", str(env.tmp / "nowhere"), "--no-plots"],
        2,
        lambda env: [str(env.tmp / "nowhere"), "not a directory"],
    ),
]


def check_one_line(code: int, err: str, case_code: int, needles: list[str]) -> None:
    lines = err.strip().splitlines()
    assert code == case_code, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "unexpected" not in lines[0] and "Traceback" not in err  # diagnosed, not crashed
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_one_line_nothing_changed(case: Case, base_run: Path, tmp_path: Path, capsys) -> None:
    env = make_env(base_run, tmp_path)
    argv = case.prepare(env)
    before = snapshot(tmp_path)
    capsys.readouterr()
    code = main(argv)
    check_one_line(code, capsys.readouterr().err, case.code, case.needles(env))
    assert snapshot(tmp_path) == before  # nothing already written changed, no file added


def test_case_list_covers_the_issue() -> None:
    """The count quoted in the issue's note; each kind the issue lists is among the cases."""
    ids = {c.id for c in CASES} | {c[0] for c in READ_ONLY_CASES}
    for must in (
        "judgments-non_utf8-run",
        "pairs-absent-report",
        "judgments-non_utf8-score",
        "judgments-list-run",
        "pairs-text-report",
        "judgments-list-score",
        "judgments-deeply_nested-run",
        "pairs-no_metadata-report",
        "judgments-deeply_nested-score",
        "manifest-list-run",
        "manifest-list-report",
        "results-list-report",
        "option-timeout_s_text",
        "option-concurrency_list",
        "option-unknown_key",
        "sampling-max_tokens_zero",
        "sampling-top_p_zero",
        "sampling-top_p_above_one",
        "sampling-temperature_negative",
        "sampling-temperature_nan",
        "sampling-temperature_inf",
        "baseline-format-pairwise-scores",
        "rerun-other-seed",
        "rerun-other-order",
        "rerun-other-judge",
        "data-empty-run",
        "data-blank-run",
        "report-out-is-a-file",
        "read-only-run",
        "read-only-score",
        "read-only-report",
    ):
        assert must in ids, must
    assert len(CASES) + len(READ_ONLY_CASES) >= 126  # a ratchet: cases are added, never dropped


# --------------------------------------------------------------------------- a read-only file system


@pytest.fixture
def read_only(base_run: Path, tmp_path: Path):
    """A folder holding a copy of the finished run, made read-only: a read-only mount as root, else file modes."""
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        if shutil.which("mount") is None:
            pytest.skip("no mount command to make a read-only file system")
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(ro)], capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"cannot mount a file system here: {made.stderr.decode().strip()}")
        shutil.copytree(base_run, ro / "run")
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
        yield ro
        subprocess.run(["umount", str(ro)], check=True)
    else:
        shutil.copytree(base_run, ro / "run")
        for path in [ro, *ro.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        yield ro
        for path in [ro, *ro.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)


READ_ONLY_CASES: list[tuple[str, Callable[[Path], list[str]], int]] = [
    # More work than the copy holds (--limit 4): it cannot be written. The same command returns its stored
    # results instead (test_a_finished_run_on_a_read_only_copy_returns_its_results).
    ("read-only-run", lambda ro: run_cmd(SimpleNamespace(data=SHARED_DATA, run=ro / "run"), "--limit", "4"), 1),
    ("read-only-run-new-out", lambda ro: run_cmd(SimpleNamespace(data=SHARED_DATA, run=ro / "new")), 1),
    (
        "read-only-score",
        lambda ro: score_cmd(
            SimpleNamespace(data=SHARED_DATA, jsonl=ro / "run" / "judgments.jsonl"), "--out", str(ro / "run")
        ),
        1,
    ),
    (
        "read-only-score-new-out",
        lambda ro: score_cmd(
            SimpleNamespace(data=SHARED_DATA, jsonl=ro / "run" / "judgments.jsonl"), "--out", str(ro / "scored")
        ),
        1,
    ),
    (
        "read-only-report",
        lambda ro: report_cmd(SimpleNamespace(data=SHARED_DATA, run=ro / "run"), "--out", str(ro / "report")),
        1,
    ),
]


@pytest.mark.parametrize(("name", "argv", "code"), READ_ONLY_CASES, ids=[c[0] for c in READ_ONLY_CASES])
def test_read_only_output_one_line_nothing_changed(name, argv, code, read_only: Path, capsys) -> None:
    before = snapshot(read_only)
    capsys.readouterr()
    exit_code = main(argv(read_only))
    check_one_line(exit_code, capsys.readouterr().err, code, [str(read_only)])
    assert snapshot(read_only) == before


def test_a_finished_run_on_a_read_only_copy_returns_its_results(read_only: Path, capsys) -> None:
    before = snapshot(read_only)
    assert main(run_cmd(SimpleNamespace(data=SHARED_DATA, run=read_only / "run"))) == 0
    assert "0 judgments generated" in capsys.readouterr().out
    assert snapshot(read_only) == before


def test_a_run_on_a_read_only_file_system_is_still_reported(read_only: Path, capsys) -> None:
    """Reading needs no write: `report` without --out and `score` without --out work on it."""
    env = SimpleNamespace(data=SHARED_DATA, run=read_only / "run", jsonl=read_only / "run" / "judgments.jsonl")
    assert main(report_cmd(env)) == 0
    assert main(score_cmd(env)) == 0
    assert "judgebench" in capsys.readouterr().out


# --------------------------------------------------------------------------- in a real process


@pytest.mark.parametrize(
    "case_id", ["judgments-deeply_nested-score", "manifest-non_utf8-report", "option-timeout_s_text"]
)
def test_no_traceback_from_a_real_process(case_id: str, base_run: Path, tmp_path: Path) -> None:
    """The same cases through `python -m j1eval`: stderr is one line, whatever the interpreter's recursion limit."""
    case = next(c for c in CASES if c.id == case_id)
    env = make_env(base_run, tmp_path)
    argv = case.prepare(env)
    before = snapshot(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "j1eval", *argv], capture_output=True, text=True)
    check_one_line(proc.returncode, proc.stderr, case.code, case.needles(env))
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- nothing overwritten silently


def test_score_and_an_empty_data_file_leave_a_finished_run_byte_for_byte(base_run, tmp_path, capsys) -> None:
    env = make_env(base_run, tmp_path)
    before = {p.name: p.read_bytes() for p in env.run.iterdir()}  # the lock file too: nobody took it

    assert main(score_cmd(env)) == 0  # no --out: prints, writes nothing
    out = capsys.readouterr().out
    assert "judgebench" in out and "not written" in out

    data_dir_with(env, "judgebench", JB_NAME, b"")
    assert main(run_cmd(env)) == 2
    assert "empty data file" in capsys.readouterr().err
    assert main(score_cmd(env)) == 2
    assert {p.name: p.read_bytes() for p in env.run.iterdir()} == before


def test_score_out_keeps_the_other_benchmarks_of_a_results_file(base_run, tmp_path, capsys) -> None:
    env = make_env(base_run, tmp_path)
    edit_json(env.results, lambda r: r.update(rewardbench={"overall": {"n_pairs": 7, "j1": 0.5}, "subsets": {}}))
    assert main(score_cmd(env, "--out", str(env.run))) == 0
    assert "kept rewardbench" in capsys.readouterr().out
    results = json.loads(env.results.read_text())
    assert set(results) == {"judgebench", "rewardbench"}
    assert results["rewardbench"]["overall"] == {"n_pairs": 7, "j1": 0.5}
    assert results["judgebench"]["overall"]["n_pairs"] == LIMIT


def test_a_report_killed_midway_leaves_the_previous_report_whole(base_run, tmp_path, capsys, monkeypatch) -> None:
    env = make_env(base_run, tmp_path)
    out = tmp_path / "report"
    out.mkdir()
    (out / "README.md").write_text("written by hand\n")
    assert main(report_cmd(env, "--out", str(out), "--format", "csv", "--force")) == 0  # beside the README
    assert main(report_cmd(env, "--out", str(out), "--force")) == 0  # md replaces the csv report; README kept
    names = {p.name for p in out.iterdir()}
    assert {"README.md", "main_table.md", "report.md"} <= names and "main_table.csv" not in names
    before = snapshot(out)

    import j1eval.report.writing as report_module

    real = report_module.write_report

    def killed(report, tables, folder, fmt, plots=True):
        real(report, tables, folder, fmt, plots)  # every file written, then the process is stopped
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "write_report", killed)
    edit_json(env.manifest, lambda m: m.update(judge="renamed"))
    assert main(report_cmd(env, "--out", str(out), "--force")) == 130
    assert {k: v for k, v in snapshot(out).items() if not k.endswith(".lock")} == {
        k: v for k, v in before.items() if not k.endswith(".lock")
    }  # the previous set, whole: nothing of the new one, no staging folder left
    monkeypatch.undo()
    assert main(report_cmd(env, "--out", str(out), "--force")) == 0
    assert "renamed" in (out / "main_table.md").read_text() and (out / "README.md").exists()


# --------------------------------------------------------------------------- text from runs is escaped

HOSTILE_NAME = "<script>alert(1)</script><img src=x onerror=alert(2)>[click](javascript:alert(3))$\\f$\x1b[31m"
HOSTILE_SUBSET = '=HYPERLINK("http://x")<b onmouseover=alert(4)>|x'


def test_names_from_runs_are_escaped_in_every_format(base_run, tmp_path, capsys) -> None:
    import csv

    markdown_it = pytest.importorskip("markdown_it")
    env = make_env(base_run, tmp_path)
    edit_json(env.manifest, lambda m: m.update(judge=HOSTILE_NAME))

    def rename_subset(results: dict) -> None:
        subsets = results["judgebench"]["subsets"]
        subsets[HOSTILE_SUBSET] = subsets.pop(next(iter(subsets)))

    edit_json(env.results, rename_subset)
    out = tmp_path / "report"
    for fmt in ("latex", "csv"):
        assert main(report_cmd(env, "--out", str(out / fmt), "--format", fmt)) == 0
    assert main(["report", str(env.run), "--data-dir", str(env.data), "--out", str(out / "md")]) == 0  # plots ("$")
    assert main(report_cmd(env)) == 0  # the tables on the terminal
    printed = capsys.readouterr().out
    assert HOSTILE_NAME[:20] in printed and "\x1b" not in printed  # no terminal control sequence from a name

    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    for md in (out / "md").glob("*.md"):
        rendered = html.render(md.read_text(encoding="utf-8"))
        for bad in ("<script", "<img src=x", "<b onmouseover", 'href="javascript'):
            assert bad not in rendered, (md.name, bad)
    main_md = html.render((out / "md" / "main_table.md").read_text(encoding="utf-8"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in main_md  # shown as the text it is
    latex = (out / "latex" / "main_table.tex").read_text(encoding="utf-8")
    assert "<" not in latex and "\\textless{}script\\textgreater{}" in latex and "\x1b" not in latex
    for table in (out / "csv").glob("*.csv"):
        for row in csv.reader(table.open(encoding="utf-8")):
            for cell in row:
                assert not cell.startswith(("=", "+", "@")), (table.name, cell)
    rows = list(csv.reader((out / "csv" / "breakdown_judgebench.csv").open(encoding="utf-8")))
    assert "'" + HOSTILE_SUBSET in [row[0] for row in rows]  # the subset's name, inert
    assert (out / "md" / "plots" / "accuracy_by_order.png").exists()
