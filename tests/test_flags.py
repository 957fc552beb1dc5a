"""Flags built from config dataclasses (j1eval.flags): one field, one flag, one default."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from j1eval.cli import build_parser
from j1eval.flags import _KEY, add_flags, values_from
from j1eval.judging.config import RunConfig


def _actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions}


def _subparser(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def test_every_flagged_field_of_run_config_is_a_run_flag_with_the_fields_default():
    actions = _actions(_subparser("run"))
    flagged = [f for f in dataclasses.fields(RunConfig) if _KEY in f.metadata]
    assert len(flagged) > 10
    for field in flagged:
        action = actions[field.name]
        assert action.help == (field.metadata[_KEY]["help"] or None)
        if field.default is not dataclasses.MISSING and not action.required:
            assert action.default == field.default, field.name


def test_only_adds_the_named_fields_and_values_come_back_parsed():
    parser = argparse.ArgumentParser()
    add_flags(parser, RunConfig, only={"data_dir", "limit"})
    assert {a.dest for a in parser._actions} == {"help", "data_dir", "limit"}
    args = parser.parse_args(["--data-dir", "d", "--limit", "3"])
    assert (args.data_dir, args.limit) == (Path("d"), 3)
    full = argparse.ArgumentParser()
    add_flags(full, RunConfig)
    values = values_from(full.parse_args(["--judge", "first", "--bench", "ppe,rmbench"]), RunConfig)
    assert values["benches"] == ["ppe,rmbench"] and values["judge"] == "first" and values["data_dir"] is None


def test_score_and_list_take_run_s_data_dir_flag():
    run_flag = _actions(_subparser("run"))["data_dir"]
    for name in ("score", "list"):
        flag = _actions(_subparser(name))["data_dir"]
        assert (flag.help, flag.default, flag.type) == (run_flag.help, run_flag.default, run_flag.type), name
