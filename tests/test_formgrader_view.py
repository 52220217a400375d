"""The formgrader shows a late submission's penalty and local times (course/browser/formgrader_view.py,
installed by nbgrader_config.py): the API answers its pages are built from, on a real
gradebook, before and after a manual grade."""

import datetime
import os

HERE = os.path.dirname(os.path.abspath(__file__))

NB_ID = "lista00_exemplo"


def test_submissions_list_shows_the_penalty_on_the_current_total_and_local_times(tmp_path):
    from nbgrader.api import Gradebook

    from course import make_api

    root = str(tmp_path)
    (tmp_path / "course.toml").write_text('timezone = "America/Sao_Paulo"\n[late]\npenalty_per_day = 0.1\n')
    api = make_api(root)  # the course's nbgrader_config.py, as the formgrader loads it
    assert api.timezone == "America/Sao_Paulo"
    with Gradebook(api.coursedir.db_url, "t320") as gb:
        gb.add_assignment(NB_ID, duedate=datetime.datetime(2026, 9, 19, 2, 59))  # 23:59 local
        gb.add_notebook(NB_ID, NB_ID)
        gb.add_grade_cell("teste", NB_ID, NB_ID, max_score=5, cell_type="code")
        gb.add_grade_cell("pergunta1", NB_ID, NB_ID, max_score=5, cell_type="markdown")
        gb.add_solution_cell("pergunta1", NB_ID, NB_ID)
        for sid in ("late", "ontime"):
            gb.add_student(sid)
            when = datetime.datetime(2026, 9, 20, 13, 0) if sid == "late" else datetime.datetime(2026, 9, 18, 12)
            gb.add_submission(NB_ID, sid, timestamp=when)
            gb.find_grade("teste", NB_ID, NB_ID, sid).auto_score = 5.0
        gb.db.commit()
    stamps = {"late": "2026-09-20 13:00:00", "ontime": "2026-09-18 12:00:00"}
    for sid, stamp in stamps.items():  # as after make collect and make grade
        for folder in ("submitted", "autograded"):
            os.makedirs(os.path.join(root, folder, sid, NB_ID))
            with open(os.path.join(root, folder, sid, NB_ID, "timestamp.txt"), "w") as fh:
                fh.write(stamp)

    rows = {s["student"]: s for s in api.get_submissions(NB_ID)}
    assert rows["late"]["score"] == 4.0  # 5 - 20 % (2 started days)
    assert rows["late"]["display_timestamp"] == "20/09/2026 10:00 -03 (2 dia(s) de atraso: -1 de 5)"
    assert rows["ontime"]["score"] == 5.0 and "atraso" not in rows["ontime"]["display_timestamp"]
    os.makedirs(os.path.join(root, "solutions", NB_ID))  # the formgrader lists sources
    assert api.get_assignment(NB_ID)["display_duedate"] == "18/09/2026 23:59 -03"

    with Gradebook(api.coursedir.db_url, "t320") as gb:  # the formgrader saves a manual grade
        gb.find_grade("pergunta1", NB_ID, NB_ID, "late").manual_score = 4.0
        gb.db.commit()
    one = api.get_submission(NB_ID, "late")
    assert one["score"] == 7.2 and "-1.8 de 9" in one["display_timestamp"]
    with Gradebook(api.coursedir.db_url, "t320") as gb:
        assert gb.find_submission(NB_ID, "late").late_submission_penalty == 0, "nothing written"


def test_the_grading_page_shows_due_date_submission_time_and_penalty(tmp_path):
    """The page where a notebook is graded by hand (nbgrader's SubmissionHandler, its own
    formgrade template) carries, in its title bar, the local times and the penalty on the
    current total; the course's nbgrader_config.py installs it in the formgrader."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.api import Gradebook
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    from course import make_api
    from course.browser import formgrader_view

    root = str(tmp_path)
    (tmp_path / "course.toml").write_text('timezone = "America/Sao_Paulo"\n[late]\npenalty_per_day = 0.1\n')
    api = make_api(root)
    assert handlers.SubmissionHandler.get.__module__ == formgrader_view.__name__, "installed"
    with Gradebook(api.coursedir.db_url, "t320") as gb:
        gb.add_assignment(NB_ID, duedate=datetime.datetime(2026, 9, 19, 2, 59))
        gb.add_notebook(NB_ID, NB_ID)
        gb.add_grade_cell("teste", NB_ID, NB_ID, max_score=5, cell_type="code")
        gb.add_grade_cell("pergunta1", NB_ID, NB_ID, max_score=5, cell_type="markdown")
        gb.add_solution_cell("pergunta1", NB_ID, NB_ID)
        ids = {}
        for sid, when in (("late", datetime.datetime(2026, 9, 20, 13, 0)),
                          ("ontime", datetime.datetime(2026, 9, 18, 12))):
            gb.add_student(sid)
            gb.add_submission(NB_ID, sid, timestamp=when)
            gb.find_grade("teste", NB_ID, NB_ID, sid).auto_score = 5.0
            ids[sid] = gb.find_submission_notebook(NB_ID, NB_ID, sid).id
        gb.find_grade("pergunta1", NB_ID, NB_ID, "late").manual_score = 4.0
        gb.db.commit()

    late = formgrader_view.submission_banner(api, ids["late"])
    assert ("Entregue em 20/09/2026 10:00 -03, prazo 18/09/2026 23:59 -03: 2 dia(s) de atraso: "
            "-1.8 de 9; nota após a penalidade: 7.2") in late
    ontime = formgrader_view.submission_banner(api, ids["ontime"])
    assert "Entregue em 18/09/2026 09:00 -03, prazo 18/09/2026 23:59 -03: no prazo" in ontime
    assert formgrader_view.submission_banner(api, "no-such-id") is None

    config = Config()  # what nbgrader's formgrader gives its exporter (formgrader.py)
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": NB_ID, "notebook_id": NB_ID, "submission_id": ids["late"],
                 "index": 0, "total": 2, "base_url": "", "student": "late", "last_name": "",
                 "first_name": "", "notebook_path": "x"}
    page, _ = HTMLExporter(config=config).from_filename(
        os.path.join(HERE, "hostile", f"{NB_ID}.ipynb"), resources=resources)
    shown = formgrader_view.with_banner(page, late)
    title = shown.split('<h4 class="panel-title">', 1)[1].split("</h4>", 1)[0]
    assert "nota após a penalidade: 7.2" in title and "Submission 1 / 2" in title
    assert formgrader_view.with_banner(page, None) == page
