"""Peak memory of the dataset index readers at their limits, one case per process.

    .venv/bin/python -m tests.benchmarks.index_memory

Each case writes an index in a temporary folder and reads it in a fresh Python process
(so one case's memory does not hide another's), printing the file size and the peak
resident memory (``ru_maxrss``) before and after the read:

- ``dynamic``: a DEAM ``arousal.csv`` just under the cell limit (1999 rows of 2001
  cells), read by ``read_dynamic`` (rows are made one at a time; the series are kept);
- ``list``: a 7-column index just under the cell limit, read by ``read_csv_rows`` (all
  rows kept, as MAESTRO and Groove MIDI do);
- ``gigabyte``: a 1 GiB index (a sparse file): refused from its size before a byte is read.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

_CASE = r"""
import os, resource, sys
from pathlib import Path
from kelly_core.errors import DatasetError
from kelly_models.datasets.base import read_csv_rows
from kelly_models.datasets.deam import read_dynamic
case, path = sys.argv[1], Path(sys.argv[2])
if case == "dynamic":
    header = "song_id," + ",".join(f"sample_{15000 + 500 * i}ms" for i in range(2000))
    row = ",".join(["0.5"] * 2000)
    path.write_text(header + "\n" + "".join(f"{r},{row}\n" for r in range(1999)))
elif case == "list":
    path.write_text("a,b,c,d,e,f,g\n" + "x,y,z,w,v,u,t\n" * 571_000)
else:
    with open(path, "wb") as handle:
        handle.truncate(2**30)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
try:
    read_dynamic(path) if case == "dynamic" else read_csv_rows(path, ("a",))
    outcome = "read"
except DatasetError as exc:
    outcome = "refused: " + exc.reason
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
size = os.path.getsize(path) / 2**20
print(f"{case:9s} {size:8.1f} MiB  peak RSS {peak} MiB (before the read {before} MiB)  {outcome}")
"""


def main() -> None:
    """Run the three cases and print one line each."""
    with tempfile.TemporaryDirectory() as folder:
        for case in ("dynamic", "list", "gigabyte"):
            path = Path(folder) / f"{case}.csv"
            subprocess.run([sys.executable, "-c", _CASE, case, str(path)], check=True)
            path.unlink()


if __name__ == "__main__":
    main()
