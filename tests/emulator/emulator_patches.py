"""Patches of moto 5.2.1's EC2 models and responses, applied at start-up.

moto is a good EC2 emulator for shapes and IDs, but golden-ami's value is in the
parts moto skips: instances and images that take time, snapshots that report
progress, CreateImage/CopyImage parameters that change the result, image
deprecation and deregistration protection, and failed images. Editing moto's
site-packages would be invisible and fragile, so this module replaces a few
methods and attributes on moto's classes at import time (``apply()``), and keeps
every other behaviour of moto. Time is computed lazily from timestamps stored on
the objects when a describe call reads them: there are no background threads.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import math
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from moto.core.responses import ActionResult
from moto.core.serialize import TimestampSerializer
from moto.ec2.exceptions import (
    EC2ClientError,
    InvalidAMIIdError,
    InvalidParameterDependency,
    InvalidSnapshotIdError,
    InvalidSnapshotInUse,
    InvalidTaggableResourceType,
)
from moto.ec2.models.amis import Ami, AmiBackend
from moto.ec2.models.elastic_block_store import Snapshot
from moto.ec2.models.instances import Instance, InstanceBackend, InstanceState, StateReason
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
from moto.ec2.responses.instances import InstanceResponse
from moto.ec2.utils import random_ami_id, random_snapshot_id

import ext_references
import ext_ssm_image
from emulator_state import STATE


class EmulatorError(EC2ClientError):
    """An AWS-shaped EC2 error (HTTP 400, <Response><Errors><Error>...)."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)


def _iso_ms(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------
# Instances: pending after RunInstances/StartInstances, stopping after StopInstances
# ---------------------------------------------------------------------------
# moto keeps `Instance._state` (an InstanceState) and reads it everywhere
# (DescribeInstances, filters, DescribeInstanceStatus). Turning `_state` into a
# property lets a transition show an interim state until its deadline passes.

def _instance_state_get(self: Instance) -> InstanceState:
    data = self.__dict__
    transition = data.get("_ga_transition")
    if transition is not None:
        deadline, interim = transition
        if time.time() < deadline:
            return interim
        data["_ga_transition"] = None
    stop_at = data.get("_ga_self_stop_at")
    if stop_at is not None and time.time() >= stop_at:
        data["_ga_self_stop_at"] = None
        _power_off(self, stop_at)
        return _instance_state_get(self)
    return data.get("_ga_state")  # type: ignore[return-value]


# A builder's user data ends with one of these when it powers the instance off itself.
_SHUTDOWN_LINE = re.compile(
    r"^(sudo\s+)?(shutdown(?!.*(\s-r\b|--reboot))(\s.*)?|poweroff(\s.*)?|halt(\s.*)?|init\s+0|systemctl\s+(poweroff|halt)(\s.*)?)$"
)


def _ends_with_shutdown(user_data: Any) -> bool:
    """Whether the last command of the user data script powers the instance off."""
    if user_data is None:
        return False
    raw = user_data.as_bytes() if hasattr(user_data, "as_bytes") else str(user_data).encode()
    try:
        text = base64.b64decode(raw).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return False
    lines = [line.strip() for line in text.splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    return bool(commands) and bool(_SHUTDOWN_LINE.match(commands[-1]))


def _begin_running(instance: Instance, running_at: float) -> None:
    """The instance runs from `running_at`: its status checks initialize from then on."""
    instance.__dict__["_ga_status_ok_at"] = running_at + STATE.timing("statusInitializing")


def _power_off(instance: Instance, at: float) -> None:
    """The user data's shutdown ran at `at`: stopping, then stopped (shutdown behaviour "stop",
    the only one golden-ami's builders use; "terminate" is not emulated and is never scheduled)."""
    _orig_instance_stop(instance)
    instance._reason = f"Client.InstanceInitiatedShutdown ({time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(at))})"
    instance.state_reason = StateReason(
        "Client.InstanceInitiatedShutdown: Instance initiated shutdown", "Client.InstanceInitiatedShutdown"
    )
    stopping = STATE.timing("instanceStopping")
    if at + stopping > time.time():
        instance.__dict__["_ga_transition"] = (at + stopping, InstanceState("stopping", 64))


def _status_check(instance: Instance, check: str) -> dict[str, Any]:
    """DescribeInstanceStatus's view of one check: `initializing` for statusInitializing
    seconds after the instance runs, then `ok`, or `impaired` for a check failNext marked."""
    if instance.state_code != 16:
        return {"Status": "not-applicable"}
    now = time.time()
    data = instance.__dict__
    ok_at = data.get("_ga_status_ok_at") or 0.0
    if now < ok_at:
        return {"Status": "initializing", "Details": [{"Name": "reachability", "Status": "initializing"}]}
    if data.get("_ga_impaired") == check:
        return {
            "Status": "impaired",
            "Details": [{"Name": "reachability", "Status": "failed",
                         "ImpairedSince": datetime.fromtimestamp(ok_at, tz=timezone.utc)}],
        }
    return {"Status": "ok", "Details": [{"Name": "reachability", "Status": "passed"}]}


def _instance_state_set(self: Instance, value: InstanceState) -> None:
    self.__dict__["_ga_state"] = value


def _begin_transition(instance: Instance, seconds: float, name: str, code: int) -> None:
    if seconds > 0:
        instance.__dict__["_ga_transition"] = (time.time() + seconds, InstanceState(name, code))
    else:
        instance.__dict__["_ga_transition"] = None


_orig_instance_init = Instance.__init__
_orig_instance_start = Instance.start
_orig_instance_stop = Instance.stop
_orig_instance_terminate = Instance.terminate
_orig_backend_start = InstanceBackend.start_instances
_orig_backend_stop = InstanceBackend.stop_instances


def _instance_init(self: Instance, *args: Any, **kwargs: Any) -> None:
    _orig_instance_init(self, *args, **kwargs)
    pending = STATE.timing("instancePending")
    _begin_transition(self, pending, "pending", 0)
    running_at = time.time() + pending
    _begin_running(self, running_at)
    user_data_seconds = STATE.timing_if_set("userDataSeconds")
    if (
        user_data_seconds is not None
        and self.instance_initiated_shutdown_behavior == "stop"
        and _ends_with_shutdown(self.user_data)
    ):
        self.__dict__["_ga_self_stop_at"] = running_at + user_data_seconds
    failure = STATE.take_fail_next("status")
    if failure:
        self.__dict__["_ga_impaired"] = failure["check"]


def _instance_start(self: Instance) -> InstanceState:
    visible = copy.copy(self._state)
    if visible.name in ("running", "pending"):
        return visible  # AWS: starting a running instance is a no-op
    self.__dict__["_ga_transition"] = None
    _orig_instance_start(self)
    starting = STATE.timing("instanceStarting", "instancePending")
    _begin_transition(self, starting, "pending", 0)
    _begin_running(self, time.time() + starting)
    return visible


def _instance_stop(self: Instance) -> InstanceState:
    visible = copy.copy(self._state)
    if visible.name in ("stopped", "stopping"):
        return visible  # AWS: stopping a stopped instance is a no-op
    self.__dict__["_ga_transition"] = None
    self.__dict__["_ga_self_stop_at"] = None  # user data runs at first boot only
    _orig_instance_stop(self)
    _begin_transition(self, STATE.timing("instanceStopping"), "stopping", 64)
    return visible


def _instance_terminate(self: Instance) -> InstanceState:
    visible = copy.copy(self._state)
    self.__dict__["_ga_transition"] = None
    self.__dict__["_ga_self_stop_at"] = None
    _orig_instance_terminate(self)
    return visible


def _instance_setup_defaults(self: Instance) -> None:
    """Volumes from the AMI's block device mappings, at its device names (as EC2
    does), instead of moto's fixed 8 GiB /dev/sda1 whatever the AMI says."""
    backend = self.ec2_backend
    ami = backend.amis.get(self.image_id)
    mappings = [m for m in (ami.block_device_mappings if ami else []) if m.get("Ebs")]
    if not mappings:
        mappings = [{"DeviceName": self.root_device_name, "Ebs": {"VolumeSize": 8, "DeleteOnTermination": True}}]
    for mapping in mappings:
        ebs = mapping["Ebs"]
        snapshot_id = ebs.get("SnapshotId") if ebs.get("SnapshotId") in backend.snapshots else None
        try:
            volume = backend.create_volume(
                size=ebs.get("VolumeSize") or 8, zone_name=self._placement.zone,
                snapshot_id=snapshot_id, encrypted=bool(ebs.get("Encrypted")),
                kms_key_id=ebs.get("KmsKeyId") if ebs.get("Encrypted") else None,
                volume_type=ebs.get("VolumeType"), iops=ebs.get("Iops"),
            )
        except EC2ClientError:
            volume = backend.create_volume(size=ebs.get("VolumeSize") or 8, zone_name=self._placement.zone)
        backend.attach_volume(volume.id, self.id, mapping["DeviceName"], bool(ebs.get("DeleteOnTermination", True)))


def _backend_start_instances(self: Any, instance_ids: list[str]) -> Any:
    for instance in self.get_multi_instances_by_id(instance_ids):
        if instance.state in ("stopping", "shutting-down", "terminated"):
            raise EmulatorError(
                "IncorrectInstanceState",
                f"The instance '{instance.id}' is not in a state from which it can be started.",
            )
    return _orig_backend_start(self, instance_ids)


def _backend_stop_instances(self: Any, instance_ids: list[str]) -> Any:
    for instance in self.get_multi_instances_by_id(instance_ids):
        if instance.state in ("pending", "shutting-down", "terminated"):
            raise EmulatorError(
                "IncorrectInstanceState",
                f"This instance '{instance.id}' is not in a state from which it can be stopped.",
            )
    return _orig_backend_stop(self, instance_ids)


def _state_change_result(key: str, pairs: Any, moving: tuple[str, int], settled: str) -> ActionResult:
    entries = []
    for instance, previous in pairs:
        if previous.name in (settled, moving[0]):
            current = {"Code": previous.code, "Name": previous.name}  # no-op: unchanged
        else:
            current = {"Code": moving[1], "Name": moving[0]}
        entries.append({"InstanceId": instance.id, "CurrentState": current, "PreviousState": previous})
    return ActionResult({key: entries})


def _response_stop_instances(self: Any) -> ActionResult:
    instance_ids = self._get_param("InstanceIds", [])
    self.error_on_dryrun()
    pairs = self.ec2_backend.stop_instances(instance_ids)
    return _state_change_result("StoppingInstances", pairs, ("stopping", 64), "stopped")


def _response_start_instances(self: Any) -> ActionResult:
    instance_ids = self._get_param("InstanceIds", [])
    self.error_on_dryrun()
    pairs = self.ec2_backend.start_instances(instance_ids)
    return _state_change_result("StartingInstances", pairs, ("pending", 0), "running")


# ---------------------------------------------------------------------------
# Snapshots: pending with rising progress, then completed
# ---------------------------------------------------------------------------

def _snapshot_status_get(self: Snapshot) -> str:
    data = self.__dict__
    ready_at = data.get("_ga_ready_at")
    if ready_at is not None and time.time() < ready_at:
        return "pending"
    return data.get("_ga_status", "completed")


def _snapshot_status_set(self: Snapshot, value: str) -> None:
    self.__dict__["_ga_status"] = value


def _snapshot_progress(self: Snapshot) -> str:
    data = self.__dict__
    ready_at = data.get("_ga_ready_at")
    if ready_at is not None:
        now = time.time()
        if now < ready_at:
            started = data["_ga_started_at"]
            fraction = (now - started) / (ready_at - started)
            return f"{max(0, min(99, math.floor(fraction * 100)))}%"
    return "100%"


class _MillisecondTime(datetime):
    """A time EC2 reports to the millisecond: a snapshot's StartTime ("...:36.556Z" in real
    DescribeSnapshots output), where moto's EC2 serializer writes every time as "...:36.000Z"."""


def _timestamp_iso8601_zeroed(self: Any, value: datetime) -> str:
    if isinstance(value, _MillisecondTime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime(TimestampSerializer.ISO8601_MICRO_ZEROED)


def _start_snapshot(snapshot: Snapshot, started: float, seconds: float) -> None:
    snapshot.__dict__["_ga_started_at"] = started
    moment = datetime.fromtimestamp(started, tz=timezone.utc).replace(tzinfo=None)
    snapshot.start_time = _MillisecondTime.combine(moment.date(), moment.time())
    snapshot.__dict__["_ga_ready_at"] = started + seconds if seconds > 0 else None


# ---------------------------------------------------------------------------
# Images: pending -> available/failed, deprecation, deregistration protection,
# block device mappings that reflect the request.
# ---------------------------------------------------------------------------

def _ami_state_get(self: Ami) -> str:
    data = self.__dict__
    available_at = data.get("_ga_available_at")
    if available_at is not None and time.time() < available_at:
        return "pending"
    if data.get("_ga_failure"):
        return "failed"
    return data.get("_ga_state", "available")


def _ami_state_set(self: Ami, value: str) -> None:
    self.__dict__["_ga_state"] = value


def _ami_state_reason(self: Ami) -> dict[str, str] | None:
    failure = self.__dict__.get("_ga_failure")
    if failure and self.state == "failed":
        return dict(failure)
    return None


def _ami_deprecation_time(self: Ami) -> str | None:
    return self.__dict__.get("_ga_deprecation_time")


def _ami_deregistration_protection(self: Ami) -> str:
    data = self.__dict__
    protection = data.get("_ga_protection")
    if protection:
        return protection
    until = data.get("_ga_protected_until")
    if until is not None and time.time() < until:
        return f"disabled-until {_iso_ms(until)}"
    return "disabled"


_orig_ami_bdm = Ami.block_device_mappings.fget  # type: ignore[attr-defined]
_orig_ami_filter = Ami.get_filter_value


def _ami_block_device_mappings(self: Ami) -> list[dict[str, Any]]:
    mappings = self.__dict__.get("_ga_bdm")
    if mappings is None:
        return _orig_ami_bdm(self)
    return mappings


def _image_snapshot_ids(ami: Ami) -> list[str]:
    return [
        m["Ebs"]["SnapshotId"]
        for m in ami.block_device_mappings
        if m.get("Ebs") and m["Ebs"].get("SnapshotId")
    ]


def _ami_filter_value(self: Ami, filter_name: str, method_name: str | None = None) -> Any:
    if filter_name == "block-device-mapping.snapshot-id":
        return _image_snapshot_ids(self)
    if filter_name == "block-device-mapping.device-name":
        return [m["DeviceName"] for m in self.block_device_mappings]
    if filter_name == "block-device-mapping.encrypted":
        return [str(bool((m.get("Ebs") or {}).get("Encrypted"))).lower() for m in self.block_device_mappings]
    if filter_name == "image-type":
        return self.image_type
    return _orig_ami_filter(self, filter_name, method_name)


def _zone_of(backend: Any) -> str:
    zones = backend.describe_availability_zones()
    return zones[0].name if zones else f"{backend.region_name}a"


def _discard_auto_snapshot(backend: Any, ami: Ami) -> None:
    """moto's Ami() always makes one 15 GiB snapshot; we build the real ones."""
    backend.snapshots.pop(ami.ebs_snapshot.id, None)


def _check_name_free(backend: Any, name: str | None) -> None:
    if not name:
        return
    for other in backend.amis.values():
        if other.name == name and other.owner_id == backend.account_id:
            raise EmulatorError(
                "InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI {other.id}"
            )


def _split_tag_specifications(specs: list[dict[str, Any]] | None) -> tuple[dict[str, str], dict[str, str]]:
    image_tags: dict[str, str] = {}
    snapshot_tags: dict[str, str] = {}
    for spec in specs or []:
        resource_type = spec.get("ResourceType")
        tags = {t["Key"]: t.get("Value", "") for t in spec.get("Tags", [])}
        if resource_type == "image":
            image_tags.update(tags)
        elif resource_type == "snapshot":
            snapshot_tags.update(tags)
        else:
            raise InvalidTaggableResourceType(resource_type)
    return image_tags, snapshot_tags


def _schedule_image(
    ami: Ami, snapshots: list[Snapshot], pending: float, failure: dict[str, str] | None,
) -> tuple[float, float]:
    """Starts the image's snapshots, each with the duration its volume takes
    (STATE.snapshot_seconds), and makes the image available when the slowest has completed."""
    created = time.time()
    slowest = 0.0
    for snapshot in snapshots:
        seconds = STATE.snapshot_seconds(pending, snapshot.volume_size)
        _start_snapshot(snapshot, created, seconds)
        slowest = max(slowest, seconds)
    ready = created + max(pending, slowest)
    ami.__dict__["_ga_available_at"] = ready if ready > created else None
    if failure:
        ami.__dict__["_ga_failure"] = {"Code": failure["code"], "Message": failure["message"]}
    return created, ready


def _snapshot_records(snapshots: list[Snapshot]) -> dict[str, dict[str, Any]]:
    """When each snapshot of an image completes, for the call log's image record."""
    records = {}
    for snapshot in snapshots:
        started = snapshot.__dict__["_ga_started_at"]
        ready_at = snapshot.__dict__.get("_ga_ready_at") or started
        records[snapshot.id] = {
            "volumeSize": snapshot.volume_size,
            "startedAt": int(started * 1000),
            "completedAt": int(ready_at * 1000),
        }
    return records


def _record_image(
    ami: Ami, kind: str, region: str, created: float, ready: float, snapshots: list[Snapshot], **extra: Any
) -> None:
    event = {
        "kind": kind,
        "region": region,
        "createdAt": int(created * 1000),
        "availableAt": int(ready * 1000),
        "state": "failed" if ami.__dict__.get("_ga_failure") else "available",
        "snapshots": _snapshot_records(snapshots),
    }
    event.update(extra)
    STATE.record_image(ami.id, event)


def _create_image(
    self: Any,
    instance_id: str,
    name: str,
    description: str,
    tag_specifications: list[dict[str, Any]],
    no_reboot: bool = False,
    block_device_mappings: list[dict[str, Any]] | None = None,
) -> Ami:
    instance = self.get_instance(instance_id)
    if instance.state not in ("running", "stopping", "stopped"):
        # Wording and code as returned by EC2 for CreateImage on such an instance.
        raise EmulatorError(
            "InvalidParameterValue",
            f"Invalid value '{instance_id}' for instanceId. "
            "Instance is not in state 'running' or 'stopping' or 'stopped'",
        )
    image_tags, snapshot_tags = _split_tag_specifications(tag_specifications)
    _check_name_free(self, name)

    overrides: dict[str, dict[str, Any]] = {}
    for mapping in block_device_mappings or []:
        if mapping.get("DeviceName"):
            overrides[mapping["DeviceName"]] = mapping

    ami_id = random_ami_id()
    zone = instance._placement.zone or _zone_of(self)
    ami = Ami(self, ami_id, instance=instance, name=name, description=description,
              owner_id=None, region_name=zone)
    _discard_auto_snapshot(self, ami)
    ami.root_device_name = instance.root_device_name
    ami.root_device_type = "ebs"

    mappings: list[dict[str, Any]] = []
    snapshots: list[Snapshot] = []
    try:
        for device, block in list(instance.block_device_mapping.items()):
            override = overrides.pop(device, None) or {}
            if "NoDevice" in override:
                continue  # the request drops this volume from the image
            volume = self.volumes.get(block.volume_id)
            if volume is None:
                continue
            ebs = override.get("Ebs") or {}
            size = int(ebs.get("VolumeSize") or volume.size)
            if size < volume.size:
                raise EmulatorError(
                    "InvalidBlockDeviceMapping",
                    f"Volume of size {size}GB is smaller than snapshot of volume "
                    f"'{volume.id}', expect size >= {volume.size}GB",
                )
            snapshot = self.create_snapshot(
                volume.id, f"Created by CreateImage({instance_id}) for {ami_id} from {volume.id}",
                ami.owner_id, from_ami=ami_id,
            )
            if volume.encrypted:
                snapshot.kms_key_id = volume.kms_key_id
            snapshot.add_tags(snapshot_tags)
            snapshots.append(snapshot)
            entry: dict[str, Any] = {
                "DeleteOnTermination": bool(ebs.get("DeleteOnTermination", block.delete_on_termination)),
                "SnapshotId": snapshot.id,
                "VolumeSize": size,
                "VolumeType": ebs.get("VolumeType") or volume.volume_type or "gp2",
                "Encrypted": bool(volume.encrypted),
            }
            if volume.encrypted and volume.kms_key_id:
                entry["KmsKeyId"] = volume.kms_key_id
            for key in ("Iops", "Throughput"):
                if ebs.get(key) is not None:
                    entry[key] = ebs[key]
                elif key == "Iops" and volume.iops:
                    entry[key] = volume.iops
            mappings.append({"DeviceName": device, "Ebs": entry})
        for device, override in overrides.items():  # devices the instance does not have
            if "NoDevice" in override:
                continue
            if override.get("VirtualName"):
                mappings.append({"DeviceName": device, "VirtualName": override["VirtualName"]})
            elif override.get("Ebs"):
                ebs = override["Ebs"]
                entry = {
                    "DeleteOnTermination": bool(ebs.get("DeleteOnTermination", True)),
                    "VolumeSize": ebs.get("VolumeSize"),
                    "VolumeType": ebs.get("VolumeType") or "gp2",
                    "Encrypted": bool(ebs.get("Encrypted", False)),
                }
                if ebs.get("SnapshotId"):
                    entry["SnapshotId"] = ebs["SnapshotId"]
                mappings.append({"DeviceName": device, "Ebs": {k: v for k, v in entry.items() if v is not None}})
    except Exception:
        for snapshot in snapshots:
            self.snapshots.pop(snapshot.id, None)
        raise

    ami.__dict__["_ga_bdm"] = mappings
    ami.__dict__["_ga_no_reboot"] = bool(no_reboot)
    ami.add_tags(image_tags)
    pending = STATE.timing("imagePending")
    failure = STATE.take_fail_next("create")
    created, ready = _schedule_image(ami, snapshots, pending, failure)
    self.amis[ami_id] = ami
    # NoReboot=false reboots a running instance in AWS; a reboot has no visible
    # state, so the instance is left as is and the choice is recorded.
    _record_image(ami, "create", self.region_name, created, ready, snapshots,
                  noReboot=bool(no_reboot), instanceId=instance_id)
    return ami


def _resolve_kms_key(account_id: str, region: str, key_id: str) -> str:
    from moto.kms import kms_backends

    try:
        return kms_backends[account_id][region].describe_key(key_id).arn
    except Exception:
        if key_id.startswith("arn:"):
            return key_id
        if key_id.startswith("alias/"):
            return f"arn:aws:kms:{region}:{account_id}:{key_id}"
        return f"arn:aws:kms:{region}:{account_id}:key/{key_id}"


_COPY_LOCK = threading.Lock()


def _copy_image(
    self: Any,
    source_image_id: str,
    source_region: str,
    name: str | None = None,
    description: str | None = None,
    encrypted: bool = False,
    kms_key_id: str | None = None,
    copy_image_tags: bool = False,
    tag_specifications: list[dict[str, Any]] | None = None,
    client_token: str | None = None,
    completion_minutes: int | None = None,
) -> Any:
    from moto.ec2.models import ec2_backends

    if kms_key_id and not encrypted:
        raise InvalidParameterDependency("KmsKeyId", "Encrypted")
    fingerprint = json.dumps(
        [source_image_id, source_region, name, description, bool(encrypted), kms_key_id,
         bool(copy_image_tags), tag_specifications, completion_minutes],
        sort_keys=True, default=str,
    )
    token_key = (self.account_id, self.region_name, client_token or "")
    with _COPY_LOCK:
        if client_token:
            prior = STATE.copy_token(token_key)
            if prior is not None:
                if prior[0] != fingerprint:
                    raise EmulatorError(
                        "IdempotentParameterMismatch",
                        "Arguments on this idempotent request are inconsistent with "
                        "arguments used in previous request(s).",
                    )
                return SimpleNamespace(id=prior[1])
        image = _copy_image_locked(
            self, ec2_backends, source_image_id, source_region, name, description,
            bool(encrypted), kms_key_id, bool(copy_image_tags), tag_specifications,
            completion_minutes,
        )
        if client_token:
            STATE.remember_copy_token(token_key, fingerprint, image.id)
        return image


def _copy_image_locked(
    self: Any, ec2_backends: Any, source_image_id: str, source_region: str,
    name: str | None, description: str | None, encrypted: bool, kms_key_id: str | None,
    copy_image_tags: bool, tag_specifications: list[dict[str, Any]] | None,
    completion_minutes: int | None,
) -> Ami:
    source_backend = ec2_backends[self.account_id][source_region]
    found = source_backend.describe_images(ami_ids=[source_image_id])
    if not found:
        raise InvalidAMIIdError(source_image_id)
    source = found[0]
    image_tags, snapshot_tags = _split_tag_specifications(tag_specifications)
    _check_name_free(self, name or source.name)
    key_arn = _resolve_kms_key(self.account_id, self.region_name, kms_key_id) if kms_key_id else None

    ami_id = random_ami_id()
    ami = Ami(self, ami_id, source_ami=source, name=name, description=description,
              region_name=_zone_of(self))
    _discard_auto_snapshot(self, ami)
    ami.root_device_name = source.root_device_name
    ami.root_device_type = source.root_device_type
    ami.boot_mode = source.boot_mode
    ami.source_image_id = source_image_id
    ami.source_image_region = source_region

    mappings: list[dict[str, Any]] = []
    snapshots: list[Snapshot] = []
    for mapping in copy.deepcopy(source.block_device_mappings):
        ebs = mapping.get("Ebs")
        if not ebs or not ebs.get("SnapshotId"):
            mappings.append(mapping)
            continue
        source_snapshot = source_backend.snapshots.get(ebs["SnapshotId"])
        source_encrypted = bool(source_snapshot.encrypted if source_snapshot else ebs.get("Encrypted"))
        is_encrypted = encrypted or source_encrypted
        key = None
        if is_encrypted:
            if key_arn:
                key = key_arn
            elif source_encrypted and source_region == self.region_name and source_snapshot:
                key = source_snapshot.kms_key_id
            else:
                key = self.default_kms_key_id or self._create_default_encryption_key()
        size = ebs.get("VolumeSize") or (source_snapshot.volume_size if source_snapshot else 8)
        snapshot_id = random_snapshot_id()
        snapshot = Snapshot(
            self, snapshot_id,
            volume=SimpleNamespace(id="vol-ffffffff", size=size),
            description=(
                f"Copied for DestinationAmi {ami_id} from SourceAmi {source_image_id} "
                f"for SourceSnapshot {ebs['SnapshotId']}. Task created on {int(time.time() * 1000)}."
            ),
            encrypted=is_encrypted, kms_key_id=key, owner_id=self.account_id, from_ami=ami_id,
        )
        snapshot.transfer_type = "time-based" if completion_minutes else "standard"
        if completion_minutes:
            snapshot.completion_duration_minutes = int(completion_minutes)
        snapshot.add_tags(snapshot_tags)
        self.snapshots[snapshot_id] = snapshot
        snapshots.append(snapshot)
        ebs["SnapshotId"] = snapshot_id
        ebs["Encrypted"] = is_encrypted
        ebs.pop("KmsKeyId", None)
        if key:
            ebs["KmsKeyId"] = key
        mappings.append(mapping)

    ami.__dict__["_ga_bdm"] = mappings
    if copy_image_tags:
        ami.add_tags({t["key"]: t["value"] for t in source.get_tags() if not t["key"].startswith("aws:")})
    ami.add_tags(image_tags)
    pending = STATE.timing("copyPending")
    failure = STATE.take_fail_next("copy")
    created, ready = _schedule_image(ami, snapshots, pending, failure)
    self.amis[ami_id] = ami
    _record_image(ami, "copy", self.region_name, created, ready, snapshots,
                  sourceImageId=source_image_id, sourceRegion=source_region,
                  copyImageTags=bool(copy_image_tags),
                  completionDurationMinutes=int(completion_minutes) if completion_minutes else None)
    return ami


_orig_register_image = AmiBackend.register_image


def _register_image(self: Any, name: str | None = None, description: str | None = None) -> Ami:
    _check_name_free(self, name)
    ami = _orig_register_image(self, name, description)
    pending = STATE.timing("imagePending")
    if pending > 0:
        ami.__dict__["_ga_available_at"] = time.time() + pending
    return ami


# ---------------------------------------------------------------------------
# Responses: new parameters and new actions
# ---------------------------------------------------------------------------

def _response_create_image(self: Any) -> ActionResult:
    name = self._get_param("Name")
    description = self._get_param("Description", "")
    instance_id = self._get_param("InstanceId")
    tag_specifications = self._get_param("TagSpecifications", [])
    no_reboot = bool(self._get_param("NoReboot", False))
    block_device_mappings = self._get_param("BlockDeviceMappings", [])
    self.error_on_dryrun()
    image = self.ec2_backend.create_image(
        instance_id, name, description, tag_specifications=tag_specifications,
        no_reboot=no_reboot, block_device_mappings=block_device_mappings,
    )
    return ActionResult({"ImageId": image.id})


def _response_copy_image(self: Any) -> ActionResult:
    self.error_on_dryrun()
    image = self.ec2_backend.copy_image(
        self._get_param("SourceImageId"),
        self._get_param("SourceRegion"),
        name=self._get_param("Name"),
        description=self._get_param("Description"),
        encrypted=bool(self._get_param("Encrypted", False)),
        kms_key_id=self._get_param("KmsKeyId"),
        copy_image_tags=bool(self._get_param("CopyImageTags", False)),
        tag_specifications=self._get_param("TagSpecifications", []),
        client_token=self._get_param("ClientToken"),
        completion_minutes=self._get_param("SnapshotCopyCompletionDurationMinutes"),
    )
    return ActionResult({"ImageId": image.id})


def _owned_image(response: Any, image_id: str) -> Ami:
    backend = response.ec2_backend
    ami = backend.amis.get(image_id)
    if ami is None:
        backend.describe_images(ami_ids=[image_id])  # raises the AWS-shaped not-found error
        raise InvalidAMIIdError(image_id)
    return ami


def _response_deregister_image(self: Any) -> ActionResult:
    image_id = self._get_param("ImageId")
    delete_snapshots = bool(self._get_param("DeleteAssociatedSnapshots", False))
    self.error_on_dryrun()
    backend = self.ec2_backend
    snapshot_ids: list[str] = []
    ami = backend.amis.get(image_id)
    if ami is not None:
        protection = ami.deregistration_protection
        if protection != "disabled":
            raise EmulatorError(
                "OperationNotPermitted",
                f"Image {image_id} has deregistration protection enabled ({protection}); "
                "disable it with DisableImageDeregistrationProtection first.",
            )
        snapshot_ids = _image_snapshot_ids(ami)
    backend.deregister_image(image_id)
    result: dict[str, Any] = {"Return": True}
    if delete_snapshots:
        outcomes = []
        for snapshot_id in snapshot_ids:
            snapshot = backend.snapshots.get(snapshot_id)
            if snapshot is None:
                outcomes.append({"SnapshotId": snapshot_id, "ReturnCode": "client-error"})
                continue
            if snapshot.owner_id != backend.account_id:
                outcomes.append({"SnapshotId": snapshot_id, "ReturnCode": "missing-permissions"})
                continue
            try:
                backend.delete_snapshot(snapshot_id)
                outcomes.append({"SnapshotId": snapshot_id, "ReturnCode": "success"})
            except (InvalidSnapshotInUse, InvalidSnapshotIdError):
                outcomes.append({"SnapshotId": snapshot_id, "ReturnCode": "skipped"})
        result["DeleteSnapshotResults"] = outcomes
    return ActionResult(result)


def _response_enable_image_deprecation(self: Any) -> ActionResult:
    image_id = self._get_param("ImageId")
    deprecate_at = self._get_param("DeprecateAt")
    self.error_on_dryrun()
    ami = _owned_image(self, image_id)
    if isinstance(deprecate_at, str):
        deprecate_at = datetime.fromisoformat(deprecate_at.replace("Z", "+00:00"))
    if not isinstance(deprecate_at, datetime):
        raise EmulatorError("MissingParameter", "The request must contain the parameter DeprecateAt")
    if deprecate_at.tzinfo is None:
        deprecate_at = deprecate_at.replace(tzinfo=timezone.utc)
    if deprecate_at.timestamp() < time.time():
        raise EmulatorError("InvalidParameterValue", "The deprecation time can't be in the past.")
    # EC2 rounds the seconds to the nearest minute.
    rounded = (deprecate_at + timedelta(seconds=30)).replace(second=0, microsecond=0)
    ami.__dict__["_ga_deprecation_time"] = rounded.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return ActionResult({"Return": True})


def _response_disable_image_deprecation(self: Any) -> ActionResult:
    image_id = self._get_param("ImageId")
    self.error_on_dryrun()
    ami = _owned_image(self, image_id)
    ami.__dict__["_ga_deprecation_time"] = None
    return ActionResult({"Return": True})


def _response_enable_image_deregistration_protection(self: Any) -> ActionResult:
    image_id = self._get_param("ImageId")
    with_cooldown = bool(self._get_param("WithCooldown", False))
    self.error_on_dryrun()
    ami = _owned_image(self, image_id)
    ami.__dict__["_ga_protection"] = "enabled-with-cooldown" if with_cooldown else "enabled-without-cooldown"
    ami.__dict__["_ga_protected_until"] = None
    return ActionResult({"Return": ami.deregistration_protection})


def _response_disable_image_deregistration_protection(self: Any) -> ActionResult:
    image_id = self._get_param("ImageId")
    self.error_on_dryrun()
    ami = _owned_image(self, image_id)
    if ami.__dict__.get("_ga_protection") == "enabled-with-cooldown":
        ami.__dict__["_ga_protected_until"] = time.time() + 24 * 3600
    ami.__dict__["_ga_protection"] = None
    return ActionResult({"Return": ami.deregistration_protection})


def _response_describe_snapshots(self: Any) -> ActionResult:
    """moto ignores OwnerIds; EC2 returns only snapshots of those owners ("self" = caller)."""
    filters = self._filters_from_querystring()
    snapshot_ids = self._get_param("SnapshotIds", [])
    owners = self._get_param("OwnerIds", [])
    snapshots = self.ec2_backend.describe_snapshots(snapshot_ids=snapshot_ids, filters=filters)
    if owners:
        wanted = {self.current_account if owner == "self" else owner for owner in owners}
        snapshots = [snapshot for snapshot in snapshots if snapshot.owner_id in wanted]
    return ActionResult({"Snapshots": snapshots})


def _response_modify_snapshot_attribute(self: Any) -> ActionResult:
    """moto reads only OperationType + UserIds; EC2 also takes CreateVolumePermission.Add/Remove
    lists of {UserId} / {Group} (the form the SDK's structured input sends)."""
    snapshot_id = self._get_param("SnapshotId")
    self.error_on_dryrun()
    changes: dict[str, tuple[list[str], list[str]]] = {"add": ([], []), "remove": ([], [])}
    legacy = self._get_param("OperationType")
    if legacy in changes:
        changes[legacy][0].extend(self._get_param("UserIds", []))
        changes[legacy][1].extend(self._get_param("GroupNames", []))
    structured = self._get_param("CreateVolumePermission", {}) or {}
    for operation, key in (("add", "Add"), ("remove", "Remove")):
        for entry in structured.get(key, []) or []:
            if entry.get("UserId"):
                changes[operation][0].append(entry["UserId"])
            if entry.get("Group"):
                changes[operation][1].append(entry["Group"])
    for operation, (user_ids, groups) in changes.items():
        if not user_ids and not groups:
            continue
        if operation == "add":
            self.ec2_backend.add_create_volume_permission(snapshot_id, user_ids=user_ids, groups=groups)
        else:
            self.ec2_backend.remove_create_volume_permission(snapshot_id, user_ids=user_ids, groups=groups)
    return ActionResult({})


@functools.cache
def apply() -> None:
    """Install every patch once. Idempotent."""
    Instance._state = property(_instance_state_get, _instance_state_set)  # type: ignore[assignment]
    Instance.__init__ = _instance_init  # type: ignore[method-assign]
    Instance.start = _instance_start  # type: ignore[method-assign]
    Instance.stop = _instance_stop  # type: ignore[method-assign]
    Instance.terminate = _instance_terminate  # type: ignore[method-assign]
    Instance.setup_defaults = _instance_setup_defaults  # type: ignore[method-assign]
    Instance.instance_status = property(lambda self: _status_check(self, "instance"))  # type: ignore[assignment]
    Instance.system_status = property(lambda self: _status_check(self, "system"))  # type: ignore[assignment]
    InstanceBackend.start_instances = _backend_start_instances  # type: ignore[method-assign]
    InstanceBackend.stop_instances = _backend_stop_instances  # type: ignore[method-assign]
    InstanceResponse.stop_instances = _response_stop_instances  # type: ignore[method-assign]
    InstanceResponse.start_instances = _response_start_instances  # type: ignore[method-assign]

    ElasticBlockStore.describe_snapshots = _response_describe_snapshots  # type: ignore[method-assign]
    ElasticBlockStore.modify_snapshot_attribute = _response_modify_snapshot_attribute  # type: ignore[method-assign]
    Snapshot.status = property(_snapshot_status_get, _snapshot_status_set)  # type: ignore[assignment]
    Snapshot.progress = property(_snapshot_progress)  # type: ignore[assignment]
    TimestampSerializer._timestamp_iso8601_zeroed = _timestamp_iso8601_zeroed  # type: ignore[method-assign]
    Snapshot.transfer_type = None  # type: ignore[attr-defined]
    Snapshot.completion_duration_minutes = None  # type: ignore[attr-defined]

    Ami.state = property(_ami_state_get, _ami_state_set)  # type: ignore[assignment]
    Ami.state_reason = property(_ami_state_reason)  # type: ignore[attr-defined]
    Ami.deprecation_time = property(_ami_deprecation_time)  # type: ignore[attr-defined]
    Ami.deregistration_protection = property(_ami_deregistration_protection)  # type: ignore[attr-defined]
    Ami.block_device_mappings = property(_ami_block_device_mappings)  # type: ignore[assignment]
    Ami.get_filter_value = _ami_filter_value  # type: ignore[method-assign]
    Ami.source_image_id = None  # type: ignore[attr-defined]
    Ami.source_image_region = None  # type: ignore[attr-defined]

    AmiBackend.create_image = _create_image  # type: ignore[method-assign]
    AmiBackend.copy_image = _copy_image  # type: ignore[method-assign]
    AmiBackend.register_image = _register_image  # type: ignore[method-assign]

    AmisResponse.create_image = _response_create_image  # type: ignore[method-assign]
    AmisResponse.copy_image = _response_copy_image  # type: ignore[method-assign]
    AmisResponse.deregister_image = _response_deregister_image  # type: ignore[method-assign]
    AmisResponse.enable_image_deprecation = _response_enable_image_deprecation  # type: ignore[attr-defined]
    AmisResponse.disable_image_deprecation = _response_disable_image_deprecation  # type: ignore[attr-defined]
    AmisResponse.enable_image_deregistration_protection = _response_enable_image_deregistration_protection  # type: ignore[attr-defined]
    AmisResponse.disable_image_deregistration_protection = _response_disable_image_deregistration_protection  # type: ignore[attr-defined]

    __import__("ext_instances").apply()  # builders: ClientToken, user data that runs, status failures, shutting-down
    __import__("ext_copy_limits").apply()  # copy limits: wraps the copy_image replaced above
    ext_references.apply()
    ext_ssm_image.apply()
    __import__("ext_launch_mappings").apply()  # RunInstances mappings merged with the AMI's
    __import__("ext_accounts").apply()  # images shared with another account: described to it, copied by it
    __import__("ext_call_pacing").apply()  # latency per action; the call log's target
    __import__("ext_kms_managed").apply()  # the default EBS key aws/ebs is AWS managed (DescribeKey KeyManager AWS)
