"""The ``python -m monai.bundle run`` command line as a bundle sees it: overrides checked, errors as exits.

MONAI's runner (``fire`` over :func:`monai.bundle.scripts.run`) takes every ``--name value`` it does not
know as an override of the config, and an override of an id the config does not have just adds an unused
id: ``--data_dir /my/images`` for ``--dataset_dir`` runs the whole bundle on its sample and exits 0. The
runner gives configs no hook for this, so a bundle calls :func:`check_overrides` first in its
``initialize`` step: it reads ``sys.argv``, loads the top-level ids of the ``--config_file`` file(s) and
refuses any override that is neither one of them nor an argument of the runner, naming the nearest id.

:func:`as_flag` reads a boolean option that came from the command line as text (``--resume false``).

:func:`exits_on_command_line` turns the typed errors of a bundle's own checks into a one-line exit on the
command line (no 60-line traceback ending in "Failed to evaluate ConfigExpression"), while the same
functions raise their typed errors when a bundle is run from Python (``ConfigWorkflow``, MONAI Label).
"""

from __future__ import annotations

import ast
import difflib
import functools
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

__all__ = [
    "UnknownOverride",
    "UnknownOverrideError",
    "as_flag",
    "check_overrides",
    "exits_on_command_line",
    "is_bundle_run",
    "runner_arguments",
    "unknown_overrides",
]

_RUN_COMMANDS = ("run", "run_workflow")
_ID_SEPARATORS = ("::", "#")
_META_ID = "_meta_"  # where ConfigParser keeps the metadata file's content

F = TypeVar("F", bound=Callable[..., Any])


class UnknownOverride(NamedTuple):
    """An override naming no id of the config.

    Args:
        flag: the override as given (``"--data_dir"``; an ``args_file`` key has no dashes).
        suggestion: the nearest known id, written the same way (``"--dataset_dir"``), or ``None``.
    """

    flag: str
    suggestion: str | None


class UnknownOverrideError(ValueError):
    """The command line overrides an id that none of the bundle's config files has (a mistyped name)."""


def as_flag(value: Any, name: str) -> bool:
    """A boolean option that may come from a command line as text (``--resume false`` gives ``"false"``).

    Args:
        value: a bool, an int 0/1, or one of the texts true/false, yes/no, on/off, 1/0 (any case).
        name: the option's name, for the message.

    Returns:
        The boolean.

    Raises:
        ValueError: for anything else (``bool("false")`` would silently be ``True``).
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"{name} must be true or false, got {value!r}.")


def is_bundle_run(argv: Sequence[str] | None = None) -> bool:
    """Whether ``argv`` is ``python -m monai.bundle run ...`` (or ``run_workflow``; also under ``torchrun``).

    Args:
        argv: the command line (default: ``sys.argv``).
    """
    argv = sys.argv if argv is None else argv
    return _is_monai_bundle_command(argv) and argv[1] in _RUN_COMMANDS


def _is_monai_bundle_command(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is ``python -m monai.bundle <command> ...``, whatever the command."""
    if len(argv) < 2:
        return False
    main = Path(str(argv[0]))
    return main.name == "__main__.py" and main.parent.name == "bundle" and main.parent.parent.name == "monai"


def bundle_command_config_files(argv: Sequence[str] | None = None) -> list[str]:
    """The ``--config_file`` file(s) of a ``python -m monai.bundle <command>`` command line, as given.

    Any command counts (``run``, ``ckpt_export``, ``verify_net_in_out``, ...); the files may also come from
    ``--args_file``. Used by :func:`~monai_mammo.bundle.paths.locate_bundle_root` to find the bundle whose
    config is being run, which MONAI's config parser does not tell the config.

    Args:
        argv: the command line (default: ``sys.argv``).

    Returns:
        The config file paths; empty for any other process (pytest, MONAI Label, a script).
    """
    argv = list(sys.argv if argv is None else argv)
    if not _is_monai_bundle_command(argv):
        return []
    return _read_command_line(argv).config_files


