"""Builder instances as EC2 runs them: idempotent launches, a script that runs, status
checks that fail for an image, termination that takes time.

golden-ami launches its own builders (RunInstances with a ClientToken derived from the
recipe), waits for their customisation to end, reads their console output when it fails,
and terminates them. moto ignores RunInstances' ClientToken (every call makes a new
instance), always answers GetConsoleOutput with the same fixed Xen boot log, never fails a
status check unless told per instance, and terminates at once. This module closes those
gaps, keeping its state apart from the wire (``_TOKENS``, ``_STATUS_FAILURES``) as moto
keeps models apart from responses:

- RunInstances ``ClientToken``: as EC2, a repeated token with the same parameters answers
  the first call's reservation (the same instance, whatever state it is in now, terminated
  included); the same token with other parameters fails with ``IdempotentParameterMismatch``.
- The user data runs (when ``userDataSeconds`` is set): a tiny reading of the shell script.
  ``echo TEXT`` prints TEXT to the console, ``sleep N`` takes N seconds, ``exit N`` (N != 0)
  or ``false`` makes the script fail there (cloud-init's failure line is printed) and runs
  the commands of a ``trap '...' ERR`` / ``EXIT`` if one was set; a shutdown command
  (``shutdown -h now``, ``poweroff``, ...) powers the instance off (stopped, or terminated
  with shutdown behaviour ``terminate``), ``aws ec2 terminate-instances`` terminates it.
  The script ends ``userDataSeconds`` plus its sleeps after the instance runs; GetConsoleOutput
  shows a boot banner and every line printed so far. User data runs at first boot only.
- Status checks fail for instances of chosen AMIs: control API ``statusFailures``
  ``{"ami-...": "instance" | "system" | null}`` (null removes one).
- TerminateInstances: ``shutting-down`` for ``instanceTerminating`` seconds, then
  ``terminated``; DescribeInstances takes EC2's ``client-token`` filter.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import threading
import time
from datetime import datetime, timezone
from typing import Any

from moto.core.responses import ActionResult
from moto.core.types import Base64EncodedString
from moto.ec2.models.instances import Instance, InstanceState, StateReason
from moto.ec2.responses.general import General
from moto.ec2.responses.instances import InstanceResponse
from moto.ec2 import utils as ec2_utils

import emulator_patches
from emulator_patches import EmulatorError
from emulator_state import STATE, STATUS_CHECKS, ConfigError, EmulatorState

# ---------------------------------------------------------------------------
# State (apart from the wire)
# ---------------------------------------------------------------------------

_LOCK = threading.Lock()
# (account, region, token) -> (fingerprint of the request, reservation ID)
_TOKENS: dict[tuple[str, str, str], tuple[str, str]] = {}
# AMI ID -> the status check that fails for its instances
_STATUS_FAILURES: dict[str, str] = {}


def _reset() -> None:
    with _LOCK:
        _TOKENS.clear()
        _STATUS_FAILURES.clear()


def _parse_status_failures(value: Any) -> dict[str, str | None]:
    if not isinstance(value, dict):
        raise ConfigError('statusFailures must be an object {"ami-...": "instance" | "system" | null}')
    for image_id, check in value.items():
        if not re.match(r"^ami-[0-9a-f]+$", str(image_id)):
            raise ConfigError(f"statusFailures: {image_id!r} is not an AMI ID")
        if check is not None and check not in STATUS_CHECKS:
            raise ConfigError(f"statusFailures.{image_id} must be one of {', '.join(STATUS_CHECKS)} or null")
    return value


def _config_view(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration, with statusFailures while any is set (the start-up configuration stays as it was)."""
    with _LOCK:
        return {**config, "statusFailures": dict(_STATUS_FAILURES)} if _STATUS_FAILURES else config


# ---------------------------------------------------------------------------
# RunInstances ClientToken
# ---------------------------------------------------------------------------

def _fingerprint(querystring: dict[str, Any]) -> str:
    params = {k: v for k, v in querystring.items() if k not in ("Action", "Version", "ClientToken", "DryRun")}
    return json.dumps(params, sort_keys=True, default=str)


def _run_instances(self: Any) -> ActionResult:
    token = self._get_param("ClientToken")
    if not token:
        return _ORIG["run_instances"](self)
    key = (self.current_account, self.region, token)
    fingerprint = _fingerprint(self.querystring)
    # One lock around look-up and launch: two concurrent retries of one launch make one instance.
    with _LOCK:
        known = _TOKENS.get(key)
        if known is not None:
            if known[0] != fingerprint:
                raise EmulatorError(
                    "IdempotentParameterMismatch",
                    "The client token you have provided is associated with a resource that is already deleted"
                    " or with different parameters. Please use a different client token.",
                )
            reservation = self.ec2_backend.reservations.get(known[1])
            if reservation is not None:
                return ActionResult(reservation)
        result = _ORIG["run_instances"](self)
        _TOKENS[key] = (fingerprint, result.result.id)
        return result


