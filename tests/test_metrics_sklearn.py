"""test_metrics_sklearn.py: random score sets (many with ties) scored by
scikit-learn and by the C metrics (through `test_metrics --fixture`); they must agree.
The seed is fixed (20261127) so runs are reproducible; set LIR_METRICS_SEED to try
another one. Skips when numpy/scikit-learn are missing."""
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
try:
    import metrics_fixture
except ImportError as e:
    print("SKIP: scikit-learn or numpy not importable (%s)" % e)
    sys.exit(77)

build = os.environ.get("LIR_BUILD", "build")
driver = os.path.join(here, "..", build, "tests", "test_metrics")
if not os.access(driver, os.X_OK):
    print("FAIL: %s not built" % driver)
    sys.exit(1)

fd, path = tempfile.mkstemp(prefix="lir_metrics_", suffix=".txt")
os.close(fd)
try:
    seed = int(os.environ.get("LIR_METRICS_SEED", "20261127"))
    print("seed", seed)
    sys.argv = ["metrics_fixture.py", path, str(seed), "200"]
    metrics_fixture.main()
    r = subprocess.run([driver, "--fixture", path], capture_output=True, text=True)
    sys.stdout.write(r.stdout + r.stderr)
    if r.returncode != 0:
        print("FAIL: C metrics disagree with scikit-learn (seed %d)" % seed)
    sys.exit(r.returncode)
finally:
    os.unlink(path)
