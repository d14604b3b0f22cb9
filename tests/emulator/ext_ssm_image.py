"""Emulator extension: SSM parameters of data type aws:ec2:image validated as SSM does.

moto 5.2.1 accepts any value for DataType aws:ec2:image. SSM validates such a value after
PutParameter has answered (HTTP 200 with a version in every case): it must be an AMI ID
(ami- and 8 or 17 hex digits) of an image available to the account in the parameter's
region, otherwise the parameter is not created or updated. golden-ami publishes AMI IDs this
way and must notice a value SSM dropped, so the emulator drops it too: PutParameter answers
as before, and the version it made is taken back (GetParameter shows the previous value, or
ParameterNotFound). The check runs at once, where SSM's takes a moment.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from moto.ec2 import ec2_backends
from moto.ssm.models import SimpleSystemManagerBackend

AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")

_orig_put_parameter = SimpleSystemManagerBackend.put_parameter


def valid_image_value(account_id: str, region: str, value: str) -> bool:
    """An AMI ID whose image is available in the region (owned by the account, or public)."""
    if not AMI_ID.match(value or ""):
        return False
    ami = ec2_backends[account_id][region].amis.get(value)
    return ami is not None and ami.state == "available"


def _put_parameter(self: Any, name: str, description: str, value: str, parameter_type: str, allowed_pattern: str,
                   keyid: str, overwrite: bool, tags: list[dict[str, str]], data_type: str, tier: str | None,
                   policies: str | None) -> Any:
    result = _orig_put_parameter(self, name, description, value, parameter_type, allowed_pattern, keyid,
                                 overwrite, tags, data_type, tier, policies)
    if data_type == "aws:ec2:image" and not valid_image_value(self.account_id, self.region_name, value):
        versions = self._parameters[name]
        if versions:
            versions.pop()  # the asynchronous validation failed: the version is not kept
        if not versions:
            del self._parameters[name]
    return result


@functools.cache
def apply() -> None:
    """Install this extension once. Idempotent."""
    SimpleSystemManagerBackend.put_parameter = _put_parameter  # type: ignore[method-assign]
