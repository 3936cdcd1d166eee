import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from keelvm import QemuKeel  # noqa: E402


@pytest.fixture
def keel(tmp_path, request):
    """keel(**options) boots Keel in QEMU (see keelvm.QemuKeel); every boot is
    stopped at the end of the test, and its console is shown on failure."""
    runs = []

    def boot(**kw):
        k = QemuKeel(tmp_path / ("run%d" % len(runs)), **kw)
        os.makedirs(k.tmp, exist_ok=True)
        runs.append(k)
        return k.start()

    yield boot
    for k in runs:
        k.stop()
