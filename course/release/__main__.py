"""``python -m course.release``: what ``make release`` runs (``generate.py``)."""

import sys

from course.release.generate import main

sys.exit(main())
