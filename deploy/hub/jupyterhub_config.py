"""JupyterHub for one T320 class on one Linux machine (``make hub``; deploy/hub/README.md).

Every setting comes from ``hub.json``, which ``deploy/hub/setup.py`` writes into the hub's
state folder (``T320_HUB_SETTINGS`` names it; default ``/srv/t320-hub/hub.json``):

- real Unix users (``LocalProcessSpawner``), one per roster id; the hub user name *is* the
  roster id, so the same student is the same folder in the exchange, ``submitted/``, the
  gradebook and ``make export``;
- roles by JupyterHub groups: ``students`` get nbgrader's Assignments (fetch, Validate,
  submit) and neither the formgrader nor Create Assignment; ``instructors`` and
  ``graders`` get the formgrader, their server opens on the course folder;
- the single-user servers send ``frame-ancestors 'self'``: the formgrader renders inside
  JupyterLab (jupyterhub-singleuser's default ``'none'`` blanks its iframe);
- login: a shared password (development, tests, a lab session) or LTI 1.3 from the LMS
  (``"auth": "lti13"``), whose user is mapped to the roster id by e-mail or SIS id;
- idle servers are culled (jupyterhub-idle-culler) so memory goes to the students at work.

The role split is convenience, not the security boundary: every student runs as their own
Unix user with a 0700 home, and the exchange's modes (root 1777, inbound drwx-ws-wx) are
what keep one student out of another's files.
"""

import json
import os
import sys

c = get_config()  # noqa: F821 - injected by traitlets

SETTINGS_PATH = os.environ.get("T320_HUB_SETTINGS", "/srv/t320-hub/hub.json")
with open(SETTINGS_PATH, encoding="utf-8") as fh:
    S = json.load(fh)

STATE = S["state_dir"]
BIN = S["env_bin"]  # the course environment every server uses
STUDENTS = set(S["students"])
INSTRUCTORS = set(S["instructors"])
GRADERS = set(S["graders"])
STAFF = INSTRUCTORS | GRADERS

# ---- the hub and its proxy: loopback unless the settings say otherwise ----
c.JupyterHub.ip = S.get("ip", "127.0.0.1")
c.JupyterHub.port = int(S.get("port", 8000))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(S.get("hub_port", 8081))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(S.get('proxy_api_port', 8001))}"
c.ConfigurableHTTPProxy.command = [S.get("proxy_command", "configurable-http-proxy")]
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(STATE, "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every student's server

# ---- who may log in, and the groups that give roles ----
c.Authenticator.allowed_users = STUDENTS | STAFF
c.Authenticator.admin_users = INSTRUCTORS
c.Authenticator.delete_invalid_users = True
c.JupyterHub.load_groups = {
    "students": {"users": sorted(STUDENTS)},
    "instructors": {"users": sorted(INSTRUCTORS)},
    "graders": {"users": sorted(GRADERS)},
}

if S.get("auth", "password") == "lti13":
    lti = S["lti13"]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from lti_roster import RosterMap, roster_authenticator  # noqa: E402

    # the LMS user becomes the roster id (or a staff name); anybody else is refused
    c.JupyterHub.authenticator_class = roster_authenticator(RosterMap.from_settings(S))
    c.LTI13Authenticator.issuer = lti["issuer"]
    c.LTI13Authenticator.client_id = set(lti["client_id"] if isinstance(lti["client_id"], list)
                                         else [lti["client_id"]])
    c.LTI13Authenticator.authorize_url = lti["authorize_url"]
    c.LTI13Authenticator.jwks_endpoint = lti["jwks_endpoint"]
    c.LTI13Authenticator.uri_scheme = lti.get("uri_scheme", "auto")
    c.LTI13Authenticator.username_key = "sub"  # replaced by the roster id
else:
    c.JupyterHub.authenticator_class = "shared-password"
    with open(S["password_file"], encoding="utf-8") as fh:
        c.SharedPasswordAuthenticator.user_password = fh.read().strip()
    with open(S["admin_password_file"], encoding="utf-8") as fh:  # instructors (hub admins)
        c.SharedPasswordAuthenticator.admin_password = fh.read().strip()

# ---- every server: the course environment, as the user, with a private umask ----
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin"}
# umask: students' new files are theirs alone; staff share the course folder by group.
# Staff servers start in the course folder: nbgrader reads nbgrader_config.py from there.
_UMASK_EXEC = ["/bin/sh", "-c", 'umask "$T320_UMASK" && cd "${T320_CWD:-.}" && exec "$0" "$@"',
               os.path.join(BIN, "jupyterhub-singleuser")]
c.Spawner.cmd = _UMASK_EXEC
# A whole class logging in at once: 40 servers starting together on 2 cores took more than
# JupyterHub's default 30 s (and 60 s) to answer, and the hub gave up on them
# (docs/performance.md, section 8). Generous limits; the start itself is not slower.
c.Spawner.start_timeout = int(S.get("start_timeout", 120))
c.Spawner.http_timeout = int(S.get("http_timeout", 120))
if S.get("mem_limit"):
    c.Spawner.mem_limit = S["mem_limit"]  # informative for LocalProcessSpawner (JUPYTERHUB_MEM_LIMIT)


def _role(spawner):
    name = spawner.user.name
    if name in INSTRUCTORS:
        return "instructor"
    if name in GRADERS:
        return "grader"
    return "student"


def _pre_spawn(spawner):
    """Per role: the Jupyter config folder (extensions, CSP, nbgrader) and the start folder."""
    role = _role(spawner)
    conf = os.path.join(STATE, "jupyter", "staff" if role != "student" else "student")
    spawner.environment = {
        **spawner.environment,
        "JUPYTER_CONFIG_PATH": conf,
        "T320_UMASK": "0007" if role != "student" else "0077",
        "T320_HUB_ROLE": role,
    }
    if role != "student":
        spawner.notebook_dir = S["course_dir"]
        spawner.environment["T320_CWD"] = S["course_dir"]


c.Spawner.pre_spawn_hook = _pre_spawn

# ---- services: the idle culler, and a driver token for scripts (root-readable file) ----
services, roles = [], []
cull = int(S.get("cull_idle_seconds", 3600))
if cull > 0:
    services.append({"name": "idle-culler",
                     "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                                 f"--timeout={cull}", f"--cull-every={max(10, cull // 6)}"]})
    roles.append({"name": "idle-culler", "services": ["idle-culler"],
                  "scopes": ["list:users", "read:users:activity", "read:servers",
                             "delete:servers"]})
token_file = os.path.join(STATE, "driver_token")
if os.path.exists(token_file):
    with open(token_file, encoding="utf-8") as fh:
        services.append({"name": "t320-driver", "api_token": fh.read().strip()})
    roles.append({"name": "t320-driver", "services": ["t320-driver"],
                  "scopes": ["admin:users", "admin:servers", "access:servers", "list:users",
                             "read:users", "read:groups", "list:services", "read:services"]})
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles
