"""Login from the LMS: an LTI 1.3 launch into the class hub (deploy/hub/, ``"auth": "lti13"``).

The test plays the LMS (the LTI "platform"): its own RSA key pair, its JWKS served on a
loopback port, the OIDC third-party login initiation, and the signed ``id_token`` it posts
back to the hub with the ``state`` and ``nonce`` the hub chose. The hub
(jupyterhub-ltiauthenticator 1.6) verifies the signature against that JWKS; ``lti_roster``
maps the LMS user to the roster id by e-mail. Needs root (the hub's users are Unix users).
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from harness import ClassHub, free_port, hub_unavailable

REASON = hub_unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"class hub test skipped: {REASON}")

ISSUER = "https://lms.example.edu"
CLIENT_ID = "t320-hub-client"
DEPLOYMENT = "deployment-1"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


class Platform:
    """The LMS: signs id_tokens with its key; serves the public half as a JWKS."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]})

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path != "/jwks":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def id_token(self, nonce, email, key=None, sub="lms-user-42", **extra):
        now = int(time.time())
        claims = {
            "iss": ISSUER, "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": sub,
            "iat": now, "exp": now + 300, "nonce": nonce, "email": email,
            LTI + "message_type": "LtiResourceLinkRequest", LTI + "version": "1.3.0",
            LTI + "deployment_id": DEPLOYMENT, LTI + "target_link_uri": "",
            LTI + "resource_link": {"id": "lista01-link"},
            LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            LTI + "context": {"id": "t320-2026", "label": "T320", "title": "Redes Neurais"},
            **extra,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="module")
def lms():
    p = Platform()
    yield p
    p.close()


@pytest.fixture(scope="module")
def hub(lms):
    h = ClassHub(n_students=2, auth="lti13", lti13={
        "issuer": ISSUER, "client_id": CLIENT_ID, "authorize_url": lms.url + "/authorize",
        "jwks_endpoint": lms.url + "/jwks", "uri_scheme": "http"}, cull_idle_seconds=3600)
    h._setup_kwargs["staff_emails"] = {"professor@example.edu": h.instructor}
    try:
        h.start()
        yield h
    finally:
        errors = h.close()
        assert not errors, errors


def launch(hub, lms, email, key=None):
    """The whole LTI 1.3 launch as a browser makes it; returns (session, final response)."""
    s = requests.Session()
    login = s.post(hub.url + "/hub/lti13/oauth_login", allow_redirects=False, timeout=30, data={
        "iss": ISSUER, "login_hint": "opaque-hint", "target_link_uri": hub.url + "/hub/home",
        "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT, "lti_message_hint": "m-1"})
    assert login.status_code == 302, f"login initiation: {login.status_code} {login.text[:300]}"
    auth = urlparse(login.headers["Location"])
    assert f"{auth.scheme}://{auth.netloc}{auth.path}" == lms.url + "/authorize"
    q = {k: v[0] for k, v in parse_qs(auth.query).items()}
    assert q["response_type"] == "id_token" and q["scope"] == "openid"
    assert q["client_id"] == CLIENT_ID and q["login_hint"] == "opaque-hint"
    assert q["lti_message_hint"] == "m-1" and q["response_mode"] == "form_post"
    assert q["redirect_uri"] == hub.url + "/hub/lti13/oauth_callback"
    token = lms.id_token(q["nonce"], email, key=key)
    back = s.post(q["redirect_uri"], allow_redirects=False, timeout=30,
                  data={"id_token": token, "state": q["state"]})
    return s, back


def who(hub, session):
    """The hub user the session's cookie belongs to (None if not logged in)."""
    r = session.get(hub.url + "/hub/api/user", timeout=30,
                    headers={"X-XSRFToken": session.cookies.get("_xsrf", "")})
    return r.json().get("name") if r.status_code == 200 else None


def test_a_student_launched_from_the_lms_is_their_roster_id(hub, lms):
    student = hub.students[1]
    s, back = launch(hub, lms, email=f"{student}@example.edu")
    assert back.status_code == 302, f"callback: {back.status_code} {back.text[:300]}\n{hub.log_tail(20)}"
    assert who(hub, s) == student, "the LMS user was not mapped to the roster id"


def test_the_instructor_is_mapped_by_the_staff_email(hub, lms):
    s, back = launch(hub, lms, email="Professor@Example.edu")
    assert back.status_code == 302, back.text[:300]
    assert who(hub, s) == hub.instructor


def test_someone_outside_the_roster_is_refused(hub, lms):
    s, back = launch(hub, lms, email="intruso@example.edu")
    assert back.status_code == 403, back.status_code
    assert who(hub, s) is None


def test_a_token_signed_by_another_key_is_refused(hub, lms):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    s, back = launch(hub, lms, email=f"{hub.students[0]}@example.edu", key=forger)
    assert back.status_code in (400, 401), back.status_code
    assert who(hub, s) is None


def test_the_idle_culler_runs_as_a_hub_service(hub):
    services = hub.api("GET", "/services").json()
    culler = services.get("idle-culler")
    assert culler, f"no idle-culler service: {sorted(services)}"
    assert "--timeout=3600" in culler["command"]
    pid = culler.get("pid")
    assert pid, culler
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        assert b"jupyterhub_idle_culler" in fh.read()