@functools.lru_cache(maxsize=1)
def runner_arguments() -> frozenset[str]:
    """The names ``monai.bundle run``/``run_workflow`` take as their own arguments, not as overrides.

    Read from the signatures of MONAI's :func:`~monai.bundle.scripts.run`, ``run_workflow``,
    ``create_workflow`` and :class:`~monai.bundle.ConfigWorkflow`, so they follow the installed MONAI.
    """
    from monai.bundle import ConfigWorkflow, scripts

    names: set[str] = set()
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    for fn in (scripts.run, scripts.run_workflow, scripts.create_workflow, ConfigWorkflow.__init__):
        names |= {p.name for p in inspect.signature(fn).parameters.values() if p.kind in kinds}
    return frozenset(names - {"self"})


def _is_flag(token: str) -> bool:
    """A flag as fire reads one: ``--name`` or ``-name``, not a negative number."""
    return token.startswith("--") or (len(token) > 1 and token[0] == "-" and token[1].isalpha())


def _parse_flags(args: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """``(flag as given, name, value)`` of each flag in ``args``, paired as fire does; stops at a lone --."""
    flags: list[tuple[str, str, str | None]] = []
    skip = False
    for index, token in enumerate(args):
        if skip:
            skip = False
            continue
        if token == "--":
            break
        if not _is_flag(token):
            continue  # a positional argument (the run_id)
        flag, _, inline = token.partition("=")
        name = flag.lstrip("-").replace("-", "_")
        if "=" in token:
            flags.append((flag, name, inline))
        elif index + 1 < len(args) and not _is_flag(args[index + 1]):
            flags.append((flag, name, args[index + 1]))
            skip = True
        else:
            flags.append((flag, name, None))  # a boolean flag
    return flags


def _config_files(value: Any) -> list[str]:
    """The files of a ``config_file`` value: a path, a Python/JSON list of paths, or comma-joined paths."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    text = str(value)
    if not os.path.isfile(text) and "," in text:  # as MONAI's ConfigParser.load_config_files
        return [part.strip() for part in text.split(",")]
    return [text]


def _top_level_ids(files: Sequence[str]) -> set[str]:
    from monai.bundle import ConfigParser

    ids: set[str] = set()
    for file in files:
        content = ConfigParser.load_config_file(file)
        if isinstance(content, dict):
            ids |= {str(k) for k in content}
    return ids


def _tracking_ids(value: str | None) -> set[str]:
    """The ids a ``--tracking`` setting adds to the config (MONAI's ``patch_bundle_tracking``)."""
    if not value:
        return set()
    from monai.bundle import ConfigParser
    from monai.bundle.utils import DEFAULT_EXP_MGMT_SETTINGS

    try:
        settings = DEFAULT_EXP_MGMT_SETTINGS.get(value) or ConfigParser.load_config_files(value)
    except Exception:  # a settings file MONAI itself will report on
        return set()
    configs = settings.get("configs", {}) if isinstance(settings, dict) else {}
    return {str(k) for k in configs} if isinstance(configs, dict) else set()


def _first_component(name: str) -> str:
    for separator in _ID_SEPARATORS:
        name = name.split(separator, 1)[0]
    return name


def _suggest(name: str, known: Sequence[str], prefix: str) -> str | None:
    first = _first_component(name)
    match = difflib.get_close_matches(first, known, n=1, cutoff=0.6)
    return f"{prefix}{match[0]}{name[len(first) :]}" if match else None


class _CommandLine(NamedTuple):
    flags: list[tuple[str, str, Any]]  # (flag as given, name, value)
    args_file: dict[str, Any]  # the --args_file content
    config_files: list[str]


def _read_command_line(argv: Sequence[str]) -> _CommandLine:
    from monai.bundle import ConfigParser

    flags = _parse_flags(argv[2:])
    given = {name: value for _, name, value in flags}
    args_file: dict[str, Any] = {}
    if given.get("args_file"):
        loaded = ConfigParser.load_config_file(str(given["args_file"]))
        args_file = dict(loaded) if isinstance(loaded, dict) else {}
    config_file = given.get("config_file") or args_file.get("config_file")
    return _CommandLine(flags, args_file, _config_files(config_file) if config_file else [])


def unknown_overrides(argv: Sequence[str] | None = None) -> list[UnknownOverride]:
    """The overrides of a ``monai.bundle run`` command line that name no id of its config file(s).

    An override ``--a#b#c`` (or ``--a::b::c``) is checked by its first component ``a``. The known names are
    the top-level ids of every ``--config_file`` (a path, a list of paths), the runner's own arguments
    (:func:`runner_arguments`), ``_meta_`` and, with ``--tracking``, the ids its settings add. The keys of an
    ``--args_file`` are checked too (it may also give the ``config_file``).

    Args:
        argv: the command line (default: ``sys.argv``).

    Returns:
        The unknown overrides in command-line order; empty when ``argv`` is not a bundle run (see
        :func:`is_bundle_run`) or names no config file.
    """
    argv = list(sys.argv if argv is None else argv)
    if not is_bundle_run(argv):
        return []
    command = _read_command_line(argv)
    if not command.config_files:
        return []
    config_ids = _top_level_ids(command.config_files)
    tracking = {name: value for _, name, value in command.flags}.get("tracking") or command.args_file.get(
        "tracking"
    )
    known = config_ids | runner_arguments() | {_META_ID} | _tracking_ids(str(tracking) if tracking else None)
    candidates = sorted(config_ids | runner_arguments())
    found = [
        UnknownOverride(flag, _suggest(name, candidates, "--"))
        for flag, name, _ in command.flags
        if _first_component(name) not in known
    ]
    found += [
        UnknownOverride(str(key), _suggest(str(key), candidates, ""))
        for key in command.args_file
        if _first_component(str(key)) not in known
    ]
    return found


def exits_on_command_line(*errors: type[BaseException]) -> Callable[[F], F]:
    """Make a bundle check exit with its message, instead of raising, when this process is a bundle run.

    ``python -m monai.bundle run`` shows an error raised inside a config expression as a long traceback
    whose last line is MONAI's "Failed to evaluate ConfigExpression"; a ``SystemExit`` passes through MONAI
    and ``fire`` untouched and prints its message alone, with exit status 1. The wrapped function raises
    ``SystemExit`` with ``error: <message>`` for ``errors`` when :func:`is_bundle_run` holds for ``sys.argv``,
    and its typed error everywhere else; other errors keep their traceback.

    Args:
        errors: the error types that are the user's to fix (a missing folder, a mistyped name).
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except errors as e:
                if not is_bundle_run():
                    raise
                raise SystemExit("\n".join(f"error: {line}" for line in str(e).splitlines())) from e

        return checked  # type: ignore[return-value]

    return wrap


@exits_on_command_line(UnknownOverrideError)
def check_overrides(argv: Sequence[str] | None = None) -> None:
    """Refuse a ``monai.bundle run`` command line that overrides an id its config file(s) do not have.

    Called first in a bundle's ``initialize`` step (``"$monai_mammo.bundle.check_overrides()"``), so that
    nothing is read or written before a mistyped name is reported. Outside a bundle run (a ``ConfigWorkflow``
    built from Python, MONAI Label) it does nothing. On the command line the error becomes a one-line exit
    with status 1 (see :func:`exits_on_command_line`).

    Args:
        argv: the command line (default: ``sys.argv``).

    Raises:
        UnknownOverrideError: one line per unknown override, e.g. ``unknown override --data_dir; did you
            mean --dataset_dir?``.
    """
    found = unknown_overrides(argv)
    if not found:
        return
    files = ", ".join(
        Path(f).name for f in _read_command_line(list(sys.argv if argv is None else argv)).config_files
    )
    lines = []
    for unknown in found:
        where = "" if unknown.flag.startswith("-") else " (in --args_file)"
        if unknown.suggestion is not None:
            lines.append(f"unknown override {unknown.flag}{where}; did you mean {unknown.suggestion}?")
        else:
            lines.append(
                f"unknown override {unknown.flag}{where}: no such id in {files}, nor an argument of "
                "`monai.bundle run`."
            )
    raise UnknownOverrideError("\n".join(lines))
