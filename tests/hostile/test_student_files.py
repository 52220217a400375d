"""Which URLs of ``make lab``'s server get the script-blocking policy (``course/browser/student_files.py``).

The browser test (``tests/browser/test_student_markup.py``) opens handed-in files in Chromium;
this one states the rule on paths, including the spellings a link could use to slip past it,
and the pages that must keep working (the formgrader's grading page, JupyterLab, the API).
"""


import pytest


from course.browser.student_files import ConfineStudentFiles, is_student_file  # noqa: E402

SID = "1ef4c4a8aa254d18bdff8fff47ee451e"


@pytest.mark.parametrize("path", [
    "/files/autograded/ana/lista01/anexo.html",
    "/files/submitted/ana/lista01/anexo.svg",
    "/files/feedback/ana/lista01/lista01.html",
    "/files/downloaded/lista01/extracted/anexo.html",
    "/files/exchange/t320/inbound/anexo.html",
    "/view/autograded/ana/lista01/anexo.html",
    "/nbconvert/html/autograded/ana/lista01/lista01.ipynb",
    f"/formgrader/submissions/{SID}/anexo.html",
    f"/formgrader/submissions/{SID}/sub/pasta/anexo.svg",
    # other spellings of the same files
    "/files/%61utograded/ana/lista01/anexo.html",
    "/files//autograded/ana/lista01/anexo.html",
    "/files/./autograded/ana/lista01/anexo.html",
    "/files/lectures/../autograded/ana/lista01/anexo.html",
    f"/formgrader/submissions/{SID}/../{SID}/anexo.html",
])
def test_student_files_are_confined(path):
    assert is_student_file(path), path


@pytest.mark.parametrize("path", [
    f"/formgrader/submissions/{SID}/",        # the manual-grading page (its own scripts)
    f"/formgrader/submissions/{SID}",
    "/formgrader/manage_submissions/lista01",
    "/formgrader/",
    "/lab/tree/autograded/ana/lista01/lista01.ipynb",   # JupyterLab itself
    "/api/contents/autograded/ana/lista01/lista01.ipynb",  # JSON, never rendered as a page
    "/files/lectures/aula01/figura.png",
    "/files/solutions/lista01/lista01.ipynb",
    "/files/autograded_notas.csv",
])
def test_other_pages_are_left_alone(path):
    assert not is_student_file(path), path


def test_base_url_is_respected():
    assert is_student_file("/curso/files/autograded/ana/x.html", base_url="/curso/")
    assert not is_student_file("/curso/lab/tree/autograded/ana/x.ipynb", base_url="/curso/")


def _request(uri):
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

    return HTTPServerRequest(start_line=RequestStartLine("GET", uri, "HTTP/1.1"),
                             headers=HTTPHeaders({"Host": "localhost"}))


def test_the_policy_is_added_as_a_second_header():
    from tornado.httputil import HTTPHeaders

    headers = HTTPHeaders({"Content-Security-Policy": "frame-ancestors 'self'; sandbox allow-scripts"})
    ConfineStudentFiles(_request("/files/autograded/ana/lista01/anexo.html")).transform_first_chunk(
        200, headers, b"", True)
    # a browser enforces every policy it gets: the one without allow-scripts wins
    assert headers.get_list("Content-Security-Policy") == [
        "frame-ancestors 'self'; sandbox allow-scripts", "sandbox"]
    untouched = HTTPHeaders()
    ConfineStudentFiles(_request("/lab")).transform_first_chunk(
        200, untouched, b"", True)
    assert untouched.get_list("Content-Security-Policy") == []
