"""Where the repository and its tests folder are, for every test module (plain strings).

pytest's ``pythonpath`` (pyproject.toml) puts ``tests`` on ``sys.path``: ``from paths import ROOT``.
"""

import os

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
