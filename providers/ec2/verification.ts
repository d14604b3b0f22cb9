/**
 * The verification gate: before a new image is copied or shared, an instance is launched from
 * it, judged, and terminated. It passes when the instance runs with both status checks passed
 * or, with a test script, when the script prints SUCCESS_MARKER and powers the instance off.
 *
 * The test instance is launched with a ClientToken derived from the image and the settings, so
 * a run killed mid-test finds the same instance on the next `pulumi up`, and it is terminated
 * whatever the outcome: a test instance never outlives the `up` that judges it. A killed run's
 * test instance that the token does not find (the verify settings changed before the re-run) is
 * found by golden-ami's tags (the image it verifies) and terminated too.
 */
import { DescribeInstancesCommand, Instance } from "@aws-sdk/client-ec2";
import { explainAwsError, GoldenAmiError } from "../core/errors";
import { builderClientToken, MANAGED_BY_VALUE, MARKER_TAGS } from "../core/naming";
import { DEFAULT_BUILDER_INSTANCE_TYPE, DEFAULT_STOP_TIMEOUT_MINUTES, DEFAULT_VERIFY_TIMEOUT_MINUTES, SUCCESS_MARKER, VerifySettings } from "../core/options";
import { launchBuilder } from "./builder-instance";
import { ec2Client } from "./client";
import { InstanceWaitOptions, isEnded, terminateInstance } from "./instances";
import { BuilderFailedError, consoleTail, waitForBuilder } from "./readiness";
import { minutes } from "./waiter";

/** The image failed its verification; it must not be copied, shared or kept. */
export class VerificationFailedError extends GoldenAmiError {
    constructor(message: string) {
        super(message, "VerificationFailed");
        this.name = "VerificationFailedError";
    }
}

/** golden-ami's test instances of image `imageId` that are not terminated (any run's, any settings). */
async function liveTestInstances(region: string, imageId: string): Promise<Instance[]> {
    try {
        const out = await ec2Client(region).send(
            new DescribeInstancesCommand({
                Filters: [
                    { Name: `tag:${MARKER_TAGS.verifies}`, Values: [imageId] },
                    { Name: `tag:${MARKER_TAGS.managedBy}`, Values: [MANAGED_BY_VALUE] },
                ],
            }),
        );
        return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => !isEnded(i));
    } catch (err) {
        throw explainAwsError(err, `looking for test instances of image ${imageId} in ${region}`);
    }
}

/** Tests image `imageId` as `settings` say; throws VerificationFailedError (with the console tail) when it fails. */
export async function verifyImage(
    region: string,
    imageId: string,
    name: string,
    settings: VerifySettings,
    waits: Omit<InstanceWaitOptions, "timeoutMs">,
): Promise<void> {
    const progress = waits.onProgress ?? (() => undefined);
    const { instance } = await launchBuilder(
        region,
        builderClientToken({ verifies: imageId, settings }),
        {
            baseImageId: imageId,
            instanceType: settings.instanceType ?? DEFAULT_BUILDER_INSTANCE_TYPE,
            subnetId: settings.subnetId,
            securityGroupIds: settings.vpcSecurityGroupIds,
            userData: settings.userData,
            rootVolume: { encrypted: true },
            volumes: [],
            tags: { Name: `${name}-verify`, [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, [MARKER_TAGS.verifies]: imageId },
        },
        progress,
        "test instance",
    );
    const id = instance.InstanceId!;
    try {
        // An earlier run's test instance with other settings (another token) is not this test's: end it.
        for (const stale of (await liveTestInstances(region, imageId)).filter((i) => i.InstanceId !== id)) {
            progress(`terminating test instance ${stale.InstanceId} of an earlier run`);
            await terminateInstance(region, stale.InstanceId!, { ...waits, timeoutMs: minutes(DEFAULT_STOP_TIMEOUT_MINUTES) });
        }
        progress(`verifying image ${imageId} with test instance ${id}`);
        const judge = settings.userData !== undefined ? "stopped" : "status-ok";
        try {
            await waitForBuilder(region, id, judge, { ...waits, timeoutMs: minutes(settings.timeoutMinutes ?? DEFAULT_VERIFY_TIMEOUT_MINUTES) });
        } catch (err) {
            if (err instanceof BuilderFailedError) {
                throw new VerificationFailedError(
                    `golden-ami: image ${imageId} failed its verification (test instance ${id}): ${err.message.replace(/^golden-ami: /, "")}`,
                );
            }
            throw err;
        }
        if (judge === "stopped") {
            const tail = await consoleTail(region, id, 40);
            if (!tail.includes(SUCCESS_MARKER)) {
                throw new VerificationFailedError(
                    `golden-ami: image ${imageId} failed its verification: test instance ${id} powered off without printing ${SUCCESS_MARKER}. ` +
                        `What to do: fix the image's recipe, or the test script (it prints ${SUCCESS_MARKER} when the test passes). Last console output:\n${tail || "(none)"}`,
                );
            }
        }
        progress(`image ${imageId} passed its verification`);
    } finally {
        await terminateInstance(region, id, { ...waits, timeoutMs: minutes(DEFAULT_STOP_TIMEOUT_MINUTES) });
    }
}
