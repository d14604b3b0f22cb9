"""Shared, thread-safe state of the golden-ami emulator's extensions.

moto answers every request on its own worker thread, and both the WSGI layer
(faults, call log, control API) and the model patches (timing, failNext,
CopyImage idempotency) need the same run-time settings. This module is the one
place that holds them, behind one lock, so that a configuration change made
through the control API is seen atomically by the next request. Nothing here
touches moto: it only stores settings and records what happened.
"""

from __future__ import annotations

import copy
import json
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any

# Timing keys understood by the emulator (seconds, floats). Missing or 0 means
# moto's instant behaviour.
TIMING_KEYS = (
    "instancePending",  # RunInstances: pending -> running
    "instanceStarting",  # StartInstances: pending -> running (default: instancePending)
    "instanceStopping",  # StopInstances: stopping -> stopped
    "imagePending",  # CreateImage / RegisterImage: pending -> available
    "copyPending",  # CopyImage: pending -> available
    "snapshotSeconds",  # image snapshots: 0% -> 100% (default: the image's pending time)
    "snapshotSecondsPerGiB",  # added to each snapshot's duration per GiB of its volume (default 0)
    "userDataSeconds",  # user data ending in a shutdown command powers the instance off this long after it runs (unset: never)
    "statusInitializing",  # status checks read `initializing` this long after the instance runs (default 0)
    "instanceTerminating",  # TerminateInstances: shutting-down -> terminated (ext_instances.py; default 0)
)

DEFAULT_FAIL_CODE = "Server.InternalError"
DEFAULT_FAIL_MESSAGE = "An internal error has occurred"


def now_ms() -> int:
    return int(time.time() * 1000)


class ConfigError(ValueError):
    """A control-API request that cannot be applied (answered with HTTP 400)."""


