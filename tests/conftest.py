"""Shared fixtures: the real benchmark data beside the project, and no hub access in tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

#: ../shared/data relative to the project root (read-only real data; never copied into the repo).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The JudgeBench file the end-to-end tests run on (350 GPT-4o pairs).
JUDGEBENCH_FILE = "judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl"


def require(path: Path) -> Path:
    """``path`` if it exists, else skip the calling test saying what is absent."""
    if not path.exists():
        pytest.skip(f"real benchmark data absent: {path} (see ../shared/data/README.md)")
    return path


@pytest.fixture
def shared_data() -> Path:
    """The shared real-data folder; the test is skipped when it is absent."""
    return require(SHARED_DATA)


@pytest.fixture
def data_dir(shared_data: Path) -> Path:
    """The shared data folder, for tests that need the real JudgeBench file (skipped without it)."""
    require(shared_data / JUDGEBENCH_FILE)
    return shared_data


@pytest.fixture
def judgebench_rows(data_dir: Path) -> list[dict]:
    """The raw records of the JudgeBench file."""
    with open(data_dir / JUDGEBENCH_FILE, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture
def fixtures_dir() -> Path:
    """tests/fixtures, laid out like a data dir (ppe/, followbencheval/)."""
    return FIXTURES


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaders never contact the Hugging Face hub in tests (set J1EVAL_TEST_HUB=1 to allow it)."""
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    if not os.environ.get("J1EVAL_TEST_HUB"):
        monkeypatch.setenv("J1EVAL_NO_HUB", "1")
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random chat model built once per session (tests/tiny_model.py), for training tests."""
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
