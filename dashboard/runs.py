"""Where the runs are, which of them there are, and reading their files safely.

The runs directory comes from ``--runs DIR`` (after ``--`` on the ``streamlit run`` line),
else ``$J1EVAL_RUNS_DIR``, else ``runs/`` (where ``python -m j1eval run`` writes). Runs are
found by walking it (symbolic links are not followed): a folder with ``manifest.json`` is a
j1eval run directory (a j1train evaluation ``eval/step-N`` included), a folder with
``log.jsonl`` or ``completions/*.parquet`` is a j1train output. Runs are named by their path
relative to the runs directory; a name from a URL is looked up among those found, never
joined onto a path, and every file is opened only after checking that it lies inside the
runs directory.

Everything read is text from a file: invalid UTF-8 is replaced (U+FFFD), and so are lone
surrogates that a JSON escape can produce (they could not be sent to the browser).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from j1eval.errors import InputError
from j1eval.safe_io import iter_jsonl, open_regular

RUNS_ENV = "J1EVAL_RUNS_DIR"
DEFAULT_RUNS_DIR = "runs"
MANIFEST = "manifest.json"
JUDGMENTS = "judgments.jsonl"
RESULTS = "results.json"
TRAIN_LOG = "log.jsonl"
COMPLETIONS = "completions"
#: How deep the walk goes (runs/train-short/consistency/eval/step-20 is 4 levels down).
MAX_DEPTH = 5
#: Folders never entered: model weights, TRL's logs, generated plots.
SKIP_DIRS = frozenset({COMPLETIONS, "final", "model", "plots", "generations", "__pycache__", "node_modules"})

_SURROGATE = re.compile("[\ud800-\udfff]")


class DashboardError(Exception):
    """A problem shown to the reader as one line (a missing folder, a corrupt file)."""


@dataclass(frozen=True)
class Options:
    runs_dir: Path
    data_dir: Path | None
    problems: tuple[str, ...] = ()


def parse_args(argv: Sequence[str], environ: dict[str, str] | os._Environ[str] | None = None) -> Options:
    """``--runs DIR`` and ``--data-dir DIR`` (``--x=V`` too); anything else is reported, not fatal."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    problems: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in ("--runs", "--data-dir"):
            if not eq:
                if i + 1 >= len(args):
                    problems.append(f"{name} needs a folder")
                    break
                value = args[i + 1]
                i += 1
            values[name] = value
        else:
            problems.append(f"unknown argument {arg!r} (the dashboard takes --runs DIR and --data-dir DIR)")
        i += 1
    runs = values.get("--runs") or environ.get(RUNS_ENV) or DEFAULT_RUNS_DIR
    data = values.get("--data-dir") or environ.get("J1EVAL_DATA_DIR") or None
    return Options(Path(runs), Path(data) if data else None, tuple(problems))


