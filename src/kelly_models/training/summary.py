"""The run summary: one row per model, as a text table, Markdown and JSON.

``summary.json`` and ``summary.md`` describe every model trained into the run folder, not
only the last run's: :func:`write_summary` keeps the rows of the models a run did not
train (read back from ``summary.json``) and replaces the rows of those it did.
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

from kelly_core.errors import KellyError, KellyWarning
from kelly_core.fileio import atomic_write_json, atomic_write_text
from kelly_models.training.report import STRONGEST, ModelReport
from kelly_models.training.report import strongest_mark as _mark
from kelly_models.training.runfolder import check_no_link

__all__ = ["format_table", "merge_reports", "write_summary"]

logger = logging.getLogger(__name__)

_MAX_SUMMARY_BYTES = 16 * 1024 * 1024

_HEADERS = (
    "model",
    "dataset",
    "epochs",
    "val loss",
    "test loss (baseline)",
    "metric: test (strongest baseline)",
    "emotion shuffled",
    "params",
    "bytes",
    "file",
)


def _number(value: object, digits: int = 4) -> str:
    return "n/a" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]  # JSON number


def _spread(report: ModelReport) -> str:
    if report.folds <= 1:
        return ""
    return f" ± {report.spread.get(report.headline, 0.0):.3f} ({report.folds} folds)"


def _rows(reports: Sequence[ModelReport]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for report in reports:
        row = report.to_dict()
        dataset = f"{row['dataset']}{' (synthetic)' if report.synthetic else ''}"
        epochs = f"{row['epochs']}{' (early stop)' if report.stopped_early else ''}"
        mark = "" if report.beats_baseline else " !"
        rows.append(
            (
                report.model,
                dataset,
                epochs,
                _number(row["val_loss"]),
                f"{_number(row['test_loss'])} ({_number(row['baseline_test_loss'])})",
                f"{report.headline}: {_number(row['metric_value'], 3)}{_spread(report)} "
                f"({report.baseline} {_number(row['baseline_metric_value'], 3)}){mark}",
                _number(row["emotion_shuffled_metric_value"], 3)
                if row["emotion_shuffled_metric_value"] is not None
                else "-",
                f"{report.parameters:,}",
                f"{report.file_bytes:,}",
                report.file.name,
            )
        )
    return rows


def format_table(reports: Sequence[ModelReport], *, markdown: bool = False) -> str:
    """Return the summary as an aligned text table, or a Markdown table.

    A ``!`` after the metric marks a model that does not beat its strongest baseline.
    """
    rows = _rows(reports)
    if markdown:
        lines = ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(_HEADERS, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines) + "\n"


def write_summary(reports: Sequence[ModelReport], output: Path) -> tuple[Path, Path]:
    """Write ``summary.json`` and ``summary.md`` into ``output``; return both paths.

    Rows of models trained into ``output`` earlier and not by this run are kept
    (:func:`merge_reports`).

    :raises OutputError: If either file, or ``output``'s entry for it, is a symbolic link.
    """
    for name in ("summary.json", "summary.md"):
        check_no_link(output / name, root=output)
    merged = merge_reports(_earlier(output / "summary.json"), reports)
    trained = {r.model for r in reports}
    kept = [r.model for r in merged if r.model not in trained]
    if kept:
        logger.info("summary: also lists %s, trained into %s earlier", ", ".join(kept), output)
    reports = merged
    json_path = atomic_write_json(
        output / "summary.json", {"models": [r.to_dict() for r in reports]}, indent=1
    )
    text = "# Training summary\n\n" + format_table(reports, markdown=True)
    text += "\nTest loss and metric on the held-out test split; the strongest baseline fitted "
    text += "on the training split in parentheses (`!` marks a model that does not beat it in "
    text += "both loss and metric); *emotion shuffled*: the metric with the emotion input "
    text += "shuffled across test sequences. The "
    text += STRONGEST.format(metric="metric") + ".\n\n" + baseline_table(reports, markdown=True)
    verdict = verdict_line(reports)
    text += f"\n{verdict}\n"
    md_path = atomic_write_text(output / "summary.md", text)
    return json_path, md_path


def baseline_table(reports: Sequence[ModelReport], *, markdown: bool = False) -> str:
    """Every baseline of every model: loss and headline metric beside the model's."""
    lines: list[tuple[str, ...]] = [("model", "predictor", "test loss", "metric")]
    for report in reports:
        row = report.to_dict()
        lines.append(
            (
                report.model,
                "model",
                _number(row["test_loss"]),
                f"{report.headline}: {_number(row['metric_value'], 3)}",
            )
        )
        baselines = row["baselines"]
        assert isinstance(baselines, dict)
        mark = functools.partial(
            _mark, by_metric=report.baseline, by_loss=report.loss_baseline, metric=report.headline
        )
        for name, values in baselines.items():
            lines.append(
                (
                    report.model,
                    name + mark(name),
                    _number(values["loss"]),
                    f"{report.headline}: {_number(values[report.headline], 3)}",
                )
            )
    if markdown:
        out = ["| " + " | ".join(lines[0]) + " |", "|" + "---|" * len(lines[0])]
        out += ["| " + " | ".join(line) + " |" for line in lines[1:]]
        return "\n".join(out) + "\n"
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return (
        "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in lines
        )
        + "\n"
    )


def verdict_line(reports: Sequence[ModelReport]) -> str:
    """One line: every model beats its strongest baseline, or which do not (and by what)."""
    losers = [r for r in reports if not r.beats_baseline]
    if not losers:
        return "Every model beats its strongest baseline."
    parts = []
    for r in losers:
        row = r.to_dict()
        parts.append(
            f"{r.model} ({r.headline} {_number(row['metric_value'], 3)} vs {r.baseline} "
            f"{_number(row['baseline_metric_value'], 3)}, loss {_number(row['test_loss'])} vs "
            f"{r.loss_baseline} {_number(row['baseline_test_loss'])})"
        )
    return "NOT better than the strongest baseline: " + "; ".join(parts)


def merge_reports(
    earlier: Sequence[ModelReport], reports: Sequence[ModelReport]
) -> list[ModelReport]:
    """``earlier`` in their order with each model of ``reports`` replacing its row; models
    new to the folder after them, in ``reports``' order."""
    fresh = {r.model: r for r in reports}
    merged: list[ModelReport] = []
    for report in earlier:
        if all(r.model != report.model for r in merged):
            merged.append(fresh.pop(report.model, report))
    return merged + [r for r in reports if r.model in fresh]


def _earlier(path: Path) -> list[ModelReport]:
    """The rows of an earlier ``summary.json`` (none, with a warning, if it cannot be read)."""
    if not path.exists():
        return []
    try:
        if not path.is_file() or path.stat().st_size > _MAX_SUMMARY_BYTES:
            raise ValueError("not a regular file of at most 16 MiB")
        document = json.loads(path.read_text(encoding="utf-8"))
        rows = document["models"]
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise TypeError("'models' is not a list of objects")
        reports = [ModelReport.from_dict(row) for row in rows]
    except (OSError, ValueError, TypeError, KeyError, KellyError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        warnings.warn(
            f"{path}: cannot read the earlier summary ({reason}); it is rewritten with this "
            "run's models only",
            KellyWarning,
            stacklevel=3,
        )
        return []
    return reports
