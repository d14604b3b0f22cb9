"""WSGI layer in front of moto: control API, injected throttling, call log.

These three extensions are about requests, not about EC2 resources, so they sit
in a WSGI middleware that wraps moto's own application instead of inside moto's
models. The middleware reads the action from the (form-encoded) EC2 request and
the region from the SigV4 credential scope, can answer HTTP 503
RequestLimitExceeded exactly as EC2 does before moto ever sees the call, and
records every EC2 call with its final HTTP status and the access key ID that signed it
(so a test can tell which credentials a program really used). Requests under
/_golden-ami/ are the control API and are never forwarded to moto nor logged.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from emulator_state import STATE, ConfigError, now_ms

CONTROL_PREFIX = "/_golden-ami/"
_CREDENTIAL_RE = re.compile(r"Credential=([^,\s]+)")

StartResponse = Callable[..., Any]


def _scope(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(service, region, access key ID) from
    'AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request'."""
    match = _CREDENTIAL_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None
    parts = match.group(1).split("/")
    if len(parts) != 5:
        return None
    return parts[3].lower(), parts[2], parts[0]


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back so moto can read it again."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _action(environ: dict[str, Any], body: bytes) -> str:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    try:
        form = parse_qs(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "Unknown"
    return form.get("Action", ["Unknown"])[0]


def request_limit_exceeded_body() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
        "<Message>Request limit exceeded.</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode("utf-8")


def _json(start_response: StartResponse, status: int, payload: Any) -> list[bytes]:
    body = json.dumps(payload).encode("utf-8")
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}[status]
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


class GoldenAmiMiddleware:
    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response, path, method)
        if path.rstrip("/") == "/moto-api/reset" and method == "POST":
            STATE.reset()
            return self.app(environ, start_response)

        scope = _scope(environ)
        if scope is None or scope[0] != "ec2":
            return self.app(environ, start_response)

        region, access_key_id = scope[1], scope[2]
        at = now_ms()
        action = _action(environ, _read_body(environ))
        if STATE.should_throttle(action):
            body = request_limit_exceeded_body()
            STATE.record_call(action, region, at, True, 503, access_key_id)
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "text/xml;charset=UTF-8"), ("Content-Length", str(len(body)))],
            )
            return [body]

        seen: dict[str, int] = {}

        def recording_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            result = self.app(environ, recording_start_response)
        except Exception:
            STATE.record_call(action, region, at, False, 500, access_key_id)
            raise
        STATE.record_call(action, region, at, False, seen.get("status", 500), access_key_id)
        return result

    def _control(
        self, environ: dict[str, Any], start_response: StartResponse, path: str, method: str
    ) -> list[bytes]:
        route = path[len(CONTROL_PREFIX):].rstrip("/")
        if route == "config":
            if method == "GET":
                return _json(start_response, 200, STATE.config())
            if method != "POST":
                return _json(start_response, 405, {"error": "use GET or POST"})
            raw = _read_body(environ)
            try:
                body = json.loads(raw.decode("utf-8") or "{}")
                return _json(start_response, 200, STATE.configure(body))
            except (ValueError, ConfigError) as error:
                return _json(start_response, 400, {"error": str(error)})
        if route == "calls":
            if method != "GET":
                return _json(start_response, 405, {"error": "use GET"})
            return _json(start_response, 200, STATE.calls())
        if route == "calls/reset":
            if method != "POST":
                return _json(start_response, 405, {"error": "use POST"})
            STATE.reset_calls()
            return _json(start_response, 200, {"ok": True})
        if route == "health":
            return _json(start_response, 200, {"ok": True})
        return _json(start_response, 404, {"error": f"no control route {path}"})
