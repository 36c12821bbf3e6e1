"""The run summary: one row per model, as a text table, Markdown and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kelly_core.fileio import atomic_write_json, atomic_write_text
from kelly_models.training.run import ModelReport

__all__ = ["format_table", "write_summary"]

_HEADERS = (
    "model",
    "dataset",
    "epochs",
    "val loss",
    "test loss (baseline)",
    "metric: test (baseline)",
    "params",
    "bytes",
    "file",
)


def _number(value: object, digits: int = 4) -> str:
    return "n/a" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]  # JSON number


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
                f"{report.headline}: {_number(row['metric_value'], 3)} "
                f"({_number(row['baseline_metric_value'], 3)}){mark}",
                f"{report.parameters:,}",
                f"{report.file_bytes:,}",
                report.file.name,
            )
        )
    return rows


def format_table(reports: Sequence[ModelReport], *, markdown: bool = False) -> str:
    """Return the summary as an aligned text table, or a Markdown table.

    A ``!`` after the metric marks a model that does not beat its baseline.
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
    """Write ``summary.json`` and ``summary.md`` into ``output``; return both paths."""
    json_path = atomic_write_json(
        output / "summary.json", {"models": [r.to_dict() for r in reports]}, indent=1
    )
    text = "# Training summary\n\n" + format_table(reports, markdown=True)
    text += "\nTest loss and metric on the held-out test split; baseline in parentheses "
    text += "(`!` marks a model that does not beat it).\n"
    md_path = atomic_write_text(output / "summary.md", text)
    return json_path, md_path