# ---------------------------------------------------------------------------
# The user data runs
# ---------------------------------------------------------------------------

_TRAP = re.compile(r"""^trap\s+(['"])(.*)\1\s+(.+)$""")
_SLEEP = re.compile(r"^sleep\s+(\d+(?:\.\d+)?)s?$")
_ECHO = re.compile(r"^echo(?:\s+-[neE]+)?\s*(.*)$")
_FAIL = re.compile(r"^(exit\s+([1-9]\d*)|false)$")
_SELF_TERMINATE = re.compile(r"^(sudo\s+)?aws\s+ec2\s+terminate-instances\b")
_REDIRECT = re.compile(r"\s*(\|\s*tee\b.*|[12]?>>?\s*\S+|>&\s*\d)\s*$")


def _script_text(user_data: Any) -> str | None:
    if user_data is None:
        return None
    raw = user_data.as_bytes() if hasattr(user_data, "as_bytes") else str(user_data).encode()
    try:
        return base64.b64decode(raw).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


def _echo_text(argument: str) -> str:
    text = _REDIRECT.sub("", argument).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def _commands(text: str) -> list[str]:
    commands: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        commands.extend(part.strip() for part in line.split(" && ") if part.strip())
    return commands


def _run_commands(commands: list[str], offset: float, printed: list[tuple[float, str]]) -> tuple[float, str | None, int]:
    """Runs commands from `offset`: (offset at the end, how the instance ends or None, exit status)."""
    for command in commands:
        sleep = _SLEEP.match(command)
        if sleep:
            offset += float(sleep.group(1))
            continue
        echo = _ECHO.match(command)
        if echo:
            printed.append((offset, _echo_text(echo.group(1))))
            continue
        failure = _FAIL.match(command)
        if failure:
            return offset, None, int(failure.group(2) or 1)
        if _SELF_TERMINATE.match(command):
            return offset, "terminate", 0
        if emulator_patches._SHUTDOWN_LINE.match(command):
            return offset, "power-off", 0
    return offset, None, 0


def _plan_script(text: str, seconds: float) -> dict[str, Any]:
    """What the script prints when, how it ends and when: a plan read lazily by describe calls."""
    printed: list[tuple[float, str]] = []
    trap: list[str] = []
    main: list[str] = []
    for command in _commands(text):
        match = _TRAP.match(command)
        if match and any(sig in ("ERR", "EXIT") for sig in match.group(3).split()):
            trap = [c.strip() for c in match.group(2).split(";") if c.strip()]
        else:
            main.append(command)
    offset, ending, status = _run_commands(main, 0.0, printed)
    failed = status != 0
    if failed:
        printed.append((offset, f"cloud-init[1092]: util.py[WARNING]: Failed running /var/lib/cloud/instance/scripts/part-001 [{status}]"))
        offset, ending, _ = _run_commands(trap, offset, printed)
    printed = [(at + seconds, line) for at, line in printed]
    end = offset + seconds
    if not failed and ending is None:
        printed.append((end, "Cloud-init v. 22.2.2 finished. Datasource DataSourceEc2. Up 2.0 seconds"))
    return {"printed": printed, "end": end, "ending": ending}


_BANNER = [
    "Linux version 6.1.0-amzn2023 (mockbuild@ip-10-0-0-1) #1 SMP",
    "Cloud-init v. 22.2.2 running 'modules:final'. Up 1.0 seconds.",
]


# moto's (and emulator_patches') methods this module wraps, taken when apply() runs.
_ORIG: dict[str, Any] = {}


def _instance_init(self: Instance, *args: Any, **kwargs: Any) -> None:
    _ORIG["init"](self, *args, **kwargs)
    data = self.__dict__
    data["_ga_console"] = {"start": time.time(), "printed": []}
    seconds = STATE.timing_if_set("userDataSeconds")
    text = _script_text(self.user_data)
    if seconds is None or text is None:
        return
    # This module runs the script; the plain self-stop of emulator_patches is replaced by it.
    data["_ga_self_stop_at"] = None
    running_at = time.time() + STATE.timing("instancePending")
    plan = _plan_script(text, seconds)
    data["_ga_console"] = {"start": running_at, "printed": plan["printed"]}
    if plan["ending"] is not None:
        data["_ga_script_end"] = (running_at + plan["end"], plan["ending"])


