"""The Jupyter server settings of ``make lab``.

``jupyter lab --config=course/browser/jupyter_server_config.py`` (the Makefile's ``lab``).

Enables ``course.browser.student_files``: the files students wrote (``submitted/``,
``autograded/``, ``feedback/``, ...) are served with a policy that blocks their scripts.
"""

import os
import sys

c = get_config()  # noqa: F821 - injected by traitlets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:  # the server imports the extension from this course's course/browser/
    sys.path.insert(0, ROOT)
c.ServerApp.jpserver_extensions.update({"course.browser.student_files": True})
