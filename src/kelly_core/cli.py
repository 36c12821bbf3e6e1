"""The ``kelly`` command line: subcommands come from plugins (``kelly_commands`` hook).

Only the chosen subcommand's module is imported, so ``kelly --help`` and
``kelly plugins`` stay fast and never import torch.

Output conventions: an error is one line ``kelly: error: ...`` (exit 2); a Kelly warning
is one line ``kelly: warning: ...`` on stderr (never Python's warning format with a
source line); a plugin that fails to load is one such line, shown unless ``-q``
(``kelly plugins`` lists it in full). Output cut short by its reader (``kelly validate
f | head -2``) ends quietly with exit status 1, never a ``BrokenPipeError``. ``-o``
always means ``--output``, and every subcommand's ``--help`` shows each option's default.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shlex
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import TextIO, cast

from kelly_core import __version__
from kelly_core.entries import CommandEntry, DatasetEntry, Entry, ExporterEntry, ModelEntry
from kelly_core.errors import Interrupted, KellyError, KellyPluginWarning, KellyWarning
from kelly_core.registry import ENTRY_KINDS, Registered, Registry, default_registry

__all__ = ["main", "plugin_rows"]

logger = logging.getLogger("kelly")


def plugin_rows(registry: Registry) -> list[dict[str, object]]:
    """Describe every registered entry as a dict (kind, name, distribution, usable, ...)."""
    rows: list[dict[str, object]] = []
    for kind in ENTRY_KINDS:
        for registered in registry.entries(kind):
            rows.append(_row(kind, registered))
    return rows


def _row(kind: str, registered: Registered[Entry]) -> dict[str, object]:
    entry = registered.entry
    detail = ""
    if isinstance(entry, ModelEntry):
        spec = entry.spec
        detail = f"{spec.input_size}->{spec.output_size}, {spec.parameter_count:,} params"
    elif isinstance(entry, DatasetEntry):
        detail = f"trains {entry.model}"
    elif isinstance(entry, ExporterEntry):
        detail = f"*{entry.suffix}"
    elif isinstance(entry, CommandEntry):
        detail = entry.help
    description = getattr(entry, "description", "")
    detail = detail or description
    return {
        "kind": kind,
        "name": entry.name,
        "distribution": registered.distribution,
        "plugin": registered.plugin,
        "usable": registered.usable,
        "missing": list(registered.missing),
        "detail": detail,
        "description": description,
    }


def _print_plugins(registry: Registry, as_json: bool) -> int:
    rows = plugin_rows(registry)
    broken = [
        {"name": b.name, "distribution": b.distribution, "error": b.error} for b in registry.broken
    ]
    if as_json:
        sys.stdout.write(json.dumps({"entries": rows, "broken": broken}, indent=2) + "\n")
        return 0
    width = max((len(str(r["name"])) for r in rows), default=4)
    dist_width = max((len(str(r["distribution"])) for r in rows), default=12)
    for kind in ENTRY_KINDS:
        kind_rows = [r for r in rows if r["kind"] == kind]
        sys.stdout.write(f"{kind}s:\n")
        if not kind_rows:
            sys.stdout.write("  (none)\n")
        for r in kind_rows:
            missing = cast(list[str], r["missing"])
            status = "ok" if r["usable"] else "missing " + ", ".join(map(repr, missing))
            sys.stdout.write(
                f"  {r['name']!s:<{width}}  {r['distribution']!s:<{dist_width}}  {status:<8}  "
                f"{r['detail']}\n"
            )
    if broken:
        sys.stdout.write("broken plugins:\n")
        for b in broken:
            sys.stdout.write(f"  {b['name']}  {b['distribution']}  {b['error']}\n")
    return 0


class HelpFormatter(argparse.HelpFormatter):
    """Adds ``(default X)`` to every option whose help does not state its default (the
    one form every help text uses, :mod:`kelly_core.flags`)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default" in text
            or action.default is None
            or action.default is False
            or action.default == argparse.SUPPRESS
            or action.default == []
            or action.option_strings == []
            or action.required
        ):
            return text
        return f"{text} (default {action.default})" if text else f"(default {action.default})"


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show Kelly warnings as one ``kelly: warning:`` line through logging (``-q`` hides
    plugin warnings, not others); other warnings keep Python's format."""
    original = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, KellyPluginWarning):
            logger.info("kelly: warning: %s (see `kelly plugins`)", message)
        elif issubclass(category, KellyWarning):
            logger.warning("kelly: warning: %s", message)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


