"""Shared fixtures: the real benchmark data beside the project, and no hub access in tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: ../shared/data relative to the project root (read-only real data; never copied into the repo).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
def fixtures_dir() -> Path:
    """tests/fixtures, laid out like a data dir (ppe/, followbencheval/)."""
    return FIXTURES


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaders never contact the Hugging Face hub in tests (set J1EVAL_TEST_HUB=1 to allow it)."""
    if not os.environ.get("J1EVAL_TEST_HUB"):
        monkeypatch.setenv("J1EVAL_NO_HUB", "1")
