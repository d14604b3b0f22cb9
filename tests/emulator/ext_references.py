"""Emulator extension: who still uses an image, and launches that fail as EC2's do.

golden-ami keeps retired generations of an image while anything still launches from them,
and removes them once nothing does. Plain moto 5.2.1 cannot tell: it has no
DescribeImageReferences, no DisableImage/EnableImage, no LastLaunchedTime (its
DescribeImageAttribute lastLaunchedTime reads an attribute Ami does not have), and
RunInstances launches from a deregistered AMI without complaint, so a test that "the
consumer still launches" would prove nothing. This module adds:

- DescribeImageReferences: the account's instances (ResourceTypeOption state-name, default
  every state), launch templates (version-depth, default the 10 newest versions) and SSM
  parameters (current value) of the caller's region that name the image, as ARNs;
- DisableImage / EnableImage and the `disabled` state (launch permissions removed; hidden
  from DescribeImages unless IncludeDisabled);
- LastLaunchedTime: set by every RunInstances from the image, read by DescribeImages and
  DescribeImageAttribute lastLaunchedTime;
- RunInstances from an AMI that was deregistered (InvalidAMIID.NotFound, EC2's code and
  wording) or disabled (InvalidAMIID.Unavailable), directly or through a launch template.

State lives on moto's objects (the model part below); the response part reads the wire.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime, timezone
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError, InvalidAMIIdError
from moto.ec2.models.amis import Ami, AmiBackend
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.responses.amis import AmisResponse

RESOURCE_TYPES = ("ec2:Instance", "ec2:LaunchTemplate", "ssm:Parameter", "imagebuilder:ImageRecipe", "imagebuilder:ContainerRecipe")
INSTANCE_STATES = ("pending", "running", "shutting-down", "terminated", "stopping", "stopped")
DEFAULT_VERSION_DEPTH = 10
MAX_IMAGE_IDS = 10


class ReferenceError_(EC2ClientError):
    def __init__(self, code: str, message: str):
        super().__init__(code, message)


# ---------------------------------------------------------------------------
# Model: references, disabled images, last launch
# ---------------------------------------------------------------------------

def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _last_launched(ami: Ami) -> str | None:
    at = ami.__dict__.get("_ga_last_launched")
    return _utc(at).strftime("%Y-%m-%dT%H:%M:%SZ") if at is not None else None


def _is_disabled(ami: Ami) -> bool:
    return ami.state == "disabled"


def instance_references(backend: Any, image_id: str, states: set[str]) -> list[str]:
    region, account = backend.region_name, backend.account_id
    return [
        f"arn:aws:ec2:{region}:{account}:instance/{instance.id}"
        for instance in backend.all_instances()
        if instance.image_id == image_id and instance.state in states
    ]


def launch_template_references(backend: Any, image_id: str, depth: int) -> list[str]:
    region, account = backend.region_name, backend.account_id
    found = []
    for template in backend.launch_templates.values():
        newest = sorted(template.versions, key=lambda v: v.number, reverse=True)[:depth]
        if any(version.image_id == image_id for version in newest):
            found.append(f"arn:aws:ec2:{region}:{account}:launch-template/{template.id}")
    return found


def parameter_references(account_id: str, region: str, image_id: str) -> list[str]:
    from moto.ssm.models import ssm_backends

    parameters = ssm_backends[account_id][region]._parameters
    found = []
    for name, versions in list(parameters.items()):
        if versions and versions[-1].value == image_id:
            found.append(f"arn:aws:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}")
    return found


def _launch_image_id(backend: Any, image_id: str | None, kwargs: dict[str, Any]) -> str | None:
    """The AMI a RunInstances launches from: its ImageId, else its launch template's."""
    if image_id:
        return image_id
    template = kwargs.get("launch_template")
    if template:
        return backend._get_template_from_args(template).image_id or None
    return None


_orig_run_instances = InstanceBackend.run_instances
_orig_describe_images = AmiBackend.describe_images


def _run_instances(self: Any, image_id: str, count: int, user_data: Any, security_group_names: list[str], **kwargs: Any) -> Any:
    launch_id = _launch_image_id(self, image_id, kwargs)
    ami = self.amis.get(launch_id) if launch_id else None
    if launch_id and ami is None and launch_id in self.deleted_amis:
        raise InvalidAMIIdError(launch_id)  # what EC2 answers for a deregistered AMI
    if ami is not None and _is_disabled(ami):
        raise ReferenceError_("InvalidAMIID.Unavailable", f"The image id '[{launch_id}]' is disabled and cannot be launched")
    reservation = _orig_run_instances(self, image_id, count, user_data, security_group_names, **kwargs)
    if ami is not None:
        ami.__dict__["_ga_last_launched"] = time.time()
    return reservation


def _describe_images(self: Any, ami_ids: list[str] | None = None, filters: Any = None, exec_users: Any = None,
                     owners: Any = None, include_disabled: bool = False) -> list[Ami]:
    images = _orig_describe_images(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners)
    return images if include_disabled else [ami for ami in images if not _is_disabled(ami)]


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------

def _option_values(request: dict[str, Any], name: str) -> list[str] | None:
    for option in request.get("ResourceTypeOptions") or []:
        if option.get("OptionName") == name:
            return list(option.get("OptionValues") or [])
    return None


