"""Set up (and start) the class hub on this machine, as root: ``make hub``.

    python3 deploy/hub/setup.py --roster students.csv --instructor prof [--grader ta1] [--start]
    python3 deploy/hub/setup.py grade          # sandboxed autograde of the collected submissions

What it does, each step idempotent (a second run changes nothing that is right already):

1. the system packages it needs, from apt when missing: ``nodejs``/``npm`` (for
   configurable-http-proxy 5.3.0, from npm), ``python3-venv``, ``bubblewrap`` (the grading
   sandbox);
2. the course environment every server uses: ``--venv`` (an existing one that has the
   ``hub`` extra), or a new one at ``<state>/venv`` with this checkout installed (``.[hub]``);
3. Unix accounts: one per roster id (group ``t320-students``), the instructors and graders
   (group ``t320-staff``); homes 0700 (``HOME_MODE=0700``: Debian's default 0755 lets one
   student read another's notebooks);
4. the exchange, ``<state>/exchange``: root-owned, mode 1777 (nbgrader makes its
   ``inbound`` drwx-ws-wx: students drop submissions there and cannot list them);
5. the course folder the instructor and graders grade in, ``<state>/course``: a copy of this
   checkout (sources, ``course/``, ``nbgrader_config.py``, the roster), group ``t320-staff``,
   mode 2770 (no student can enter it), with ``exchange`` linked to the exchange;
6. the Jupyter configuration of each role (``<state>/jupyter/{student,staff}``): which nbgrader
   extensions are on, the ``frame-ancestors 'self'`` header, the exchange and course id;
7. ``hub.json`` (read by ``jupyterhub_config.py``), the shared password (``password``, 0600)
   and a token for scripts (``driver_token``, 0600);
8. with ``--start``: runs JupyterHub in the foreground (Ctrl-C stops it and every server).
"""

import argparse
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CONFIG = os.path.join(HERE, "jupyterhub_config.py")
PROXY_VERSION = "5.3.0"
STUDENT_GROUP = "t320-students"
STAFF_GROUP = "t320-staff"
# Unix user names (Debian's useradd; JupyterHub lower-cases names): the roster id as is.
UNIX_NAME = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,31}")
# What the course folder copy leaves out: environments, VCS, grading outputs of the checkout,
# and nnlib (the course environment has it; a second copy would shadow it in the grading
# process but not inside the sandbox).
COPY_IGNORE = shutil.ignore_patterns(
    "nnlib", ".venv", ".git", "__pycache__", ".pytest_cache", "node_modules", "exchange", "submitted",
    "autograded", "feedback", "export", "gradebook.db", "grades.csv", ".ipynb_checkpoints")
STUDENT_SERVER_EXTENSIONS = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.validate_assignment": True,
}
STAFF_SERVER_EXTENSIONS = {name: True for name in STUDENT_SERVER_EXTENSIONS}
STUDENT_DISABLED_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                            "@jupyter/nbgrader:course-list"]
# jupyterhub-singleuser sets frame-ancestors 'none' unless a policy is set: the Lab
# formgrader is an iframe of the same server, so allow the server itself.
CSP = "frame-ancestors 'self'"


def run(argv, **kw):
    """Run ``argv``, echoing it; raise with its output on failure."""
    print("+", " ".join(argv), flush=True)
    return subprocess.run(argv, check=True, **kw)


# ---------------------------------------------------------------- 1. system packages
def ensure_packages(apt=True):
    """nodejs/npm, python3-venv, bubblewrap from apt; configurable-http-proxy from npm."""
    missing = []
    if not shutil.which("npm"):
        missing += ["nodejs", "npm"]
    if not shutil.which("bwrap"):
        missing.append("bubblewrap")
    try:
        import ensurepip  # noqa: F401  (Debian ships it in python3-venv)
    except ImportError:
        missing.append("python3-venv")
    if missing:
        if not apt:
            raise SystemExit(f"missing system packages {missing}: apt-get install {' '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", *missing], env=env)
    proxy = shutil.which("configurable-http-proxy")
    if proxy is None:
        run(["npm", "install", "--global", f"configurable-http-proxy@{PROXY_VERSION}"])
        proxy = shutil.which("configurable-http-proxy")
    if proxy is None:
        raise SystemExit("configurable-http-proxy is not on PATH after `npm install --global`")
    return proxy


