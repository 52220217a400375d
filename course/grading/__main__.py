"""``python -m course.grading``: what ``make grade`` runs (``driver.py``)."""

import sys

from course.grading.driver import main

sys.exit(main())
