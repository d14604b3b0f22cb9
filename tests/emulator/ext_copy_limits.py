"""Copy limits: EC2's quota of concurrent snapshot copies per destination Region.

EC2 lets an account run only so many snapshot copies into one Region at a time (the EBS
quota "Concurrent snapshot copies per destination Region": 20 by default, not adjustable);
a CopyImage whose snapshots would go beyond it is refused with ``ResourceLimitExceeded``
("Too many snapshot copies in progress. The limit is N for this destination region.").
Each snapshot of the copied image is one copy, so an image of 3 volumes takes 3.

Plain moto has no such limit, so a fleet of copies never meets the answer a real fleet
gets. This extension adds it, off unless configured: ``copyLimit`` (an integer >= 1, or
null for none) in the control API's configuration, or ``GA_EMULATOR_COPY_LIMIT`` at
start-up (also what a reset returns to). In flight = copied snapshots of that account and
destination Region still ``pending``. A CopyImage repeated with a known ClientToken is
answered as before (it starts nothing new).

State (the limit) lives here, apart from the wire: the control API's configure/config and
the reset are wrapped so the key is accepted, reported and reset; moto's copy_image is
wrapped to refuse beyond the limit.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.amis import AmiBackend

from emulator_state import STATE, ConfigError, add_setting

COPY_LIMIT_KEY = "copyLimit"


class _CopyLimits:
    def __init__(self) -> None:
        self.lock = threading.Lock()  # held across check + copy, so two calls cannot both pass
        raw = os.environ.get("GA_EMULATOR_COPY_LIMIT")
        try:
            self.baseline = parse_copy_limit(int(raw)) if raw else None
        except (ValueError, ConfigError) as error:
            raise SystemExit(f"golden-ami-emulator: bad GA_EMULATOR_COPY_LIMIT: {error}")
        self.limit: int | None = self.baseline

    def reset(self) -> None:
        self.limit = self.baseline


def parse_copy_limit(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError("copyLimit must be an integer >= 1 (snapshot copies in flight per destination region), or null")
    return value


LIMITS = _CopyLimits()


def _in_flight(backend: Any) -> int:
    """Copied snapshots of this account and Region that are still being copied."""
    return sum(
        1 for snapshot in list(backend.snapshots.values())
        if getattr(snapshot.volume, "id", None) == "vol-ffffffff"
        and str(snapshot.description or "").startswith("Copied for DestinationAmi")
        and snapshot.status == "pending"
    )


def _snapshots_of(source_backend: Any, image_id: str) -> int:
    found = source_backend.describe_images(ami_ids=[image_id])
    if not found:
        return 0  # copy_image raises the AWS-shaped not-found error
    return sum(1 for m in found[0].block_device_mappings if (m.get("Ebs") or {}).get("SnapshotId"))


def _wrap_copy_image(original: Any) -> Any:
    def copy_image(self: Any, source_image_id: str, source_region: str, *args: Any, **kwargs: Any) -> Any:
        from moto.ec2.models import ec2_backends

        limit = LIMITS.limit
        token = kwargs.get("client_token")
        if limit is None or (token and STATE.copy_token((self.account_id, self.region_name, token)) is not None):
            return original(self, source_image_id, source_region, *args, **kwargs)
        with LIMITS.lock:
            wanted = _snapshots_of(ec2_backends[self.account_id][source_region], source_image_id)
            if wanted and _in_flight(self) + wanted > limit:
                raise EC2ClientError(
                    "ResourceLimitExceeded",
                    f"Too many snapshot copies in progress. The limit is {limit} for this destination region.",
                )
            return original(self, source_image_id, source_region, *args, **kwargs)

    return copy_image


def _store_limit(limit: int | None) -> None:
    LIMITS.limit = limit


@functools.cache
def apply() -> None:
    """Install the copy limit once (after emulator_patches has replaced copy_image). Idempotent."""
    AmiBackend.copy_image = _wrap_copy_image(AmiBackend.copy_image)  # type: ignore[method-assign]
    add_setting(COPY_LIMIT_KEY, parse_copy_limit, _store_limit, lambda: {COPY_LIMIT_KEY: LIMITS.limit}, LIMITS.reset)
