// The repository's own program (index.ts at the root), run end to end by
// tests/e2e/golden-image.test.ts: `golden-ami:mode` build or regional, exactly as a user's
// stack runs it. One extra mode, `lookup`, exercises the consumer helper on its own:
// `goldenImageFromStack(golden-ami:sourceStack, golden-ami:lookupRegion)` and nothing else.
//
// Why not the program's `consumer` mode: it launches aws.ec2.LaunchTemplate/Instance, which
// need the @pulumi/aws resource plugin, and that plugin can neither be downloaded nor built
// here. The builder is golden-ami's own (a dynamic resource) and runs for real
// (tests/e2e/builder.test.ts); a user's own aws.ec2.Instance as existingInstanceId is covered
// with Pulumi mocks in tests/unit/golden-image.test.ts.
import * as pulumi from "@pulumi/pulumi";
import { goldenImageFromStack } from "../../../../components/consumer";

const config = new pulumi.Config("golden-ami");

function lookup(): Record<string, pulumi.Output<unknown>> {
    const golden = goldenImageFromStack(config.require("sourceStack"), config.get("lookupRegion"));
    return { imageId: golden.imageId, imageName: golden.imageName, region: golden.region };
}

export = config.get("mode") === "lookup" ? lookup() : require("../../../../index");
