"""``course.toml``'s reader: the semester's settings the instructor edits, at the course root.

It holds what changes every semester and is not nbgrader's business: the time zone of the
course, the LMS the class uses (the layout ``make collect`` expects), the roster file, each
assignment's due date and the late-submission penalty. (nbgrader's own configuration is
``nbgrader_config.py``, read by ``course.load_nbgrader_config``.) Missing file or keys: defaults
(no due dates, no penalty, MS Teams layout, ``students.csv``).

Due dates are local times of ``timezone`` (``"2026-09-18 23:59"``); :func:`due_utc` gives
the naive UTC datetime nbgrader stores in the gradebook.
"""

import datetime
import os
import tomllib
from zoneinfo import ZoneInfo

from course import ROOT

FILENAME = "course.toml"
DEFAULTS = {"timezone": "America/Sao_Paulo", "lms": "teams", "roster": "students.csv",
            "late": {"penalty_per_day": 0.0}, "assignments": {}}


def load(root=ROOT):
    """The parsed ``course.toml`` of ``root`` merged over :data:`DEFAULTS`."""
    cfg = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}
    path = os.path.join(root, FILENAME)
    if os.path.exists(path):
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(cfg.get(key), dict):
                cfg[key].update(value)
            else:
                cfg[key] = value
    ZoneInfo(cfg["timezone"])  # an unknown zone fails here, not at grading time
    penalty = float(cfg["late"].get("penalty_per_day", 0.0))
    if not 0.0 <= penalty <= 1.0:
        raise ValueError(f"{FILENAME}: late.penalty_per_day must be in [0, 1], got {penalty}")
    return cfg


def due_local(nb_id, root=ROOT, cfg=None):
    """The due date of ``nb_id`` as an aware datetime in the course time zone, or None."""
    cfg = load(root) if cfg is None else cfg
    text = str(cfg["assignments"].get(nb_id, {}).get("due", "") or "").strip()
    if not text:
        return None
    try:
        naive = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{FILENAME}: assignments.{nb_id}.due = {text!r}: "
                         "write it as 'YYYY-MM-DD HH:MM' (local time)") from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=ZoneInfo(cfg["timezone"]))


def due_utc(nb_id, root=ROOT, cfg=None):
    """The due date of ``nb_id`` as a naive UTC datetime (nbgrader's convention), or None."""
    local = due_local(nb_id, root, cfg)
    if local is None:
        return None
    return local.astimezone(datetime.timezone.utc).replace(tzinfo=None)


_WEEKDAYS = ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
             "sábado", "domingo")


def due_text(nb_id, root=ROOT, cfg=None):
    """The due date as students read it (``sexta-feira, 18/09/2026, 23:59 (America/Sao_Paulo)``)."""
    cfg = load(root) if cfg is None else cfg
    local = due_local(nb_id, root, cfg)
    if local is None:
        return None
    zone = cfg["timezone"]
    return f"{_WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y, %H:%M} ({zone})"


def late_penalty_per_day(root=ROOT, cfg=None):
    """Fraction of the score lost per started day late (0: none, 1: zero for any delay)."""
    cfg = load(root) if cfg is None else cfg
    return float(cfg["late"].get("penalty_per_day", 0.0))
