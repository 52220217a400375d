"""An LTI 1.3 launch's user -> the roster id (``students.csv``) or a staff account.

LMSs identify a user by an opaque ``sub``; the course knows students by their roster id
(matrícula), which is their Unix user, their exchange folder and their gradebook key. The
id_token of a launch carries what the platform shares about the user: the e-mail
(``email``), the SIS id (the LIS claim's ``person_sourcedid``) and custom fields. This module
tries, in order, ``custom.roster_id`` (a custom parameter the instructor may set in the LMS
to ``$Person.sourcedId``), the SIS id, then the e-mail, against the roster (ids and e-mails,
folded as ``course.lms.roster`` folds them) and the staff e-mails of ``hub.json``. No match, or
a match on two people: the login is refused (never guessed).
"""

import os
import sys

LIS_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/lis"
CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"


class RosterMap:
    """Maps id_token claims to a hub user name."""

    def __init__(self, roster, staff_emails):
        self.roster = roster
        self.staff = {e.strip().lower(): name for e, name in staff_emails.items()}
        self.last_problem = None

    @classmethod
    def from_settings(cls, settings):
        course_dir = settings["course_dir"]
        if course_dir not in sys.path:
            sys.path.insert(0, course_dir)
        from course.lms.roster import Roster

        roster_path = settings.get("roster") or os.path.join(course_dir, "students.csv")
        return cls(Roster.load(roster_path), settings.get("staff_emails", {}))

    def candidates(self, claims):
        custom = claims.get(CUSTOM_CLAIM) or {}
        lis = claims.get(LIS_CLAIM) or {}
        for value in (custom.get("roster_id"), lis.get("person_sourcedid"), claims.get("email")):
            if isinstance(value, str) and value.strip():
                yield value.strip()

    def hub_name(self, claims):
        """The roster id or staff name for ``claims``; None (and ``last_problem``) if none."""
        problems = []
        for value in self.candidates(claims):
            if value.lower() in self.staff:
                return self.staff[value.lower()]
            student, problem = self.roster.find(value)
            if student is not None:
                return student.id
            problems.append(problem)
        self.last_problem = "; ".join(problems) or "the launch carries no e-mail nor SIS id"
        return None


def roster_authenticator(roster_map):
    """An LTI13Authenticator whose user name is ``roster_map``'s (refused: None).

    The mapping happens in ``authenticate``: JupyterHub checks ``allowed_users`` right after
    it, before any ``post_auth_hook``.
    """
    from ltiauthenticator.lti13.auth import LTI13Authenticator

    class RosterLTI13Authenticator(LTI13Authenticator):
        async def authenticate(self, handler, data=None):
            auth = await super().authenticate(handler, data)
            name = roster_map.hub_name(auth.get("auth_state") or {})
            if name is None:
                self.log.warning("LTI 1.3 launch refused: %s", roster_map.last_problem)
                return None
            return {**auth, "name": name}

    return RosterLTI13Authenticator
