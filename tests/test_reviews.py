"""course/grading/reviews.py: a re-grade keeps the instructor's reviews (score, comment, flag off),
and flags again only the answers that changed since they were reviewed.

A real nbgrader gradebook with one submission: a written answer (manual grade) and a coded
answer with its test cell. The autograde in between is replaced by exactly what nbgrader's
``SaveAutoGrades`` does to a grade with a manual score (flag back on) and by a new graded
copy of the notebook in ``autograded/``; the full run with nbgrader's autograde is in
tests/test_semester.py.
"""

import json
import os

import pytest

NB_ID = "lista00_exemplo"


def notebook(written, code):
    def cell(kind, source, **nbg):
        meta = {"grade": False, "solution": False, "locked": False, **nbg}
        return {"cell_type": kind, "metadata": {"nbgrader": meta}, "source": source,
                **({"outputs": [], "execution_count": None} if kind == "code" else {})}

    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        cell("markdown", written, grade=True, solution=True, grade_id="pergunta1", points=5),
        cell("code", code, solution=True, grade_id="relu"),
        cell("code", "assert relu(-1) == 0", grade=True, grade_id="teste_relu", points=2, locked=True),
    ]}


@pytest.fixture
def course(tmp_path):
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    root = str(tmp_path)
    cd = CourseDirectory(root=root, course_id="t320")
    with Gradebook(cd.db_url, "t320") as gb:
        gb.add_assignment(NB_ID)
        gb.add_notebook(NB_ID, NB_ID)
        gb.add_grade_cell("pergunta1", NB_ID, NB_ID, max_score=5, cell_type="markdown")
        gb.add_solution_cell("pergunta1", NB_ID, NB_ID)
        gb.add_solution_cell("relu", NB_ID, NB_ID)
        gb.add_grade_cell("teste_relu", NB_ID, NB_ID, max_score=2, cell_type="code")
        for sid in ("s1", "s2"):
            gb.add_student(sid)
            gb.add_submission(NB_ID, sid)
            write_graded(cd, sid, notebook(f"Resposta de {sid}.", "def relu(z): return max(0, z)"))
    return cd


def write_graded(cd, sid, nb):
    folder = cd.format_path(cd.autograded_directory, sid, NB_ID)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, NB_ID + ".ipynb"), "w", encoding="utf-8") as fh:
        json.dump(nb, fh)


def review(cd, sid, score, comment):
    """What the formgrader's save does (GradeHandler.put, CommentHandler.put)."""
    from nbgrader.api import Gradebook

    with Gradebook(cd.db_url, "t320") as gb:
        g = gb.find_grade("pergunta1", NB_ID, NB_ID, sid)
        g.manual_score = score
        g.needs_manual_grade = False
        gb.find_comment("pergunta1", NB_ID, NB_ID, sid).manual_comment = comment
        gb.db.commit()


def nbgrader_autograde_effect(cd, sid):
    """SaveAutoGrades on a re-grade: a grade with a manual score is flagged again."""
    from nbgrader.api import Gradebook

    with Gradebook(cd.db_url, "t320") as gb:
        for g in gb.find_submission_notebook(NB_ID, NB_ID, sid).grades:
            g.auto_score = None if g.name == "pergunta1" else 2.0
            g.needs_manual_grade = g.manual_score is not None or g.auto_score is None
        gb.db.commit()


def state(cd, sid):
    from nbgrader.api import Gradebook

    with Gradebook(cd.db_url, "t320") as gb:
        g = gb.find_grade("pergunta1", NB_ID, NB_ID, sid)
        c = gb.find_comment("pergunta1", NB_ID, NB_ID, sid)
        return g.manual_score, g.needs_manual_grade, c.manual_comment


def test_without_the_hook_a_regrade_flags_reviewed_answers_again(course):
    review(course, "s1", 4.0, "Boa justificativa.")
    nbgrader_autograde_effect(course, "s1")
    assert state(course, "s1") == (4.0, True, "Boa justificativa."), \
        "nbgrader's own behaviour changed: the hook may no longer be needed"


def test_a_regrade_keeps_reviews_of_unchanged_answers(course):
    from course.grading.reviews import kept_reviews

    review(course, "s1", 4.0, "Boa justificativa.")
    with kept_reviews(course, "s1", NB_ID) as kept:
        nbgrader_autograde_effect(course, "s1")
        write_graded(course, "s1", notebook("Resposta de s1.", "def relu(z): return max(0, z)"))
    assert state(course, "s1") == (4.0, False, "Boa justificativa.")
    assert kept.changed == [] and kept.kept == 1


def test_a_changed_answer_keeps_the_score_but_is_flagged_and_named(course):
    from course.grading.reviews import kept_reviews

    review(course, "s1", 4.0, "Boa justificativa.")
    review(course, "s2", 5.0, "Completa.")
    with kept_reviews(course, "s1", NB_ID) as kept1:
        nbgrader_autograde_effect(course, "s1")
        write_graded(course, "s1", notebook("Outra resposta, reenviada.", "def relu(z): return max(0, z)"))
    with kept_reviews(course, "s2", NB_ID) as kept2:  # only the code changed, not the written answer
        nbgrader_autograde_effect(course, "s2")
        write_graded(course, "s2", notebook("Resposta de s2.", "def relu(z): return z * (z > 0)"))
    assert state(course, "s1") == (4.0, True, "Boa justificativa.")
    assert kept1.changed == [(NB_ID, "pergunta1", 4.0)]
    assert "pergunta1" in kept1.message("s1", NB_ID) and "review it again" in kept1.message("s1", NB_ID)
    assert state(course, "s2") == (5.0, False, "Completa.")
    assert kept2.changed == []


def test_lost_scores_and_comments_are_put_back(course):
    from nbgrader.api import Gradebook

    from course.grading.reviews import kept_reviews

    review(course, "s1", 3.5, "Incompleta.")
    with kept_reviews(course, "s1", NB_ID):
        with Gradebook(course.db_url, "t320") as gb:  # a converter that dropped them
            gb.find_grade("pergunta1", NB_ID, NB_ID, "s1").manual_score = None
            gb.find_comment("pergunta1", NB_ID, NB_ID, "s1").manual_comment = None
            gb.db.commit()
    assert state(course, "s1") == (3.5, False, "Incompleta.")


def test_a_first_grading_is_untouched(course):
    from course.grading.reviews import kept_reviews

    with kept_reviews(course, "s2", NB_ID) as kept:
        nbgrader_autograde_effect(course, "s2")
    assert state(course, "s2") == (None, True, None) and kept.changed == []


def test_answer_checksums_cover_the_solution_cells_before_each_graded_cell(tmp_path):
    from course.grading.reviews import answer_checksums

    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook("A", "def relu(z): pass")))
    one = answer_checksums(str(path))
    path.write_text(json.dumps(notebook("A", "def relu(z): return z")))
    two = answer_checksums(str(path))
    assert set(one) == {"pergunta1", "teste_relu"}
    assert one["pergunta1"] == two["pergunta1"] and one["teste_relu"] != two["teste_relu"]
    assert answer_checksums(str(tmp_path / "absent.ipynb")) == {}
