"""Call pacing and call targets: how long chosen EC2 actions take, and which resource each call names.

A test that kills a client half-way through a series of deletes (retention: several
DeregisterImage calls in a row) needs the series to take long enough for the kill to land
between two of them, and must then tell, from the call log, that no image or snapshot was
deleted twice. moto answers every call at once and the call log records only the action.
This extension adds both, off unless configured:

- ``latency``: ``{"DeregisterImage": 1.5, ...}`` seconds an action's request waits before
  moto handles it (the request has reached EC2 and is acted on after the wait, also when the
  client has gone away meanwhile, as a real slow call is). ``null`` for one action removes it;
  ``latency: null`` removes all. Reset with the rest of the configuration.
- ``target`` on each call of the call log: the ``ImageId`` or ``SnapshotId`` the request
  names (the first one), or absent.

State (the latencies) lives here; the wire stays in emulator_http.py, whose middleware and
state methods this wraps.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import parse_qs

from emulator_http import GoldenAmiMiddleware, _read_body, _scope
from emulator_state import ConfigError, EmulatorState, add_setting

LATENCY_KEY = "latency"
TARGET_PARAMS = ("ImageId", "SnapshotId")


class _Pacing:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency: dict[str, float] = {}
        self.current = threading.local()

    def seconds(self, action: str) -> float:
        with self._lock:
            return self.latency.get(action, 0.0)

    def update(self, value: dict[str, float | None] | None) -> None:
        with self._lock:
            if value is None:
                self.latency = {}
                return
            for action, seconds in value.items():
                if seconds is None:
                    self.latency.pop(action, None)
                else:
                    self.latency[action] = seconds

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self.latency)


PACING = _Pacing()


def parse_latency(value: Any) -> dict[str, float | None] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError('latency must be an object {"DeregisterImage": seconds, ...} or null')
    for action, seconds in value.items():
        if seconds is None:
            continue
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 60:
            raise ConfigError(f"latency.{action} must be a number of seconds between 0 and 60, or null")
    return {action: (None if s is None else float(s)) for action, s in value.items()}


def _target(body: bytes) -> str | None:
    try:
        form = parse_qs(body.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    for param in TARGET_PARAMS:
        for key in (param, f"{param}.1"):
            if key in form:
                return form[key][0]
    return None


def _wrap_call(original: Any) -> Any:
    def call(self: GoldenAmiMiddleware, environ: dict[str, Any], start_response: Any) -> Any:
        scope = _scope(environ)
        if scope is None or scope[0] != "ec2" or environ.get("PATH_INFO", "").startswith("/_golden-ami/"):
            return original(self, environ, start_response)
        body = _read_body(environ)
        PACING.current.target = _target(body)
        try:
            form = parse_qs(body.decode("utf-8", "replace"))
            seconds = PACING.seconds(form.get("Action", [""])[0])
            if seconds > 0:
                time.sleep(seconds)
            return original(self, environ, start_response)
        finally:
            PACING.current.target = None

    return call


def _wrap_record_call(original: Any) -> Any:
    def record_call(self: EmulatorState, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        target = getattr(PACING.current, "target", None)
        if target is not None:
            with self._lock:
                self._calls[-1]["target"] = target

    return record_call


def apply() -> None:
    """Install call pacing and call targets; a second call finds them installed."""
    if getattr(GoldenAmiMiddleware.__call__, "paced", False):
        return
    paced = _wrap_call(GoldenAmiMiddleware.__call__)
    paced.paced = True  # type: ignore[attr-defined]
    GoldenAmiMiddleware.__call__ = paced  # type: ignore[method-assign]
    EmulatorState.record_call = _wrap_record_call(EmulatorState.record_call)  # type: ignore[method-assign]
    add_setting(LATENCY_KEY, parse_latency, PACING.update, lambda: {LATENCY_KEY: PACING.snapshot()} if PACING.snapshot() else {}, lambda: PACING.update(None))
