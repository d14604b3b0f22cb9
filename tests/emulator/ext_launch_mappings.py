"""Emulator extension: RunInstances block device mappings merged with the AMI's, as EC2 does.

EC2 launches an instance with every volume of its AMI's block device mappings; mappings in
the request (or in the launch template) override the AMI's of the same device name, field by
field (a root mapping that gives only VolumeSize keeps the AMI's snapshot), add new devices,
and `NoDevice` drops one of the AMI's. Plain moto 5.2.1 uses the request's mappings *instead
of* the AMI's: an instance launched from a two-volume golden image with a bigger root volume
comes up with the root volume only, so a consumer test of such an image proves nothing.

The model part is `effective_mappings` (pure: the AMI's mappings and the requested ones in,
the launch's mappings out); the wire part replaces moto's parsing of the request's mappings
with the effective ones, so moto's own volume creation makes them.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.ec2.responses.instances import InstanceResponse

EBS_FIELDS = ("SnapshotId", "VolumeSize", "DeleteOnTermination", "VolumeType", "Iops", "Encrypted", "KmsKeyId")


def effective_mappings(ami_mappings: list[dict[str, Any]], requested: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The AMI's mappings with the requested ones laid over them by device name."""
    merged: dict[str, dict[str, Any]] = {}
    for mapping in ami_mappings:
        if mapping.get("Ebs"):
            merged[mapping["DeviceName"]] = {"DeviceName": mapping["DeviceName"], "Ebs": dict(mapping["Ebs"])}
    for mapping in requested:
        device = mapping.get("DeviceName")
        if mapping.get("NoDevice") is not None:
            merged.pop(device, None)
            continue
        given = {k: v for k, v in (mapping.get("Ebs") or {}).items() if k in EBS_FIELDS and v is not None}
        base = merged.get(device, {"DeviceName": device, "Ebs": {}})
        merged[device] = {"DeviceName": device, "Ebs": {**base["Ebs"], **given}}
    return list(merged.values())


def _as_moto_mapping(mapping: dict[str, Any], backend: Any) -> dict[str, Any]:
    """One mapping in the shape moto's run_instances reads (its own parser's template)."""
    ebs = mapping["Ebs"]
    snapshot_id = ebs.get("SnapshotId") if ebs.get("SnapshotId") in backend.snapshots else None
    size = ebs.get("VolumeSize") or (backend.snapshots[snapshot_id].volume.size if snapshot_id else 8)
    return {
        "DeviceName": mapping["DeviceName"],
        "VirtualName": None,
        "NoDevice": None,
        "Ebs": {
            "SnapshotId": snapshot_id,
            "VolumeSize": size,
            "DeleteOnTermination": bool(ebs.get("DeleteOnTermination", True)),
            "VolumeType": ebs.get("VolumeType"),
            "Iops": ebs.get("Iops"),
            "Encrypted": bool(ebs.get("Encrypted", False)),
            "KmsKeyId": ebs.get("KmsKeyId"),
        },
    }


_orig_parse = InstanceResponse._parse_block_device_mapping


def _parse_block_device_mapping(self: Any) -> list[dict[str, Any]]:
    requested = copy.deepcopy(self._get_param("BlockDeviceMappings", []))
    image_id = self._get_param("ImageId")
    template_arg = self._get_param("LaunchTemplate")
    if template_arg and (not requested or not image_id):
        version = self.ec2_backend._get_template_from_args(template_arg)
        requested = requested or copy.deepcopy(version.data.get("BlockDeviceMappings") or [])
        image_id = image_id or version.image_id
    if not requested:
        # No mappings asked for: the AMI's own (emulator_patches' setup_defaults) make the volumes.
        return []
    _orig_parse(self)  # moto's validation of the request's mappings (missing size or snapshot, NoDevice values)
    ami = self.ec2_backend.amis.get(image_id)
    effective = effective_mappings(ami.block_device_mappings if ami else [], requested)
    return [_as_moto_mapping(m, self.ec2_backend) for m in effective]


def apply() -> None:
    InstanceResponse._parse_block_device_mapping = _parse_block_device_mapping  # type: ignore[method-assign]
