"""A small mutation check: does the test suite notice when the code is broken on purpose?

Each mutation below replaces one exact piece of source text with a plausible bug. For each
one the script copies the repository (without ``.git`` and virtual environments) into a
temporary folder, applies the mutation there, runs the tests named for it against that
copy and reports ``caught`` (a test failed, naming the first one), ``missed`` (every test
passed: a gap in the suite) or ``stale`` (the text to replace is no longer in the source:
update the mutation). The working tree is never written, so an interrupted run leaves
nothing mutated behind.

Usage (from the repository root, with the development install)::

    .venv/bin/python tests/mutation/run.py                 # every mutation
    .venv/bin/python tests/mutation/run.py --list          # names only
    .venv/bin/python tests/mutation/run.py resume-afresh   # some, by name
    .venv/bin/python tests/mutation/run.py --all-tests     # each against the whole suite

The exit status is 0 when every mutation is caught, 1 otherwise. Not part of CI (pytest
does not collect this file: its name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(
    ".git", ".venv*", "runs", "__pycache__", ".hypothesis", ".mypy_cache", ".ruff_cache",
    ".pytest_cache", "*.egg-info",
)  # fmt: skip
TIMEOUT_S = 900


@dataclass(frozen=True)
class Mutation:
    """One deliberate bug: replace ``old`` (exactly once) by ``new`` in ``path``."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    """pytest arguments (files or node ids) that should catch it."""
    what: str


MUTATIONS: tuple[Mutation, ...] = (
    # --- the five behaviour changes a first mutation pass found the suite missing -------
    Mutation(
        name="dense-kernel-columns",
        path="src/kelly_export/check.py",
        old="    if got[0] == rows and got[1] != cols and not gates:\n        out.add(\n",
        new="    if got[0] == rows and got[1] != cols and not gates:\n"
        "        return 0\n        out.add(\n",
        tests=("tests/unit/kelly_export", "tests/integration/test_rtneural_files.py"),
        what="a dense kernel with the right rows and too few columns is reported valid",
    ),
    Mutation(
        name="bptt-state-reset",
        path="src/kelly_models/training/loop.py",
        old="            state = detach_state(state)\n",
        new="            state = None\n",
        tests=("tests/unit/kelly_models/training/test_loop.py",),
        what="the LSTM state is reset at every truncated-BPTT window edge",
    ),
    Mutation(
        name="bptt-logits-state-dropped",
        path="src/kelly_models/training/adapter.py",
        old="        previous = None if body_state is None else body_state[index]\n",
        new="        previous = None\n",
        tests=("tests/unit/kelly_models/training/test_loop.py",),
        what="training a softmax or sigmoid model (its logits path) drops the carried state",
    ),
    Mutation(
        name="resume-afresh",
        path="src/kelly_models/training/loop.py",
        old="        self._check_compatible(path, state)\n",
        new="        self._check_compatible(path, state)\n        return path\n",
        tests=("tests/unit/kelly_models/training/test_loop.py",),
        what="resume checks the checkpoint, then silently trains from scratch",
    ),
    Mutation(
        name="pipeline-previous-chord",
        path="src/kelly_runtime/pipeline.py",
        old="        self._previous_chords = np.asarray(chords, dtype=np.float32)\n",
        new="        self._previous_chords = np.zeros(64, dtype=np.float32)\n",
        tests=(
            "tests/unit/kelly_runtime/test_pipeline.py",
            "tests/unit/kelly_runtime/test_pipeline_key.py",
        ),
        what="the pipeline feeds zeros instead of the previous chord after each beat",
    ),
    Mutation(
        name="pipeline-melody-feedback",
        path="src/kelly_runtime/pipeline.py",
        old="        history[0] = melody_feedback(played, self._threshold)\n",
        new="        history[0] = 0.0\n",
        tests=("tests/unit/kelly_runtime/test_pipeline_key.py",),
        what="the pipeline feeds the MelodyTransformer rests instead of the notes it played",
    ),
    Mutation(
        name="melody-context-leaks-the-target",
        path="src/kelly_core/encodings/context.py",
        old="    previous[1:] = on[:-1]\n",
        new="    previous[:] = on\n",
        tests=("tests/unit/kelly_core/encodings/test_melody_context.py",),
        what="teacher forcing shows the model the beat it must predict, not the one before",
    ),
    Mutation(
        name="generate-accents",
        path="src/kelly_runtime/generate/style.py",
        old="    raw = (expression.accent_1, expression.accent_2, expression.accent_3, "
        "expression.accent_4)\n",
        new="    raw = (90 / 127, 75 / 127, 82 / 127, 75 / 127)\n",
        tests=("tests/unit/kelly_runtime/generate",),
        what="generate ignores the accent fields of the expression",
    ),
    # --- more, one per area -----------------------------------------------------------
    Mutation(
        name="export-lstm-bias-hh-dropped",
        path="src/kelly_export/layout.py",
        old="    summed = np.asarray(bias_ih, dtype=np.float64) + np.asarray(bias_hh, "
        "dtype=np.float64)\n",
        new="    summed = np.asarray(bias_ih, dtype=np.float64)\n",
        tests=("tests/unit/kelly_export", "tests/integration/test_rtneural_files.py"),
        what="the exported LSTM bias is bias_ih alone instead of bias_ih + bias_hh",
    ),
    Mutation(
        name="export-lstm-gate-order",
        path="src/kelly_export/layout.py",
        old="_f32(np.asarray(weight_ih).T)",
        new="_f32(np.roll(np.asarray(weight_ih).T, np.shape(weight_hh)[1], axis=1))",
        tests=("tests/integration/test_rtneural_files.py",),
        what="the exported input kernel's gate blocks are rotated (o, i, f, c): shapes "
        "stay valid, the plugin computes something else",
    ),
    Mutation(
        name="numpy-reset-keeps-cell",
        path="src/kelly_runtime/backends/numpy_backend.py",
        old="        self.h.fill(0.0)\n        self.cg.fill(0.0)\n",
        new="        self.h.fill(0.0)\n",
        tests=("tests/unit/kelly_runtime/backends/test_numpy_backend.py",),
        what="the numpy backend's reset() keeps the LSTM cell state",
    ),
    Mutation(
        name="torch-fast-reset-keeps-cell",
        path="src/kelly_runtime/backends/torch_backend.py",
        old="        self.xh.zero_()\n        self.cg.zero_()\n",
        new="        self.xh.zero_()\n",
        tests=("tests/unit/kelly_runtime/backends/test_torch_backend.py",),
        what="the torch fast path's reset() keeps the LSTM cell state",
    ),
    Mutation(
        name="torch-run-resets-state",
        path="src/kelly_runtime/backends/torch_backend.py",
        old="        run_with = cast(RunWith, self._run_with)\n",
        new="        self.reset()\n        run_with = cast(RunWith, self._run_with)\n",
        tests=("tests/unit/kelly_runtime/backends/test_torch_backend.py",),
        what="the torch backend's run() starts from a zero state instead of carrying it",
    ),
    Mutation(
        name="torch-fast-elu-as-relu",
        path="src/kelly_runtime/backends/torch_backend.py",
        old="        ops.append(partial(functional.elu_, target))\n",
        new="        ops.append(partial(torch.relu_, target))\n",
        tests=("tests/unit/kelly_runtime/backends/test_torch_backend.py",),
        what="the torch fast path computes relu for an elu layer",
    ),
    Mutation(
        name="checkpoint-oldest",
        path="src/kelly_models/training/checkpoint.py",
        old="        for path in reversed(self.checkpoints()):\n",
        new="        for path in self.checkpoints():\n",
        tests=("tests/unit/kelly_models/training",),
        what="resume picks the oldest checkpoint instead of the newest",
    ),
    Mutation(
        name="chord-half-diminished-as-minor",
        path="src/kelly_core/encodings/chords.py",
        old='"dim" if (6 in ivs and 7 not in ivs) else "min"',
        new='"min"',
        tests=("tests/unit/kelly_core/encodings/test_chords.py",),
        what="diminished and half-diminished chords reduce to minor",
    ),
    Mutation(
        name="emotion-bump-width",
        path="src/kelly_core/encodings/emotion.py",
        old="    ev = np.exp(-((points[:, 0:1] - centers[None, :]) ** 2) / (2 * sigma**2))\n",
        new="    ev = np.exp(-((points[:, 0:1] - centers[None, :]) ** 2) / (sigma**2))\n",
        tests=("tests/unit/kelly_core/encodings/test_emotion.py",),
        what="the valence bumps of the emotion code are narrower than documented",
    ),
    Mutation(
        name="expression-field-order",
        path="src/kelly_core/encodings/expression.py",
        old="        return as_float32([getattr(self, name) for name in EXPRESSION_FIELDS])\n",
        new="        return as_float32([getattr(self, n) for n in sorted(EXPRESSION_FIELDS)])\n",
        tests=("tests/unit/kelly_core/encodings/test_expression.py",),
        what="the expression vector is written in alphabetical, not documented, order",
    ),
    Mutation(
        name="beat-vector-groove-always",
        path="src/kelly_runtime/beat.py",
        old=" if has_groove > 0.5 else None,\n",
        new=",\n",
        tests=("tests/unit/kelly_runtime/test_beat.py",),
        what="a beat vector without a groove reads back with a zero groove",
    ),
    Mutation(
        name="context-beat-not-wrapped",
        path="src/kelly_core/encodings/context.py",
        old="    beat[int(beat_in_bar) % BEATS_PER_BAR] = 1.0\n",
        new="    beat[min(max(int(beat_in_bar), 0), BEATS_PER_BAR - 1)] = 1.0\n",
        tests=(
            "tests/unit/kelly_core/encodings/test_context.py",
            "tests/unit/kelly_core/encodings/test_melody_context.py",
        ),
        what="the compact and melody contexts clamp the beat in the bar instead of wrapping it",
    ),
    Mutation(
        name="groove-offset-not-halved",
        path="src/kelly_core/encodings/groove.py",
        old="np.clip(vec[:STEPS] / 2.0, -0.5, 0.5)",
        new="np.clip(vec[:STEPS], -0.5, 0.5)",
        tests=("tests/unit/kelly_core/encodings/test_groove.py",),
        what="decoding a groove forgets to halve the offsets",
    ),
    Mutation(
        name="averager-reset-keeps-window",
        path="src/kelly_core/encodings/logmel.py",
        old='        """Start a new stream."""\n        self._sum = None\n        self._count = 0\n'
        "        self._seen = 0\n        self._window = 0\n",
        new='        """Start a new stream."""\n        self._sum = None\n        self._count = 0\n'
        "        self._seen = 0\n",
        tests=("tests/unit/kelly_core/encodings/test_logmel.py",),
        what="the window averager's reset() keeps counting windows",
    ),
    Mutation(
        name="logmel-reset-keeps-buffer",
        path="src/kelly_core/encodings/logmel.py",
        old='        """Forget buffered samples (start a new stream)."""\n'
        "        self._buffer = np.zeros(0, dtype=np.float64)\n",
        new='        """Forget buffered samples (start a new stream)."""\n',
        tests=("tests/unit/kelly_core/encodings/test_logmel.py",),
        what="the streaming log-mel's reset() keeps the buffered samples",
    ),
    Mutation(
        name="numba-lstm-input-forget-swapped",
        path="src/kelly_runtime/backends/_numba_kernels.py",
        old="_sigmoid(f_gates[k]) * c[k] + _sigmoid(i_gates[k])",
        new="_sigmoid(i_gates[k]) * c[k] + _sigmoid(f_gates[k])",
        tests=("tests/unit/kelly_runtime/backends/test_numba_backend.py",),
        what="the compiled LSTM takes the input gate for the forget gate and back",
    ),
    Mutation(
        name="numba-step-output-not-written",
        path="src/kelly_runtime/backends/_numba_kernels.py",
        old="    out[:] = buffer[y : y + n_out]\n    return True\n",
        new="    return True\n",
        tests=("tests/unit/kelly_runtime/backends/test_numba_backend.py",),
        what="the compiled step leaves the caller's output array as np.empty made it",
    ),
    Mutation(
        name="numba-run-recurrence-dropped",
        path="src/kelly_runtime/backends/_numba_kernels.py",
        old="        gates[:] = pre[t]\n        _matvec_add(weights, recurrent, h, gates)\n",
        new="        gates[:] = pre[t]\n",
        tests=("tests/unit/kelly_runtime/backends/test_numba_backend.py",),
        what="the compiled run() leaves W_hh @ h out of the LSTM's gates",
    ),
    Mutation(
        name="bench-calibration-secant-sign",
        path="src/kelly_runtime/bench/timing.py",
        old="        count = max(1, round(count + (target_us - took) / slope))\n",
        new="        count = max(1, round(count - (target_us - took) / slope))\n",
        tests=("tests/unit/kelly_runtime/test_bench.py",),
        what="the machine-tail loop's calibration steps away from its target",
    ),
    Mutation(
        name="training-checkpoint-as-model-file",
        path="src/kelly_models/checkpoint_format.py",
        old='    if "module" in raw and "state_dict" not in raw:\n',
        new='    if "module" in raw and "state_dict" in raw:\n',
        tests=("tests/unit/kelly_models/test_checkpoint_format.py",),
        what="a training checkpoint read as a model file gets 'missing keys', not the file to use",
    ),
)


@dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    status: str
    """``caught``, ``missed``, ``stale`` or ``timeout`` (counted as caught)."""
    detail: str
    seconds: float


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def _environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy / "src"), str(copy)])
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MPLBACKEND", "Agg")
    env["CI"] = env.get("CI", "true")  # the derandomized Hypothesis profile: reproducible
    return env


def _check_imports(copy: Path, python: str) -> None:
    """Fail loudly if the copy's modules are not the ones imported (an install shadowing)."""
    probe = "import kelly_core, sys; sys.stdout.write(kelly_core.__file__ or '')"
    found = subprocess.run(
        [python, "-c", probe], cwd=copy, env=_environment(copy), capture_output=True, text=True
    ).stdout
    if not Path(found).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the copy is not what Python imports ({found}); aborting")