# ---------------------------------------------------------------- 2. course environment
def ensure_env(venv, state):
    """The environment's bin folder; creates ``<state>/venv`` with the course if no --venv."""
    if venv is None:
        venv = os.path.join(state, "venv")
        if not os.path.exists(os.path.join(venv, "bin", "python")):
            run([sys.executable, "-m", "venv", venv])
        run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet",
             f"{REPO}[hub]"])
    bin_dir = os.path.join(os.path.abspath(venv), "bin")
    for tool in ("jupyterhub", "jupyterhub-singleuser", "nbgrader", "jupyter-lab"):
        if not os.path.exists(os.path.join(bin_dir, tool)):
            raise SystemExit(f"{bin_dir}/{tool} missing: install the course with its hub extra "
                             f"there ({bin_dir}/pip install -e '{REPO}[hub]')")
    return bin_dir


def overlay_env(target, source_prefix=sys.prefix):
    """A venv of the system Python over ``source_prefix``'s packages; returns its path.

    For a course environment whose interpreter other users cannot run (a pyenv Python under
    root's 0700 home): Debian's ``/usr/bin/python3.X`` of the same minor version (same ABI)
    with a ``.pth`` that adds the source's site-packages, the source's scripts with their
    first line pointing at the new interpreter, and its ``share/jupyter`` and
    ``etc/jupyter`` (Lab extensions, server extensions) linked.
    """
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    system_python = f"/usr/bin/python{ver}"
    if not os.path.exists(system_python):
        raise SystemExit(f"{system_python} missing: apt-get install python{ver}-venv")
    run([system_python, "-m", "venv", "--without-pip", target])
    src_site = os.path.join(source_prefix, "lib", f"python{ver}", "site-packages")
    with open(os.path.join(target, "lib", f"python{ver}", "site-packages", "t320_overlay.pth"),
              "w") as fh:
        fh.write(f"import site; site.addsitedir({src_site!r})\n")
    new_site = os.path.join(target, "lib", f"python{ver}", "site-packages")
    if not _soupsieve_works(system_python, src_site):
        # soupsieve >= 3 (nbconvert's HTML export: feedback, the formgrader) needs CPython's
        # possessive-quantifier fixes (3.11.5); Debian 12's python3.11 is 3.11.2. The
        # overlay's own site-packages comes first on sys.path, so this copy wins there.
        run([os.path.join(source_prefix, "bin", "python"), "-m", "pip", "install", "--quiet",
             "--no-deps", "--target", new_site, SOUPSIEVE_FOR_OLD_RE])
    src_bin, new_python = os.path.join(source_prefix, "bin"), os.path.join(target, "bin", "python")
    for name in os.listdir(src_bin):
        src, dst = os.path.join(src_bin, name), os.path.join(target, "bin", name)
        if os.path.islink(src) or os.path.exists(dst) or not os.path.isfile(src):
            continue
        with open(src, "rb") as fh:
            body = fh.read()
        if body.startswith(b"#!") and b"python" in body.split(b"\n", 1)[0]:
            body = b"#!" + new_python.encode() + b"\n" + body.split(b"\n", 1)[1]
            with open(dst, "wb") as fh:
                fh.write(body)
            os.chmod(dst, 0o755)
    for sub in ("share", "etc"):
        os.makedirs(os.path.join(target, sub), exist_ok=True)
        link = os.path.join(target, sub, "jupyter")
        if not os.path.lexists(link) and os.path.isdir(os.path.join(source_prefix, sub, "jupyter")):
            os.symlink(os.path.join(source_prefix, sub, "jupyter"), link)
    return target


SOUPSIEVE_FOR_OLD_RE = "soupsieve>=2.8,<3"