def clean(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` (links resolved) lies inside ``root``."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def read_text(root: Path, path: Path) -> str:
    """A file under ``root`` as text (invalid UTF-8 replaced); DashboardError otherwise."""
    if not inside(root, path):
        raise DashboardError(f"{path}: outside the runs directory, not opened")
    try:
        with open_regular(path, pipes=False) as fh:  # a FIFO or socket: refused, never waited on
            return fh.read().decode("utf-8", errors="replace")
    except InputError as exc:
        raise DashboardError(str(exc)) from None
    except OSError as exc:
        raise DashboardError(f"{path}: cannot read ({exc.strerror})") from None


def iter_jsonl_lenient(root: Path, path: Path, skipped: list[int]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of a JSONL file under ``root``, by j1eval's reader; bad lines go to ``skipped``."""
    if not inside(root, path):
        raise DashboardError(f"{path}: outside the runs directory, not opened")
    try:
        yield from iter_jsonl(path, skipped=skipped, pipes=False)
    except InputError as exc:  # the file cannot be opened
        raise DashboardError(str(exc)) from None


def read_json(root: Path, path: Path) -> Any:
    text = read_text(root, path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DashboardError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise DashboardError(f"{path}: not readable JSON (nested too deeply)") from None


def _stamp(paths: Sequence[Path]) -> tuple[tuple[int, int], ...]:
    """(size, mtime in ns) of each file, (0, 0) for an absent one: the cache key of what was read."""
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((0, 0))
    return tuple(out)


@dataclass(frozen=True)
class RunEntry:
    """One run found under the runs directory."""

    rel: str  # path relative to the runs directory, "/"-separated ("." for the directory itself)
    path: Path
    kind: Literal["eval", "train"]
    stamp: tuple[tuple[int, int], ...]
    judge: str = ""
    format: str = ""
    benches: tuple[str, ...] = ()
    n_judgments: int | None = None
    size: int = 0  # bytes of judgments.jsonl / of the completion logs
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def label(self) -> str:
        """One line of plain text (shown as a select option, never as Markdown)."""
        if self.kind == "train":
            return f"{self.rel}  (j1train: {self.extra.get('n_completion_files', 0)} completion logs)"
        if self.error:
            return f"{self.rel}  (unreadable: {self.error})"
        n = f"{self.n_judgments:,} judgments" if self.n_judgments is not None else f"{self.size:,} bytes"
        return f"{self.rel}  ({self.judge}, {self.format}; {', '.join(self.benches)}; {n})"


def _eval_entry(root: Path, folder: Path, rel: str) -> RunEntry:
    files = [folder / JUDGMENTS, folder / RESULTS, folder / MANIFEST, folder / "pairs.parquet"]
    stamp = _stamp(files)
    try:
        manifest = read_json(root, folder / MANIFEST)
        if not isinstance(manifest, dict):
            raise DashboardError(f"{folder / MANIFEST}: not a JSON object")
    except DashboardError as exc:
        return RunEntry(rel, folder, "eval", stamp, size=stamp[0][0], error=str(exc))
    counts = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
    benches = manifest.get("benchmarks") if isinstance(manifest.get("benchmarks"), dict) else {}
    n = counts.get("judgments")
    return RunEntry(
        rel,
        folder,
        "eval",
        stamp,
        judge=clean(str(manifest.get("judge") or "?")),
        format=clean(str(manifest.get("format") or "?")),
        benches=tuple(clean(str(b)) for b in benches),
        n_judgments=n if isinstance(n, int) else None,
        size=stamp[0][0],
    )


def completion_files(root: Path, folder: Path) -> list[Path]:
    comp = folder / COMPLETIONS
    if not comp.is_dir() or comp.is_symlink() or not inside(root, comp):
        return []
    return sorted(p for p in comp.glob("*.parquet") if p.is_file() and not p.is_symlink())


def _train_entry(root: Path, folder: Path, rel: str) -> RunEntry:
    comps = completion_files(root, folder)
    stamp = _stamp([folder / TRAIN_LOG, *comps])
    return RunEntry(
        rel, folder, "train", stamp, size=sum(s for s, _ in stamp), extra={"n_completion_files": len(comps)}
    )


def discover(root: Path) -> list[RunEntry]:
    """Every run under ``root``, sorted by name; DashboardError when ``root`` is not a folder."""
    if not root.is_dir():
        raise DashboardError(
            f"runs directory {root} does not exist: pass one with `streamlit run dashboard/app.py -- --runs DIR` "
            f"or ${RUNS_ENV}"
        )
    found: list[RunEntry] = []

    def visit(folder: Path, rel: str, depth: int) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        names = {e.name for e in entries}
        try:  # one bad run folder is one line for that run, never a broken page
            if MANIFEST in names and not (folder / MANIFEST).is_symlink():
                found.append(_eval_entry(root, folder, rel))
            elif TRAIN_LOG in names or COMPLETIONS in names:
                entry = _train_entry(root, folder, rel)
                if entry.stamp[0] != (0, 0) or entry.extra["n_completion_files"]:
                    found.append(entry)
        except Exception as exc:  # noqa: BLE001 (whatever a folder holds)
            found.append(RunEntry(rel, folder, "eval", (), error=f"cannot be read ({type(exc).__name__}: {exc})"[:300]))
        if depth >= MAX_DEPTH:
            return
        for e in entries:
            if e.name.startswith(".") or e.name in SKIP_DIRS or e.name.startswith("checkpoint-"):
                continue
            if e.is_dir(follow_symlinks=False):
                visit(Path(e.path), e.name if rel == "." else f"{rel}/{e.name}", depth + 1)

    visit(root, ".", 0)
    return sorted(found, key=lambda r: r.rel)