def _response_describe_image_references(self: Any) -> ActionResult:
    image_ids = self._get_param("ImageIds", []) or []
    include_all = bool(self._get_param("IncludeAllResourceTypes", False))
    requested = self._get_param("ResourceTypes", []) or []
    self.error_on_dryrun()
    if not image_ids or len(image_ids) > MAX_IMAGE_IDS:
        raise ReferenceError_("InvalidParameterValue", f"ImageId must list 1 to {MAX_IMAGE_IDS} image IDs, not {len(image_ids)}")
    if not include_all and not requested:
        raise ReferenceError_("InvalidParameterCombination", "Either IncludeAllResourceTypes or ResourceTypes must be specified")
    backend = self.ec2_backend
    for image_id in image_ids:
        if image_id not in backend.amis and image_id not in backend.deleted_amis:
            raise InvalidAMIIdError(image_id)

    options: dict[str, dict[str, Any]] = {t: {} for t in RESOURCE_TYPES} if include_all else {}
    for entry in requested:
        kind = entry.get("ResourceType")
        if kind not in RESOURCE_TYPES:
            raise ReferenceError_("InvalidParameterValue", f"Invalid resource type: {kind}")
        options[kind] = entry

    states = set(INSTANCE_STATES)
    if "ec2:Instance" in options:
        wanted = _option_values(options["ec2:Instance"], "state-name")
        if wanted is not None:
            bad = [s for s in wanted if s not in INSTANCE_STATES]
            if bad:
                raise ReferenceError_("InvalidParameterValue", f"Invalid state-name: {', '.join(bad)}")
            states = set(wanted)
    depth = DEFAULT_VERSION_DEPTH
    if "ec2:LaunchTemplate" in options:
        wanted = _option_values(options["ec2:LaunchTemplate"], "version-depth")
        if wanted:
            try:
                depth = int(wanted[0])
            except ValueError:
                depth = 0
            if not 1 <= depth <= 10000:
                raise ReferenceError_("InvalidParameterValue", f"version-depth must be an integer from 1 to 10000, not {wanted[0]}")

    references = []
    for image_id in image_ids:
        if "ec2:Instance" in options:
            references += [{"ImageId": image_id, "ResourceType": "ec2:Instance", "Arn": arn}
                           for arn in instance_references(backend, image_id, states)]
        if "ec2:LaunchTemplate" in options:
            references += [{"ImageId": image_id, "ResourceType": "ec2:LaunchTemplate", "Arn": arn}
                           for arn in launch_template_references(backend, image_id, depth)]
        if "ssm:Parameter" in options:
            references += [{"ImageId": image_id, "ResourceType": "ssm:Parameter", "Arn": arn}
                           for arn in parameter_references(backend.account_id, backend.region_name, image_id)]
    return ActionResult({"ImageReferences": references})


def _owned(self: Any, image_id: str) -> Ami:
    ami = self.ec2_backend.amis.get(image_id)
    if ami is None:
        raise InvalidAMIIdError(image_id)
    return ami


def _response_disable_image(self: Any) -> ActionResult:
    image_id = self._get_param("ImageId")
    self.error_on_dryrun()
    ami = _owned(self, image_id)
    if ami.state not in ("available", "disabled"):
        raise ReferenceError_("IncorrectState", f"Image {image_id} is {ami.state}; only an available image can be disabled")
    ami.launch_permissions = []  # a disabled AMI is private: every launch permission is removed
    ami.state = "disabled"
    return ActionResult({"Return": True})


def _response_enable_image(self: Any) -> ActionResult:
    image_id = self._get_param("ImageId")
    self.error_on_dryrun()
    ami = _owned(self, image_id)
    if ami.state == "disabled":
        ami.state = "available"
    return ActionResult({"Return": True})


def _response_describe_images(self: Any) -> ActionResult:
    self.error_on_dryrun()
    images = self.ec2_backend.describe_images(
        ami_ids=self._get_param("ImageIds", []),
        filters=self._filters_from_querystring(),
        exec_users=self._get_param("ExecutableUsers", []),
        owners=self._get_param("Owners", []),
        include_disabled=bool(self._get_param("IncludeDisabled", False)),
    )
    return ActionResult({"Images": images})


_orig_describe_image_attribute = AmisResponse.describe_image_attribute


def _response_describe_image_attribute(self: Any) -> ActionResult:
    if self._get_param("Attribute") != "lastLaunchedTime":
        return _orig_describe_image_attribute(self)
    image_id = self._get_param("ImageId")
    self.error_on_dryrun()
    ami = _owned(self, image_id)
    value = _last_launched(ami)
    return ActionResult({"ImageId": image_id, "LastLaunchedTime": {"Value": value} if value else {}})


@functools.cache
def apply() -> None:
    """Install this extension once. Idempotent."""
    Ami.last_launched_time = property(_last_launched)  # type: ignore[attr-defined]
    InstanceBackend.run_instances = _run_instances  # type: ignore[method-assign]
    AmiBackend.describe_images = _describe_images  # type: ignore[method-assign]
    AmisResponse.describe_images = _response_describe_images  # type: ignore[method-assign]
    AmisResponse.describe_image_attribute = _response_describe_image_attribute  # type: ignore[method-assign]
    AmisResponse.describe_image_references = _response_describe_image_references  # type: ignore[attr-defined]
    AmisResponse.disable_image = _response_disable_image  # type: ignore[attr-defined]
    AmisResponse.enable_image = _response_enable_image  # type: ignore[attr-defined]