def _soupsieve_works(python, site_dir):
    """The environment's soupsieve compiles a selector nbconvert uses, on ``python``."""
    probe = (f"import site; site.addsitedir({site_dir!r}); import soupsieve; "
             "soupsieve.compile('img:not([alt])')")
    return subprocess.run([python, "-c", probe], capture_output=True).returncode == 0


def check_env_usable(bin_dir, user):
    """The environment must run as ``user`` (a checkout under root's 0700 home cannot)."""
    probe = subprocess.run(
        ["runuser", "-u", user, "--", "env", "-i", f"HOME={home_of(user)}",
         os.path.join(bin_dir, "python"), "-c", "import nnlib, nbgrader, jupyterhub"],
        capture_output=True, text=True)
    if probe.returncode != 0:
        raise SystemExit(f"the course environment {bin_dir} does not run as {user}: "
                         f"{probe.stderr.strip()[-400:]}\nuse a system one (omit --venv: "
                         "<state>/venv is created) or make the checkout readable")


# ---------------------------------------------------------------- 3. accounts
def home_of(user):
    return pwd.getpwnam(user).pw_dir


def ensure_group(name):
    try:
        grp.getgrnam(name)
        return False
    except KeyError:
        run(["groupadd", "--system", name])
        return True


def ensure_user(name, group):
    """Create Unix user ``name`` (home 0700, in ``group``); True if created now."""
    if not UNIX_NAME.fullmatch(name):
        raise SystemExit(f"{name!r} cannot be a Unix user name: roster ids on the hub must be "
                         "lower case letters, digits, '_', '.', '-' (at most 32)")
    created = False
    try:
        pwd.getpwnam(name)
    except KeyError:
        run(["useradd", "--create-home", "--key", "HOME_MODE=0700", "--shell", "/bin/bash",
             "--user-group", "--groups", group, name])
        created = True
    else:
        run(["usermod", "--append", "--groups", group, name])
    os.chmod(home_of(name), 0o700)  # also for accounts that existed before
    return created


def roster_ids(path):
    sys.path.insert(0, REPO)
    from course.lms.roster import Roster

    return [s.id for s in Roster.load(path).students]


# ---------------------------------------------------------------- 4-5. exchange, course folder
def ensure_exchange(path):
    os.makedirs(path, exist_ok=True)
    os.chown(path, 0, 0)
    os.chmod(path, 0o1777)
    return path


def install_course(course_dir, instructor, exchange, roster=None, staff_group=STAFF_GROUP):
    """Copy the checkout to ``course_dir`` (kept if present), owned by the instructor."""
    if not os.path.exists(os.path.join(course_dir, "nbgrader_config.py")):
        shutil.copytree(REPO, course_dir, ignore=COPY_IGNORE, dirs_exist_ok=True)
    if roster and os.path.abspath(roster) != os.path.join(course_dir, "students.csv"):
        shutil.copy(roster, os.path.join(course_dir, "students.csv"))
    link = os.path.join(course_dir, "exchange")
    if not os.path.islink(link):
        if os.path.isdir(link):
            os.rmdir(link)  # nbgrader_config.py makes an empty one
        os.symlink(exchange, link)
    give_course_to(course_dir, instructor, staff_group)


def give_course_to(course_dir, instructor, staff_group=STAFF_GROUP):
    """Owner the instructor, group t320-staff (rw, setgid folders), nothing for others."""
    uid, gid = pwd.getpwnam(instructor).pw_uid, grp.getgrnam(staff_group).gr_gid
    for root, dirs, files in os.walk(course_dir):
        os.chown(root, uid, gid)
        mode = stat.S_IMODE(os.stat(root).st_mode)
        os.chmod(root, (mode | 0o2770) & ~0o007)
        for f in files:
            p = os.path.join(root, f)
            if os.path.islink(p):
                continue
            os.chown(p, uid, gid)
            mode = stat.S_IMODE(os.stat(p).st_mode)
            os.chmod(p, (mode | 0o660) & ~0o007)
    os.chmod(course_dir, 0o2770)
    # the grading code (public, in the repository) stays readable by "others": the trusted
    # test process runs as a grader uid of its own, with course/ bound into its sandbox
    package = os.path.join(course_dir, "course")
    for root, dirs, files in os.walk(package):
        os.chmod(root, stat.S_IMODE(os.stat(root).st_mode) | 0o005)
        for f in files:
            p = os.path.join(root, f)
            os.chmod(p, stat.S_IMODE(os.stat(p).st_mode) | 0o004)