def _log_level(args: Sequence[str]) -> int:
    """``-v``/``-q`` from the options before the subcommand (read before plugins load)."""
    level = logging.INFO
    for arg in args:
        if not arg.startswith("-"):
            break
        if arg in ("-v", "--verbose"):
            level = logging.DEBUG
        elif arg in ("-q", "--quiet"):
            level = logging.WARNING
    return level


def _build_parser(registry: Registry) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kelly",
        description="Train, export, validate and run Kelly's five models.",
    )
    parser.add_argument("--version", action="version", version=f"kelly {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    plugins = sub.add_parser(
        "plugins", help="list registered models, datasets, exporters, backends"
    )
    plugins.add_argument("--json", action="store_true", help="print one JSON object")
    for name in registry.names("command"):
        if name == "plugins":
            continue
        try:
            entry = cast(CommandEntry, registry.resolve("command", name).entry)
            help_text = entry.help
        except KellyError as exc:
            help_text = f"(unavailable: {exc})"
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kelly`` command line; return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=_log_level(args_list), format="%(message)s", stream=sys.stderr)
    with _warnings_as_lines(), warnings.catch_warnings():
        warnings.simplefilter("default", KellyWarning)
        try:
            code = _main(args_list)
            sys.stdout.flush()  # a closed pipe shows here, not at exit as "Exception ignored"
        except BrokenPipeError:
            _stdout_to_devnull()
            return BROKEN_PIPE_STATUS
        return code


BROKEN_PIPE_STATUS = 1
"""Exit status when the reader of standard output went away (``kelly validate f | head``):
Python's own status for an unhandled ``EPIPE``, without its traceback."""


def _stdout_to_devnull() -> None:
    """Point the standard output's descriptor at ``/dev/null`` so that nothing buffered
    raises again when Python flushes it at exit (the recipe of Python's ``signal`` docs)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _main(args_list: list[str]) -> int:
    try:
        registry = default_registry()
        parser = _build_parser(registry)
        known, _ = parser.parse_known_args(args_list)
    except KellyError as exc:
        sys.stderr.write(f"kelly: error: {exc}\n")
        return 2
    try:
        if known.command is None:
            parser.print_help()
            return 0
        if known.command == "plugins":
            args = parser.parse_args(args_list)
            return _print_plugins(registry, bool(args.json))
        command = registry.command(known.command)
        sub = argparse.ArgumentParser(
            prog=f"kelly {known.command}",
            description=cast(CommandEntry, registry.resolve("command", known.command).entry).help,
            formatter_class=HelpFormatter,
        )
        command.configure(sub)
        index = args_list.index(known.command)
        return command.run(sub.parse_args(args_list[index + 1 :]))
    except KellyError as exc:
        sys.stderr.write(f"kelly: error: {exc}\n")
        return 2
    except KeyboardInterrupt as exc:
        sys.stderr.write(_interrupted_line(exc, args_list))
        return 130


def _interrupted_line(exc: KeyboardInterrupt, args_list: list[str]) -> str:
    """``kelly: interrupted``, with a command's hint and how to continue where it has them."""
    if not isinstance(exc, Interrupted):
        return "kelly: interrupted\n"
    line = f"kelly: interrupted; {exc.hint}"
    if exc.rerun_with is not None:
        again = list(args_list)
        if not any(flag in again for flag in exc.rerun_flags):
            again.append(exc.rerun_with)
        line += f"; to continue: {shlex.join(['kelly', *again])}"
    return line + "\n"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
