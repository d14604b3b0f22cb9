// Benchmark program (bench/experiments/packer.ts): golden-ami's side of the comparison with
// Packer's amazon-ebs builder (bench/programs/packer/bench.pkr.hcl), the same job — a builder
// launched from config `baseImageId` in `aws:region`, no provisioning (readiness "none": stopped
// and imaged once running), imaged, terminated, the image copied into every region of the JSON
// config `copyRegions`. The root volume is left unencrypted, as Packer leaves it by default.
import * as pulumi from "@pulumi/pulumi";
import { GoldenImage } from "../../../components/golden-image";

const config = new pulumi.Config();
const golden = new GoldenImage("golden", {
    builder: { baseImageId: config.require("baseImageId"), rootVolume: { encrypted: false } },
    readiness: "none",
    namePrefix: config.require("namePrefix"),
    copyToRegions: config.requireObject<string[]>("copyRegions"),
});

export const regionImageIds = golden.regionImageIds;