# ---------------------------------------------------------------- 6-7. configuration
def write_json(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
    os.chmod(path, mode)


def write_role_configs(state, exchange, course_id):
    # A submission is readable by "others" (the instructor reads it so): what keeps it from
    # classmates is that inbound cannot be listed and its name ends in 72 random bits.
    nbgrader = {"Exchange": {"root": exchange}, "CourseDirectory": {"course_id": course_id},
                "ExchangeSubmit": {"add_random_string": True}}
    for role, extensions, disabled in (
            ("student", STUDENT_SERVER_EXTENSIONS, STUDENT_DISABLED_PLUGINS),
            ("staff", STAFF_SERVER_EXTENSIONS, [])):
        conf = os.path.join(state, "jupyter", role)
        write_json(os.path.join(conf, "jupyter_server_config.json"), {"ServerApp": {
            "jpserver_extensions": extensions,
            "tornado_settings": {"headers": {"Content-Security-Policy": CSP}}}})
        write_json(os.path.join(conf, "labconfig", "page_config.json"),
                   {"disabledExtensions": {p: True for p in disabled}})
        write_json(os.path.join(conf, "nbgrader_config.json"), nbgrader)


def write_secret(path, value=None):
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write((value or secrets.token_urlsafe(24)) + "\n")
    os.chmod(path, 0o600)
    with open(path, encoding="utf-8") as fh:
        return fh.read().strip()


def setup(state, students, instructors, graders, *, venv=None, roster=None, ip="127.0.0.1",
          port=8000, hub_port=8081, proxy_api_port=8001, auth="password", lti13=None,
          staff_emails=None, password=None, cull_idle_seconds=3600, course_id="t320",
          apt=True, grade_python=None, student_group=STUDENT_GROUP, staff_group=STAFF_GROUP,
          extra=None):
    """Everything but starting the hub; returns the settings written to ``hub.json``."""
    if os.geteuid() != 0:
        raise SystemExit("the hub is set up as root (it creates Unix users)")
    if not instructors:
        raise SystemExit("at least one --instructor is needed (the course folder's owner)")
    state = os.path.abspath(state)
    os.makedirs(state, exist_ok=True)
    os.chmod(state, 0o755)
    proxy = ensure_packages(apt=apt)
    bin_dir = ensure_env(venv, state)
    # `make hub-grade` (root) grades with this interpreter; course.grading installs its
    # sandboxed kernel itself
    grade_python = grade_python or os.path.join(bin_dir, "python")
    ensure_group(student_group)
    ensure_group(staff_group)
    created = [n for n in students if ensure_user(n, student_group)]
    created += [n for n in [*instructors, *graders] if ensure_user(n, staff_group)]
    exchange = ensure_exchange(os.path.join(state, "exchange"))
    course_dir = os.path.join(state, "course")
    install_course(course_dir, instructors[0], exchange, roster, staff_group)
    write_role_configs(state, exchange, course_id)
    check_env_usable(bin_dir, (students or instructors)[0])
    settings = {
        "state_dir": state, "env_bin": bin_dir, "course_dir": course_dir, "exchange": exchange,
        "course_id": course_id, "ip": ip, "port": port, "hub_port": hub_port,
        "proxy_api_port": proxy_api_port, "proxy_command": proxy, "auth": auth,
        "students": list(students), "instructors": list(instructors), "graders": list(graders),
        "password_file": os.path.join(state, "password"),
        "admin_password_file": os.path.join(state, "admin_password"),
        "roster": os.path.join(course_dir, "students.csv"),
        "staff_emails": staff_emails or {}, "lti13": lti13 or {},
        "cull_idle_seconds": cull_idle_seconds, "grade_python": grade_python,
        "student_group": student_group, "staff_group": staff_group, **(extra or {}),
    }
    write_secret(settings["password_file"], password)
    write_secret(settings["admin_password_file"], secrets.token_urlsafe(32))  # >= 32 chars
    write_secret(os.path.join(state, "driver_token"))
    write_json(os.path.join(state, "hub.json"), settings, mode=0o600)
    settings["created_users"] = created
    return settings


def hub_command(settings):
    """argv and environment that run this hub (from ``hub.json``'s folder)."""
    env = {**os.environ, "T320_HUB_SETTINGS": os.path.join(settings["state_dir"], "hub.json"),
           "PATH": f"{settings['env_bin']}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    return [os.path.join(settings["env_bin"], "jupyterhub"), "-f", CONFIG], env


def grade(state):
    """``make grade`` on the hub: the sandboxed autograde of ``submitted/``, as root."""
    with open(os.path.join(state, "hub.json"), encoding="utf-8") as fh:
        s = json.load(fh)
    python = s["grade_python"]
    status = subprocess.run([python, "-m", "course.grading", "--no-progress"],
                            cwd=s["course_dir"]).returncode
    give_course_to(s["course_dir"], s["instructors"][0],  # outputs back to the staff
                   s.get("staff_group", STAFF_GROUP))
    return status


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", nargs="?", default="setup", choices=["setup", "grade"])
    ap.add_argument("--state", default="/srv/t320-hub", help="the hub's folder")
    ap.add_argument("--roster", default=os.path.join(REPO, "students.csv"),
                    help="students.csv (id,name,email); ids become Unix users")
    ap.add_argument("--instructor", action="append", default=[], help="instructor account")
    ap.add_argument("--grader", action="append", default=[], help="grader (TA) account")
    ap.add_argument("--venv", help="existing course environment (default: <state>/venv)")
    ap.add_argument("--ip", default="127.0.0.1",
                    help="the address students reach (put a TLS reverse proxy in front)")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--auth", choices=["password", "lti13"], default="password")
    ap.add_argument("--lti-issuer")
    ap.add_argument("--lti-client-id")
    ap.add_argument("--lti-authorize-url")
    ap.add_argument("--lti-jwks-url")
    ap.add_argument("--cull-idle", type=int, default=3600, help="seconds (0: no culling)")
    ap.add_argument("--start", action="store_true", help="run the hub in the foreground")
    args = ap.parse_args(argv)
    if args.action == "grade":
        return grade(args.state)
    if not os.path.exists(args.roster):
        raise SystemExit(f"no roster at {args.roster} (columns id,name,email): --roster FILE")
    lti13 = None
    if args.auth == "lti13":
        lti13 = {"issuer": args.lti_issuer, "client_id": args.lti_client_id,
                 "authorize_url": args.lti_authorize_url, "jwks_endpoint": args.lti_jwks_url}
        if not all(lti13.values()):
            raise SystemExit("--auth lti13 needs --lti-issuer, --lti-client-id, "
                             "--lti-authorize-url and --lti-jwks-url (from the LMS's tool page)")
    s = setup(args.state, roster_ids(args.roster), args.instructor, args.grader, venv=args.venv,
              roster=args.roster, ip=args.ip, port=args.port, auth=args.auth, lti13=lti13,
              cull_idle_seconds=args.cull_idle)
    print(f"hub ready: {len(s['students'])} students, instructors {s['instructors']}, "
          f"graders {s['graders']}; state in {s['state_dir']}")
    if args.auth == "password":
        print(f"shared password: in {s['password_file']}, instructors' in "
              f"{s['admin_password_file']} (root only)")
    if args.start:
        argv, env = hub_command(s)
        print(f"starting JupyterHub on http://{args.ip}:{args.port}/ (Ctrl-C stops it)", flush=True)
        os.chdir(s["state_dir"])
        os.execve(argv[0], argv, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
