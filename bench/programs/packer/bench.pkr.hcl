# Packer's side of the bench's comparison (bench/experiments/packer.ts): the amazon-ebs builder
# as a user would write it for the same job as bench/programs/golden — launch a builder from
# `source_ami`, no provisioning (communicator "none"), stop it, image it and copy the image
# into `ami_regions` — pointed at the emulator (custom_endpoint_ec2, the bench's recording
# proxy). The skip_* settings are Packer's own options for endpoints that are not AWS: no STS
# call to check the credentials, no DescribeRegions to check the region names, no instance
# metadata lookup. The poll delay comes from AWS_POLL_DELAY_SECONDS (Packer's waiters default to
# 15 s), set by the bench to 15 s ÷ F.
packer {
  # The plugin is the one scripts/packer.sh built and installed into PACKER_PLUGIN_PATH.
}

variable "endpoint" { type = string }
variable "region" { type = string }
variable "source_ami" { type = string }
variable "ami_name" { type = string }
variable "ami_regions" { type = list(string) }

source "amazon-ebs" "bench" {
  region                     = var.region
  custom_endpoint_ec2        = var.endpoint
  skip_credential_validation = true
  skip_region_validation     = true
  skip_metadata_api_check    = true
  source_ami                 = var.source_ami
  instance_type              = "t3.micro"
  communicator               = "none"
  ami_name                   = var.ami_name
  ami_regions                = var.ami_regions
}

build {
  sources = ["source.amazon-ebs.bench"]
}
