"""benchmarks/merge.py runs end to end and every method's answer is right (timings are not
asserted: they belong to the machine, not to the code)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "merge.py"
WORKLOADS = {"sort", "full_merge", "newest"}


def test_quick_run_writes_every_workload_with_correct_results(tmp_path: Path) -> None:
    out = tmp_path / "results" / "merge.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--repeat", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "| workload | method | seconds (best) |" in result.stdout

    report = json.loads(out.read_text())
    rows = report["results"]
    assert {row["workload"] for row in rows} == WORKLOADS
    for row in rows:
        assert row["seconds"] > 0, row
        assert row["correct"] is True, row
        assert row["met"] is None, row  # targets are judged only at the full 50,000 x 20
    methods = {row["method"] for row in rows if row["workload"] == "newest"}
    assert "twoorl merge_newest" in methods
    assert len([row for row in rows if row["workload"] == "full_merge"]) >= 3
