"""ruff must be clean on the package, the tests, the benchmarks, the tools and the paired .py
notebooks."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed: run `make venv`"
    targets = [t for t in ["ebm_helpers", "tests", "notebooks", "benchmarks", "tools"]
               if (REPO / t).exists()]
    result = subprocess.run([ruff, "check", *targets], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
