"""Files a student wrote are served without script by ``make lab``'s Jupyter server.

A submission can carry more than its notebook: an ``.html`` or ``.svg`` handed in beside it
(an LMS zip, a folder copied by hand) is copied by nbgrader into ``autograded/`` and served
by the formgrader at ``/formgrader/submissions/<submission>/<file>``, on the Jupyter server's
own origin and with no policy: a script in it runs with the instructor's session (it can
read ``solutions/`` and open a terminal), and the student's markdown can link to it from the
manual-grading page. JupyterLab's ``/files/`` serves every file of the course with
``sandbox allow-scripts``: the scripts still run, in an origin of their own. ``/nbconvert/``
renders a submission's notebook as a page of the server's origin.

This server extension adds a second policy, ``Content-Security-Policy: sandbox`` (no
script, no form, no plugin, an origin of its own), to every response for a file of the
student folders (``STUDENT_FOLDERS``, under ``/files/``, ``/view/`` and ``/nbconvert/<format>/``)
and for every file the formgrader serves beside a submission. A browser enforces every
policy it is sent, so the stricter one wins. The formgrader's pages, JupyterLab and the API
are untouched. ``course/browser/jupyter_server_config.py`` enables it (``make lab``);
``tests/browser/test_student_markup.py`` checks it in Chromium.
"""

import functools
import posixpath
import re
import urllib.parse

from tornado.web import OutputTransform

#: Course folders whose files a student wrote, or nbgrader made from what they wrote.
STUDENT_FOLDERS = ("downloaded", "submitted", "autograded", "feedback", "exchange")
POLICY = "sandbox"

_FOLDERS = "|".join(STUDENT_FOLDERS)
_CONFINED = [
    re.compile(rf"(files|view|nbconvert/[^/]+)/+({_FOLDERS})(/.*)?"),
    re.compile(r"formgrader/submissions/[^/]+/.+"),  # the grading page itself ends in "/"
]


def is_student_file(path, base_url="/"):
    """True if the URL path ``path`` (as requested, %-escapes and all) names a student file.

    Both the path as written and its normalized form (``a/../b``, ``a//b``, ``./``) are
    checked, so an escaped or roundabout spelling of the same file is caught too.
    """
    raw = urllib.parse.unquote(path)
    for candidate in (raw, posixpath.normpath(raw)):
        if candidate.startswith(base_url):
            rel = candidate[len(base_url):]
            if any(rule.fullmatch(rel) for rule in _CONFINED):
                return True
    return False


class ConfineStudentFiles(OutputTransform):
    """Adds ``Content-Security-Policy: sandbox`` to the responses for student files."""

    def __init__(self, request, base_url="/"):
        self.confine = is_student_file(request.path, base_url)

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if self.confine:
            headers.add("Content-Security-Policy", POLICY)
        return status_code, headers, chunk


def _jupyter_server_extension_points():
    return [{"module": "course.browser.student_files"}]


def _load_jupyter_server_extension(serverapp):
    serverapp.web_app.add_transform(functools.partial(ConfineStudentFiles,
                                                      base_url=serverapp.base_url))
    serverapp.log.info("t320: files of %s served with Content-Security-Policy: %s",
                       ", ".join(STUDENT_FOLDERS), POLICY)
