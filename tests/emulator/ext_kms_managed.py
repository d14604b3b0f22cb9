"""Emulator extension: the account's default EBS key is an AWS managed key, as in AWS.

moto 5.2.1 creates `alias/aws/ebs` on the first encrypted volume, snapshot or copy without a
KMS key, but as an ordinary key: DescribeKey answers KeyManager CUSTOMER. In AWS that key is
AWS managed (KeyManager AWS), which is how a caller tells it from a customer managed key, and
why it cannot be shared with another account. golden-ami refuses to share a source encrypted
with it (ec2/copy-share.ts), so the emulator must tell the two apart.

The model part is `mark_aws_managed` (the key behind an alias becomes AWS managed); the wire
part is unchanged (moto's DescribeKey reports `key_manager`).
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.elastic_block_store import EBSBackend

_orig_create_default_key = EBSBackend._create_default_encryption_key


def mark_aws_managed(account_id: str, region: str, alias: str) -> None:
    """Make the key `alias` names in that account and region an AWS managed key."""
    from moto.kms import kms_backends

    kms_backends[account_id][region].describe_key(alias).key_manager = "AWS"


def _create_default_encryption_key(self: Any) -> str:
    arn = _orig_create_default_key(self)
    mark_aws_managed(self.account_id, self.region_name, "alias/aws/ebs")
    return arn


def apply() -> None:
    EBSBackend._create_default_encryption_key = _create_default_encryption_key  # type: ignore[method-assign]
