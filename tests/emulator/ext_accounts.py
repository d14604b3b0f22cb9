"""Emulator extension: images shared across accounts, as EC2 shares them.

moto 5.2.1 keeps one EC2 backend per account and region (STS AssumeRole credentials act in
the role's account), but an image stays inside its owner's backend: a launch permission
granted to another account changes nothing that account can see. In EC2 an image shared with
an account (ModifyImageAttribute launchPermission Add UserId) is described to it
(DescribeImages by ID, by its owner's ID in Owners, with ExecutableUsers self), and it can copy
it with CopyImage when the owner has also granted create-volume permission on the image's
snapshots ("You do not have permission to access the storage of this ami" otherwise). The copy
belongs to the copying account. A consumer in the other account therefore resolves its own copy.

The model part is `shared_with` (pure look-up over the backends: which images of other
accounts in a region the account may use) and `storage_refusal`; the wire part extends moto's
DescribeImages and the source look-up of the emulator's CopyImage (emulator_patches).
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import EC2ClientError, InvalidAMIIdError
from moto.ec2.models.amis import AmiBackend

import emulator_patches


def _backends(region: str) -> list[tuple[str, Any]]:
    from moto.ec2.models import ec2_backends

    found = []
    for account_id in list(ec2_backends.keys()):
        regions = ec2_backends[account_id]
        if region in regions.keys():
            found.append((account_id, regions[region]))
    return found


def shared_with(account_id: str, region: str) -> list[tuple[Any, Any]]:
    """(image, its owner's backend) for every image of another account in `region` that grants `account_id` a launch permission."""
    result = []
    for owner, backend in _backends(region):
        if owner == account_id:
            continue
        for ami in list(backend.amis.values()):
            if any(lp.get("UserId") == account_id for lp in ami.launch_permissions):
                result.append((ami, backend))
    return result


def storage_refusal(ami: Any, owner_backend: Any, account_id: str) -> str | None:
    """Why `account_id` may not copy `ami` (a snapshot without create-volume permission for it), or None."""
    for mapping in ami.block_device_mappings:
        snapshot_id = (mapping.get("Ebs") or {}).get("SnapshotId")
        if not snapshot_id:
            continue
        snapshot = owner_backend.snapshots.get(snapshot_id)
        if snapshot is None or account_id not in snapshot.create_volume_permission_userids:
            return "You do not have permission to access the storage of this ami"
    return None


_orig_describe_images = AmiBackend.describe_images


def _describe_images(self: Any, ami_ids: list[str] | None = None, filters: Any = None, exec_users: Any = None,
                     owners: Any = None, **kwargs: Any) -> list[Any]:
    shared = [ami for ami, _ in shared_with(self.account_id, self.region_name)]
    try:
        own = _orig_describe_images(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners, **kwargs)
    except InvalidAMIIdError:
        if not ami_ids or not any(ami.id in ami_ids for ami in shared):
            raise
        own = []
    seen = {ami.id for ami in own}
    if ami_ids:
        extra = [ami for ami in shared if ami.id in ami_ids]
    else:
        wanted_owners = {self.account_id if o == "self" else o for o in (owners or [])}
        extra = [ami for ami in shared if not wanted_owners or ami.owner_id in wanted_owners]
        if filters:
            from moto.ec2.utils import generic_filter

            extra = generic_filter(filters, extra)
    return own + [ami for ami in extra if ami.id not in seen]


_orig_copy_locked = emulator_patches._copy_image_locked


def _copy_image_locked(self: Any, ec2_backends: Any, source_image_id: str, source_region: str, *rest: Any) -> Any:
    own = ec2_backends[self.account_id][source_region]
    if source_image_id in own.amis:
        return _orig_copy_locked(self, ec2_backends, source_image_id, source_region, *rest)
    for ami, owner_backend in shared_with(self.account_id, source_region):
        if ami.id != source_image_id:
            continue
        refusal = storage_refusal(ami, owner_backend, self.account_id)
        if refusal:
            raise EC2ClientError("AuthFailure", refusal)
        # The emulator's copy reads its source from the backend it is handed: the owner's.
        return _orig_copy_locked(self, {self.account_id: {source_region: owner_backend}}, source_image_id, source_region, *rest)
    return _orig_copy_locked(self, ec2_backends, source_image_id, source_region, *rest)


def apply() -> None:
    AmiBackend.describe_images = _describe_images  # type: ignore[method-assign]
    emulator_patches._copy_image_locked = _copy_image_locked  # type: ignore[attr-defined]
