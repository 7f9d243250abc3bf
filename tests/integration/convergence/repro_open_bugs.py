"""Deterministic reproductions of bugs the convergence harness found that are NOT fixed yet.

Not registered in ctest: every test here fails today, on purpose (the honest expectation). When
a fix lands, its test moves to test_regressions.py (or beside the code it fixes) and leaves
this file. Run: python3 -m unittest -v repro_open_bugs (in this folder, with RUXX_MASTER_SERVER
and RUXX_SLAVE_AGENT set, or a build in the checkout). docs/TESTING.md, "Convergence harness",
lists the seeds that hit each bug.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

# None open: the bugs reproduced here so far are fixed, and their tests moved to
# test_regressions.py (LostCancellationKeepsItsGasTest).


if __name__ == "__main__":
    unittest.main()