def _parse_timing(value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("timing must be an object")
    timing: dict[str, float] = {}
    for key, seconds in value.items():
        if key not in TIMING_KEYS:
            raise ConfigError(f"unknown timing key {key!r}; known: {', '.join(TIMING_KEYS)}")
        if seconds is None:
            continue
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            raise ConfigError(f"timing.{key} must be a number of seconds >= 0")
        timing[key] = float(seconds)
    return timing


def _parse_throttle(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError("throttle must be an object or null")
    fraction = value.get("fraction")
    if not isinstance(fraction, (int, float)) or isinstance(fraction, bool) or not 0 <= fraction <= 1:
        raise ConfigError("throttle.fraction must be a number between 0 and 1")
    actions = value.get("actions")
    if actions is not None and (
        not isinstance(actions, list) or not all(isinstance(a, str) for a in actions)
    ):
        raise ConfigError("throttle.actions must be a list of EC2 action names")
    seed = value.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ConfigError("throttle.seed must be an integer")
    return {"fraction": float(fraction), "actions": actions, "seed": seed}


STATUS_CHECKS = ("instance", "system")


def _parse_fail_next(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, dict) and value.get("kind") == "status":
        check = value.get("check") or "instance"
        if check not in STATUS_CHECKS:
            raise ConfigError(f"failNext.check must be one of {', '.join(STATUS_CHECKS)}")
        return {"kind": "status", "check": check}
    if not isinstance(value, dict) or value.get("kind") not in ("create", "copy"):
        raise ConfigError(
            'failNext must be {"kind": "create"|"copy", "code"?, "message"?} or {"kind": "status", "check"?}'
        )
    return {
        "kind": value["kind"],
        "code": str(value.get("code") or DEFAULT_FAIL_CODE),
        "message": str(value.get("message") or DEFAULT_FAIL_MESSAGE),
    }


class EmulatorState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._baseline_timing: dict[str, float] = {}
        self._baseline_throttle: dict[str, Any] | None = None
        self._load_baseline_from_env()
        self._reset_locked()

    # ---- configuration -------------------------------------------------
    def _load_baseline_from_env(self) -> None:
        raw_timing = os.environ.get("GA_EMULATOR_TIMING")
        raw_throttle = os.environ.get("GA_EMULATOR_THROTTLE")
        try:
            self._baseline_timing = _parse_timing(json.loads(raw_timing)) if raw_timing else {}
            self._baseline_throttle = (
                _parse_throttle(json.loads(raw_throttle)) if raw_throttle else None
            )
        except (ValueError, ConfigError) as error:
            raise SystemExit(f"golden-ami-emulator: bad GA_EMULATOR_TIMING/THROTTLE: {error}")

    def _reset_locked(self) -> None:
        self._timing = dict(self._baseline_timing)
        self._set_throttle_locked(copy.deepcopy(self._baseline_throttle))
        self._fail_next: list[dict[str, str]] = []
        self._calls: list[dict[str, Any]] = []
        self._images: dict[str, dict[str, Any]] = {}
        self._copy_tokens: dict[tuple[str, str, str], tuple[str, str]] = {}

    def reset(self) -> None:
        """Back to the start-up configuration; forget calls, images, failNext, tokens."""
        with self._lock:
            self._reset_locked()

    def _set_throttle_locked(self, throttle: dict[str, Any] | None) -> None:
        self._throttle = throttle
        seed = throttle.get("seed") if throttle else None
        self._rng = random.Random(seed)

    def configure(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ConfigError("body must be a JSON object")
        unknown = set(body) - {"timing", "throttle", "failNext"}
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
        # Validate everything before applying anything.
        timing = _parse_timing(body["timing"]) if "timing" in body else None
        timing_nulls = (
            [k for k, v in body["timing"].items() if v is None]
            if isinstance(body.get("timing"), dict)
            else []
        )
        throttle = _parse_throttle(body["throttle"]) if "throttle" in body else None
        fail_next = _parse_fail_next(body.get("failNext"))
        with self._lock:
            if timing is not None:
                for key in timing_nulls:
                    self._timing.pop(key, None)
                self._timing.update(timing)
            if "throttle" in body:
                self._set_throttle_locked(throttle)
            if fail_next is not None:
                self._fail_next.append(fail_next)
            return self._snapshot_config_locked()

    def _snapshot_config_locked(self) -> dict[str, Any]:
        return {
            "timing": dict(self._timing),
            "throttle": copy.deepcopy(self._throttle),
            "failNext": copy.deepcopy(self._fail_next),
        }

    def config(self) -> dict[str, Any]:
        with self._lock:
            return self._snapshot_config_locked()

    def timing(self, key: str, fallback: str | None = None) -> float:
        with self._lock:
            if key in self._timing:
                return self._timing[key]
            if fallback is not None and fallback in self._timing:
                return self._timing[fallback]
            return 0.0

    def timing_if_set(self, key: str) -> float | None:
        with self._lock:
            return self._timing.get(key)

    def snapshot_seconds(self, image_pending: float, volume_gib: float) -> float:
        """How long one snapshot of an image takes: `snapshotSeconds` (default: the image's
        pending time) plus `snapshotSecondsPerGiB` for each GiB of its volume. EC2 copies a
        volume's blocks, so a big volume's snapshot completes after a small one's: the durations
        of one image's snapshots differ, and "every snapshot" is not "the first"."""
        with self._lock:
            base = self._timing.get("snapshotSeconds", image_pending)
            return base + self._timing.get("snapshotSecondsPerGiB", 0.0) * max(0.0, float(volume_gib or 0))

    # ---- faults --------------------------------------------------------
    def should_throttle(self, action: str) -> bool:
        """One draw per eligible call, so a seeded run is reproducible."""
        with self._lock:
            throttle = self._throttle
            if not throttle or throttle["fraction"] <= 0:
                return False
            actions = throttle.get("actions")
            if actions and action not in actions:
                return False
            return self._rng.random() < throttle["fraction"]

    def take_fail_next(self, kind: str) -> dict[str, str] | None:
        with self._lock:
            for index, entry in enumerate(self._fail_next):
                if entry["kind"] == kind:
                    return self._fail_next.pop(index)
            return None

    # ---- call log ------------------------------------------------------
    def record_call(
        self, action: str, region: str, at: int, throttled: bool, status: int, access_key_id: str = ""
    ) -> None:
        with self._lock:
            self._calls.append(
                {"action": action, "region": region, "at": at, "throttled": throttled, "status": status,
                 "accessKeyId": access_key_id}
            )

    def record_image(self, image_id: str, event: dict[str, Any]) -> None:
        with self._lock:
            self._images[image_id] = event

    def calls(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": copy.deepcopy(self._calls), "images": copy.deepcopy(self._images)}

    def reset_calls(self) -> None:
        with self._lock:
            self._calls = []
            self._images = {}

    # ---- CopyImage idempotency -----------------------------------------
    def copy_token(self, key: tuple[str, str, str]) -> tuple[str, str] | None:
        with self._lock:
            return self._copy_tokens.get(key)

    def remember_copy_token(self, key: tuple[str, str, str], fingerprint: str, image_id: str) -> None:
        with self._lock:
            self._copy_tokens[key] = (fingerprint, image_id)

    @property
    def lock(self) -> threading.Lock:
        return self._lock


STATE = EmulatorState()


def add_setting(
    key: str,
    parse: Callable[[Any], Any],
    store: Callable[[Any], None],
    shown: Callable[[], dict[str, Any]],
    reset: Callable[[], None],
) -> None:
    """One control-API setting an extension keeps itself (copyLimit, latency, ...): ``parse``
    validates the body's value (ConfigError) before anything is applied, ``store`` applies it,
    ``shown()`` is what the configuration answers for it (merged in), ``reset`` returns it to
    its start-up value with the rest of the configuration."""
    configure, snapshot, full_reset = EmulatorState.configure, EmulatorState._snapshot_config_locked, EmulatorState.reset

    def configure_with(self: EmulatorState, body: Any) -> dict[str, Any]:
        if not (isinstance(body, dict) and key in body):
            return configure(self, body)
        rest = dict(body)
        value = parse(rest.pop(key))
        answer = configure(self, rest)
        store(value)
        answer.pop(key, None)
        return {**answer, **shown()}

    def snapshot_with(self: EmulatorState) -> dict[str, Any]:
        return {**snapshot(self), **shown()}

    def reset_with(self: EmulatorState) -> None:
        full_reset(self)
        reset()

    EmulatorState.configure = configure_with  # type: ignore[method-assign]
    EmulatorState._snapshot_config_locked = snapshot_with  # type: ignore[method-assign]
    EmulatorState.reset = reset_with  # type: ignore[method-assign]