def _state_get(self: Instance) -> InstanceState:
    data = self.__dict__
    script_end = data.get("_ga_script_end")
    if script_end is not None and time.time() >= script_end[0]:
        data["_ga_script_end"] = None
        at, ending = script_end
        if ending == "power-off" and self.instance_initiated_shutdown_behavior == "stop":
            emulator_patches._power_off(self, at)
        else:
            Instance.terminate(self)
            self._reason = f"Client.InstanceInitiatedShutdown ({time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(at))})"
            self.state_reason = StateReason(
                "Client.InstanceInitiatedShutdown: Instance initiated shutdown", "Client.InstanceInitiatedShutdown"
            )
    return _ORIG["state"].fget(self)


def _instance_stop(self: Instance) -> InstanceState:
    self.__dict__["_ga_script_end"] = None  # user data runs at first boot only
    return _ORIG["stop"](self)


def _instance_terminate(self: Instance) -> InstanceState:
    self.__dict__["_ga_script_end"] = None
    previous = _ORIG["terminate"](self)
    seconds = STATE.timing("instanceTerminating")
    if previous.name != "terminated" and seconds > 0:
        self.__dict__["_ga_transition"] = (time.time() + seconds, InstanceState("shutting-down", 32))
    return previous


def _get_console_output(self: Any) -> ActionResult:
    instance = self.ec2_backend.get_instance(self._get_param("InstanceId"))
    console = instance.__dict__.get("_ga_console") or {"start": 0.0, "printed": []}
    now = time.time()
    lines = list(_BANNER) if now >= console["start"] else []
    lines += [line for at, line in console["printed"] if console["start"] + at <= now]
    output = "\n".join(lines) + ("\n" if lines else "")
    return ActionResult({
        "InstanceId": instance.id,
        "Timestamp": datetime.now(timezone.utc),
        "Output": Base64EncodedString.from_raw_string(output),
    })


# ---------------------------------------------------------------------------
# Status checks that fail for instances of an AMI
# ---------------------------------------------------------------------------

def _status(check: str) -> property:
    def get(self: Instance) -> dict[str, Any]:
        result = emulator_patches._status_check(self, check)
        with _LOCK:
            failing = _STATUS_FAILURES.get(self.image_id)
        if failing == check and result.get("Status") == "ok":
            since = datetime.fromtimestamp(self.__dict__.get("_ga_status_ok_at") or time.time(), tz=timezone.utc)
            return {"Status": "impaired", "Details": [{"Name": "reachability", "Status": "failed", "ImpairedSince": since}]}
        return result

    return property(get)


# ---------------------------------------------------------------------------
# Control API: the statusFailures setting, next to the state's own settings
# ---------------------------------------------------------------------------

# Wrapped on the class, as every extension does, so that the wrappers of several extensions
# stack in the order their apply() runs (an attribute on STATE would hide later class wrappers).
def _configure(self: EmulatorState, body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and "statusFailures" in body:
        failures = _parse_status_failures(body["statusFailures"])
        rest = {k: v for k, v in body.items() if k != "statusFailures"}
        config = _ORIG["configure"](self, rest)  # validates the rest before anything is applied
        with _LOCK:
            for image_id, check in failures.items():
                if check is None:
                    _STATUS_FAILURES.pop(image_id, None)
                else:
                    _STATUS_FAILURES[image_id] = check
        return _config_view(config)
    return _config_view(_ORIG["configure"](self, body))


def _config(self: EmulatorState) -> dict[str, Any]:
    return _config_view(_ORIG["config"](self))


def _state_reset(self: EmulatorState) -> None:
    _ORIG["reset"](self)
    _reset()


@functools.cache
def apply() -> None:
    """Install this module's patches once (after emulator_patches' own). Idempotent."""
    _ORIG.update(
        init=Instance.__init__, stop=Instance.stop, terminate=Instance.terminate,
        state=Instance._state,  # emulator_patches' timed state property
        run_instances=InstanceResponse.run_instances,
        configure=EmulatorState.configure, config=EmulatorState.config, reset=EmulatorState.reset,
    )
    Instance._state = property(_state_get, _ORIG["state"].fset)  # type: ignore[assignment]
    Instance.__init__ = _instance_init  # type: ignore[method-assign]
    Instance.stop = _instance_stop  # type: ignore[method-assign]
    Instance.terminate = _instance_terminate  # type: ignore[method-assign]
    Instance.instance_status = _status("instance")  # type: ignore[assignment]
    Instance.system_status = _status("system")  # type: ignore[assignment]
    InstanceResponse.run_instances = _run_instances  # type: ignore[method-assign]
    General.get_console_output = _get_console_output  # type: ignore[method-assign]
    # EC2's DescribeInstances filter `client-token` (moto raises NotImplementedError for it).
    ec2_utils.filter_dict_attribute_mapping["client-token"] = "client_token"
    EmulatorState.configure = _configure  # type: ignore[method-assign]
    EmulatorState.config = _config  # type: ignore[method-assign]
    EmulatorState.reset = _state_reset  # type: ignore[method-assign]