def run_one(mutation: Mutation, *, python: str, all_tests: bool) -> Outcome:
    """Apply ``mutation`` to a fresh copy of the repository and run its tests there."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kelly-mutation-") as folder:
        copy = Path(folder) / "repo"
        shutil.copytree(ROOT, copy, ignore=IGNORED)
        target = copy / mutation.path
        source = target.read_text(encoding="utf-8") if target.exists() else ""
        count = source.count(mutation.old)
        if count != 1:
            found = "not found" if count == 0 else f"found {count} times"
            return Outcome(mutation, "stale", f"text to replace {found}", 0.0)
        target.write_text(source.replace(mutation.old, mutation.new), encoding="utf-8")
        _check_imports(copy, python)
        tests = ["tests"] if all_tests else list(mutation.tests)
        command = [python, "-m", "pytest", "-q", "-x", "-rfE", "-p", "no:cacheprovider", *tests]
        try:
            result = subprocess.run(
                command,
                cwd=copy,
                env=_environment(copy),
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            return Outcome(mutation, "timeout", f"over {TIMEOUT_S} s", TIMEOUT_S)
    seconds = time.perf_counter() - started
    if result.returncode == 0:
        return Outcome(mutation, "missed", "every test passed", seconds)
    failed = _FAILED.findall(result.stdout)
    if result.returncode in (1, 2) and failed:
        return Outcome(mutation, "caught", failed[0], seconds)
    tail = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["?"]
    return Outcome(mutation, "caught", f"pytest exit {result.returncode}: {tail[0]}", seconds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument(
        "--all-tests", action="store_true", help="run the whole suite for each mutation"
    )
    parser.add_argument("--python", default=sys.executable, help="the interpreter with pytest")
    args = parser.parse_args(argv)
    known = {m.name: m for m in MUTATIONS}
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:36} {m.path}: {m.what}")
        return 0
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown mutation(s) {', '.join(unknown)}; see --list")
    chosen = [known[n] for n in args.names] if args.names else list(MUTATIONS)
    outcomes = []
    for mutation in chosen:
        outcome = run_one(mutation, python=args.python, all_tests=args.all_tests)
        outcomes.append(outcome)
        print(
            f"{outcome.status:8} {mutation.name:36} {outcome.seconds:6.1f} s  {outcome.detail}",
            flush=True,
        )
    caught = sum(o.status in ("caught", "timeout") for o in outcomes)
    print(f"\n{caught}/{len(outcomes)} caught", end="")
    gaps = [o.mutation.name for o in outcomes if o.status not in ("caught", "timeout")]
    print(f"; not caught: {', '.join(gaps)}" if gaps else "")
    return 0 if not gaps else 1


if __name__ == "__main__":
    sys.exit(main())
