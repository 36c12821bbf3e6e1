"""``kelly train``'s options are declared in five groups, each owning its flags."""

from __future__ import annotations

import argparse

from kelly_models.training.command import TrainCommand

GROUPS = {
    "data": {
        "--datasets-dir", "--synthetic", "--output", "--model", "--max-items", "--option",
        "--format",
    },
    "training": {"--epochs", "--batch-size", "--lr", "--schedule", "--window"},
    "data split": {"--seed", "--val-split", "--folds", "--augment-keys"},
    "early stopping": {"--patience", "--min-epochs", "--smooth-epochs"},
    "run": {
        "--device", "--resume", "--steps-per-epoch", "--checkpoint-every", "--keep-last",
        "--threads", "--no-progress",
    },
}  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kelly train")
    TrainCommand().configure(parser)
    return parser


def test_each_flag_in_its_group_once() -> None:
    """Every option belongs to exactly one titled group of ``--help``."""
    parser = _parser()
    found: dict[str, set[str]] = {}
    for group in parser._action_groups:
        longs = {
            s
            for a in group._group_actions
            if a.help != argparse.SUPPRESS  # an old spelling kept for one release
            for s in a.option_strings
            if s.startswith("--")
        }
        if group.title in GROUPS:
            found[group.title] = longs - {"--learning-rate"}
    assert found == GROUPS
    help_text = parser.format_help()
    positions = [help_text.index(f"\n{title}:\n") for title in GROUPS]
    assert positions == sorted(positions)


def test_parsing_is_unchanged() -> None:
    """The same command line gives the same values (defaults and given ones)."""
    args = _parser().parse_args(
        ["-o", "out", "--synthetic", "-e", "3", "--lr", "0.01", "--patience", "2", "-r"]
    )
    assert (args.output.name, args.synthetic, args.epochs, args.lr) == ("out", True, 3, 0.01)
    assert (args.patience, args.resume, args.export_format, args.threads) == (
        2,
        True,
        "rtneural",
        1,
    )
    assert args.datasets_dir is None
    assert args.models is None
