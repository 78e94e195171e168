"""The `python -m monai.bundle run` command line as a bundle sees it: unknown overrides, errors as exits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from monai_mammo.bundle import UnknownOverrideError, check_overrides, exits_on_command_line, unknown_overrides
from monai_mammo.bundle.command_line import as_flag, is_bundle_run, runner_arguments

MAIN = "/venv/lib/python3.11/site-packages/monai/bundle/__main__.py"


@pytest.fixture
def configs(tmp_path: Path) -> tuple[str, str]:
    """A config with a few ids, and a second one that adds an id (as evaluate.json adds to train.json)."""
    first, second = tmp_path / "inference.json", tmp_path / "extra.json"
    first.write_text(json.dumps({"dataset_dir": ".", "output_dir": ".", "network_def": {}, "run": []}))
    second.write_text(json.dumps({"n_boot": 10}))
    return str(first), str(second)


def run_argv(*args: str) -> list[str]:
    return [MAIN, "run", *args]


def test_the_runner_arguments_come_from_monai() -> None:
    assert {"config_file", "meta_file", "logging_file", "args_file", "run_id", "init_id", "final_id"} <= (
        runner_arguments()
    )
    assert {"tracking", "workflow_type", "workflow_name"} <= runner_arguments()
    assert "override" not in runner_arguments() and "self" not in runner_arguments()


def test_a_mistyped_override_is_named_with_the_nearest_id(configs: tuple[str, str]) -> None:
    found = unknown_overrides(run_argv("--config_file", configs[0], "--data_dir", "/my/images"))
    assert [(u.flag, u.suggestion) for u in found] == [("--data_dir", "--dataset_dir")]
    expected = r"unknown override --data_dir; did you mean --dataset_dir\?"
    with pytest.raises(UnknownOverrideError, match=expected):
        check_overrides(run_argv("--config_file", configs[0], "--data_dir", "/my/images"))


@pytest.mark.parametrize(
    "args",
    [
        ("--dataset_dir", "/x", "--output_dir=/y"),
        ("--network_def#channels", "[4, 8]"),  # nested ids: checked by their first component
        ("--network_def::channels", "[4, 8]"),
        ("--meta_file", "m.json", "--logging_file", "l.conf", "--run_id", "run", "--workflow_type", "infer"),
        ("--dataset-dir", "/x"),  # fire reads hyphens as underscores
        ("--_meta_#version", "1"),
        ("--tracking", "mlflow", "--tracking_uri", "file:///tmp/ml"),  # added by MONAI's tracking settings
        ("--dataset_dir", "/x", "--", "--trace"),  # after a lone "--" come fire's own flags
    ],
)
def test_known_ids_and_runner_arguments_pass(configs: tuple[str, str], args: tuple[str, ...]) -> None:
    assert unknown_overrides(run_argv("--config_file", configs[0], *args)) == []
    check_overrides(run_argv("--config_file", configs[0], *args))


def test_nested_ids_and_every_unknown_override_are_reported(configs: tuple[str, str]) -> None:
    argv = run_argv(
        "--config_file", configs[0], "--netwrk_def#channels", "[4]", "--zzz", "1", "--tracking_uri=u"
    )
    found = unknown_overrides(argv)
    assert [(u.flag, u.suggestion) for u in found] == [
        ("--netwrk_def#channels", "--network_def#channels"),
        ("--zzz", None),
        ("--tracking_uri", "--tracking"),  # an id only with --tracking
    ]
    with pytest.raises(UnknownOverrideError) as info:
        check_overrides(argv)
    message = str(info.value)
    assert "--zzz" in message and "inference.json" in message
    assert "did you mean --network_def#channels?" in message


@pytest.mark.parametrize("form", ["python_list", "comma", "equals"])
def test_the_ids_of_every_config_file_count(configs: tuple[str, str], form: str) -> None:
    value = {"python_list": f"['{configs[0]}', '{configs[1]}']", "comma": ",".join(configs)}.get(form)
    args = [f"--config_file={configs[0]},{configs[1]}"] if form == "equals" else ["--config_file", value]
    assert unknown_overrides(run_argv(*args, "--n_boot", "5", "--dataset_dir", "/x")) == []
    assert [u.flag for u in unknown_overrides(run_argv(*args, "--n_boots", "5"))] == ["--n_boots"]


def test_the_config_file_and_overrides_of_an_args_file(configs: tuple[str, str], tmp_path: Path) -> None:
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"config_file": configs[0], "dataset_dir": "/x", "outptu_dir": "/y"}))
    found = unknown_overrides(run_argv("--args_file", str(args_file), "--network_def#x", "1"))
    assert [(u.flag, u.suggestion) for u in found] == [("outptu_dir", "output_dir")]


def test_nothing_is_checked_outside_a_bundle_run(configs: tuple[str, str]) -> None:
    # a ConfigWorkflow built from Python (tests, MONAI Label): no --config_file, or not monai.bundle's command
    assert unknown_overrides([MAIN, "run", "--data_dir", "/x"]) == []
    assert unknown_overrides(["pytest", "--config_file", configs[0], "--data_dir", "/x"]) == []
    assert unknown_overrides([MAIN, "ckpt_export", "--config_file", configs[0], "--filepath", "m.ts"]) == []
    check_overrides()  # this process (pytest) is not a bundle run


def test_is_bundle_run() -> None:
    assert is_bundle_run([MAIN, "run", "--config_file", "a.json"])
    assert is_bundle_run([MAIN, "run_workflow"])
    assert not is_bundle_run([MAIN, "verify_metadata"])
    assert not is_bundle_run(["/usr/bin/pytest", "run"])
    assert not is_bundle_run([])


def test_typed_errors_become_exits_on_the_command_line_only(monkeypatch: pytest.MonkeyPatch) -> None:
    @exits_on_command_line(FileNotFoundError)
    def check(path: str) -> None:
        raise FileNotFoundError(f"input {path!r} does not exist (set --dataset_dir).")

    with pytest.raises(FileNotFoundError):  # from Python: the typed error
        check("/x")
    monkeypatch.setattr(sys, "argv", [MAIN, "run", "--config_file", "a.json"])
    with pytest.raises(SystemExit) as info:  # from the command line: the message alone, exit status 1
        check("/x")
    assert str(info.value.code) == "error: input '/x' does not exist (set --dataset_dir)."
    assert isinstance(info.value.__cause__, FileNotFoundError)

    @exits_on_command_line(FileNotFoundError)
    def other() -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError):  # other errors keep their traceback
        other()


@pytest.mark.parametrize(
    "value, expected",
    [
        (True, True),
        (False, False),
        (np.bool_(True), True),
        (1, True),
        (0, False),
        (np.int64(0), False),
        ("true", True),
        ("False", False),
        (" yes ", True),
        ("off", False),
        ("1", True),
        ("0", False),
    ],
)
def test_flags_from_a_command_line(value: object, expected: bool) -> None:
    assert as_flag(value, "resume") is expected


@pytest.mark.parametrize("value", ["maybe", "", 2, None])
def test_a_flag_that_is_not_true_or_false_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="progress must be true or false"):
        as_flag(value, "progress")


def test_as_flag_old_place_still_works_with_a_deprecation_warning() -> None:
    from monai_mammo.handlers.checkpoints import as_flag as old_as_flag

    with pytest.warns(DeprecationWarning, match="monai_mammo.bundle.command_line.as_flag"):
        assert old_as_flag("off", "progress") is False
