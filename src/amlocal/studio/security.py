"""Who may talk to the studio, and what every answer carries.

* Loopback (the default): only requests whose Host is a loopback name are answered, so a web
  page elsewhere cannot reach the studio through DNS rebinding.
* Bound elsewhere (an explicit ``--host``): every request carries the token printed at start,
  as ``?token=`` once (it becomes an HttpOnly, SameSite=Strict cookie and the URL is cleaned),
  as that cookie, or as ``Authorization: token <TOKEN>`` (scripts).
* Every answer carries a strict Content-Security-Policy (scripts and styles from the studio
  itself only, no inline script, no framing), nosniff, and no referrer to other sites.
* State-changing requests (POST) also need the page's CSRF token and a same-origin Origin.
"""

import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make browsers send "Origin: null" on POSTs
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")


def is_loopback(host):
    if host in LOOPBACK_NAMES:
        return True
    return host.startswith("127.") and host.replace(".", "").isdigit()


def host_name(host_header):
    """"127.0.0.1:8765" -> "127.0.0.1"; "[::1]:8765" -> "[::1]"."""
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.split(":", 1)[0]


def new_token():
    return secrets.token_urlsafe(32)


def same(a, b):
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


class Guard:
    """ASGI middleware applying the rules above. ``token`` None means loopback-only mode."""

    def __init__(self, app, token=None, port=None):
        self.app = app
        self.token = token
        self.cookie_name = f"amlocal_studio_{port or 'token'}"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.token is None:
            if not is_loopback(host_name(headers.get("host", ""))):
                return await _plain(send, 403, "This studio answers on loopback only (Host was not a loopback "
                                               "name). Open it at the address `amlocal ui` printed.")
        else:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            if same(query.get("token"), self.token) and scope["method"] == "GET":
                return await self._accept_token(scope, query, send)
            if not self._carries_token(headers):
                return await _plain(send, 401, "This studio needs its token: open the URL `amlocal ui` printed "
                                               "(it ends with ?token=...), or send `Authorization: token <TOKEN>`.")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _carries_token(self, headers):
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("token", "bearer") and same(value.strip(), self.token):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:
            return False
        morsel = cookie.get(self.cookie_name)
        return morsel is not None and same(morsel.value, self.token)

    async def _accept_token(self, scope, query, send):
        query.pop("token", None)
        location = scope.get("path", "/") + ("?" + urlencode(query) if query else "")
        cookie = f"{self.cookie_name}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode("latin-1", "replace")),
                                (b"set-cookie", cookie.encode()), (b"cache-control", b"no-store"),
                                *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": b""})


async def _plain(send, status, text):
    body = (text + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
