/**
 * Publication of the current AMI ID in an SSM parameter of data type `aws:ec2:image` (one per
 * region), so launch templates (`resolve:ssm:`), Auto Scaling groups and tools that are not
 * Pulumi follow a rebuild without a StackReference. Each put is a new version of the
 * parameter: the previous AMI ID stays in its history.
 */
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { WaitContext } from "../core/context";
import { awsErrorCode, explainAwsError, GoldenAmiError } from "../core/errors";
import { ssmClient } from "./client";
import { waitUntil } from "./waiter";

/** The parameter's current value, or undefined when it does not exist. */
export async function publishedValue(region: string, name: string): Promise<string | undefined> {
    try {
        const out = await ssmClient(region).send(new GetParameterCommand({ Name: name }));
        return out.Parameter?.Value;
    } catch (err) {
        if (awsErrorCode(err) === "ParameterNotFound") return undefined;
        throw explainAwsError(err, `reading SSM parameter ${name} in ${region}`);
    }
}

/** How long SSM may take to validate an aws:ec2:image value (asynchronously, after PutParameter answered). */
const VALIDATION_TIMEOUT_MS = 60_000;

/**
 * Sets the parameter to the AMI ID (a new version), unless it holds it already. SSM validates
 * an aws:ec2:image value after PutParameter has answered 200, and an invalid one is silently
 * not stored: so this reads the parameter back until it names the image.
 */
export async function publishImageId(region: string, name: string, imageId: string, wait: Partial<WaitContext> = {}): Promise<void> {
    if ((await publishedValue(region, name)) === imageId) return;
    try {
        await ssmClient(region).send(
            new PutParameterCommand({ Name: name, Value: imageId, Type: "String", DataType: "aws:ec2:image", Overwrite: true, Description: "golden-ami: the current golden AMI of this region" }),
        );
    } catch (err) {
        throw explainAwsError(err, `publishing ${imageId} in SSM parameter ${name} in ${region}`);
    }
    try {
        await waitUntil({
            description: `SSM parameter ${name} in ${region} to name ${imageId}`,
            timeoutMs: VALIDATION_TIMEOUT_MS,
            observe: () => publishedValue(region, name),
            judge: (value) => (value === imageId ? { state: "done" } : { state: "pending", status: `holds ${value ?? "nothing"}` }),
            delays: { minMs: 500, maxMs: 5_000 },
            clock: wait.clock,
            timeScale: wait.timeScale,
        });
    } catch (err) {
        throw new GoldenAmiError(
            `golden-ami: SSM did not store ${imageId} in parameter ${name} in ${region} (data type aws:ec2:image is validated after PutParameter answers: the AMI must exist and be available in this account and region). ` +
                `What to do: check the image in ${region}, then run \`pulumi up\` again. (${(err as Error).message})`,
            "PublishFailed",
        );
    }
}

/** Deletes the parameter if it still names one of `imageIds` (someone else's value is left alone); already gone is fine. */
export async function unpublish(region: string, name: string, imageIds: string[]): Promise<void> {
    const value = await publishedValue(region, name);
    if (value === undefined || !imageIds.includes(value)) return;
    try {
        await ssmClient(region).send(new DeleteParameterCommand({ Name: name }));
    } catch (err) {
        if (awsErrorCode(err) !== "ParameterNotFound") throw explainAwsError(err, `deleting SSM parameter ${name} in ${region}`);
    }
}
