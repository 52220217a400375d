"""Generate the student versions: ``solutions/<id>`` -> ``lectures/<id>`` or ``assignments/<id>``.

Usage: ``python -m course.release [--out DIR] [--db] [id ...]``. Every release is forced
(an existing student version is overwritten; nbgrader alone would silently keep a stale
one). With ``--out DIR`` the student versions go to ``DIR/lectures`` and
``DIR/assignments`` (used by the tests to compare with the committed ones). Each student
version then gets the Colab badge and install cell (``course/release/colab.py``). Without
``--db`` the gradebook is not touched.

The header's due date comes from ``course.toml`` (``[assignments.<id>] due``), put in by the
``course.release.student_version.ShowDueDate`` preprocessor that ``nbgrader_config.py`` adds to
every generation; ``nbgrader generate_assignment`` and the formgrader's Generate button
produce the same student versions in the same folders (``course/release/student_version.py``).
The Colab cells are added again here, with ``nbformat``'s writer, so the bytes of a
committed student version do not depend on nbgrader's writer.
"""

import argparse
import os
import sys

from course import ROOT, make_api, notebook_ids, release_dir_for
from course.release.colab import add_colab_cells_to_file


def release(ids=None, root=ROOT, out=None, db=False):
    """Generate the student version of every id in ``ids`` (default: all); return the ids.

    Raises ``RuntimeError`` with nbgrader's log if a generation fails.
    """
    ids = notebook_ids(root) if ids is None else list(ids)
    api = make_api(root, **{"GenerateAssignment.no_database": not db, "SaveCells.enabled": db})
    for nb_id in ids:
        target = release_dir_for(nb_id)
        if out is not None:
            target = os.path.join(os.path.abspath(out), target)
        api.coursedir.release_directory = target
        result = api.generate_assignment(nb_id, force=True, create=db)
        if not result["success"]:
            raise RuntimeError(f"generate_assignment({nb_id}) failed:\n{result.get('log', '')}"
                               f"\n{result.get('error', '')}")
        # every student version opens with the "Abrir no Colab" badge and the install cell
        add_colab_cells_to_file(os.path.join(root, target, nb_id, nb_id + ".ipynb"),
                                f"{release_dir_for(nb_id)}/{nb_id}/{nb_id}.ipynb")
    return ids


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--out", default=None)
    parser.add_argument("--db", action="store_true")
    args = parser.parse_args(argv)
    done = release(args.ids or None, out=args.out, db=args.db)
    for nb_id in done:
        print(f"released {nb_id} -> {release_dir_for(nb_id)}/{nb_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
