"""Hostile LMS downloads: `make collect` writes nothing outside downloaded/ and submitted/,
and one student cannot hand in for another.

A zip is student-controlled in part (the names of the files inside), so: entries with
``../`` or an absolute path, a symlink entry, a file named like another student's
submission inside one student's folder or file name. Each is refused or attributed to the
student who uploaded it, and listed in the report.
"""

import os
import shutil
import stat
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

import lms_samples as S  # noqa: E402
from course import ROOT  # noqa: E402
from course.lms.collect import collect  # noqa: E402

L1 = "lista01_otimizadores"


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(os.path.join(ROOT, "solutions", L1), root / "solutions" / L1)
    S.write_roster(root / "students.csv")
    return str(root)


def nb():
    return S.read(os.path.join(ROOT, "assignments", L1, L1 + ".ipynb"))


def all_files(top):
    out = set()
    for dirpath, dirnames, filenames in os.walk(top):
        out |= {os.path.join(dirpath, n) for n in filenames + dirnames}
    return out


def test_path_traversal_absolute_and_symlink_entries_are_refused(course, tmp_path):
    zpath = str(tmp_path / "evil.zip")
    outside = tmp_path / "outside"
    outside.mkdir()
    before = all_files(str(tmp_path))
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(S.entry_name("moodle", "Ana Souza", f"{L1}.ipynb", 1), nb())
        zf.writestr("../../outside/escaped.ipynb", nb())
        zf.writestr("Bruno Lima_102_assignsubmission_file/../../../outside/escaped2.ipynb", nb())
        zf.writestr("/tmp/t320-absolute-escape.ipynb", nb())
        link = zipfile.ZipInfo(S.entry_name("moodle", "Carla Dias", f"{L1}.ipynb", 3))
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/shadow")
        dev = zipfile.ZipInfo("fifo")
        dev.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(dev, "")
    report = collect(zpath, L1, root=course, lms="moodle")

    unsafe = {path: detail for status, path, detail in report.rows if status == "unsafe"}
    assert len(unsafe) == 5, report.text()
    assert "symbolic link" in unsafe[S.entry_name("moodle", "Carla Dias", f"{L1}.ipynb", 3)]
    assert not os.path.exists(outside / "escaped.ipynb")
    assert not os.path.exists("/tmp/t320-absolute-escape.ipynb")
    new = all_files(str(tmp_path)) - before
    stray = [p for p in new if not p.startswith((os.path.join(course, "downloaded"),
                                                 os.path.join(course, "submitted"),
                                                 os.path.join(course, "gradebook.db"),
                                                 os.path.join(course, "solutions"),
                                                 os.path.join(course, "students.csv"),
                                                 zpath))]
    assert stray == []
    for dirpath, _, filenames in os.walk(os.path.join(course, "downloaded")):
        for n in filenames:
            assert not os.path.islink(os.path.join(dirpath, n))
    assert sorted(os.listdir(os.path.join(course, "submitted"))) == ["2026001"]


def test_a_file_named_like_another_students_submission_counts_for_its_uploader(course, tmp_path):
    honest = S.variant(nb(), "bruno's own")
    forged = S.variant(nb(), "ana pretending to be bruno")
    for folders in (False, True):  # Moodle without and with "Download submissions in folders"
        bruno_name = S.entry_name("moodle", "Bruno Lima", f"{L1}.ipynb", 2, folders=folders)
        zpath = str(tmp_path / f"m{folders}.zip")
        with zipfile.ZipFile(zpath, "w") as zf:
            zf.writestr(bruno_name, honest)
            # Ana uploads a file (or, in folders, a folder) whose *name* is Bruno's entry
            zf.writestr(S.entry_name("moodle", "Ana Souza", bruno_name, 1, folders=folders), forged)
        report = collect(zpath, L1, root=course, lms="moodle", force=True)
        assert S.read(os.path.join(course, "submitted", "2026002", L1, L1 + ".ipynb")) == honest
        assert S.read(os.path.join(course, "submitted", "2026001", L1, L1 + ".ipynb")) == forged
        if not folders:
            assert any(s == "collected" and "2026001" in d and "renamed" in d for s, _, d in report.rows)


def test_a_nested_folder_named_like_another_student_is_not_followed(course, tmp_path):
    # Teams: a student's folder holding a subfolder tree that imitates another student's
    zpath = str(tmp_path / "t.zip")
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(f"Submitted files/Ana Souza/Lista 1/Submitted files/Bruno Lima/Lista 1/{L1}.ipynb", nb())
    report = collect(zpath, L1, root=course, lms="teams")
    assert not os.path.exists(os.path.join(course, "submitted"))
    assert [s for s, _, _ in report.rows if s != "no submission"] == ["no student"]


def test_downloaded_and_submitted_are_private(course, tmp_path):
    zpath = S.build_zip(str(tmp_path / "c.zip"), "classroom", [("Ana Souza", f"{L1}.ipynb", nb())])
    collect(zpath, L1, root=course, lms="classroom")
    for folder in ("downloaded", "submitted", os.path.join("submitted", "2026001")):
        mode = os.stat(os.path.join(course, folder)).st_mode
        assert mode & 0o077 == 0, f"{folder}: {oct(mode)}"
