// Small EC2 helpers shared by the emulator's own tests (tests/emulator/*.test.ts).
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator, pollUntil } from "../support/emulator";

export async function describeImage(client: ec2.EC2Client, imageId: string): Promise<ec2.Image> {
    const out = await client.send(new ec2.DescribeImagesCommand({ ImageIds: [imageId] }));
    const image = out.Images?.[0];
    if (!image) throw new Error(`image ${imageId} not found`);
    return image;
}

export async function describeSnapshot(client: ec2.EC2Client, snapshotId: string): Promise<ec2.Snapshot> {
    const out = await client.send(new ec2.DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    const snapshot = out.Snapshots?.[0];
    if (!snapshot) throw new Error(`snapshot ${snapshotId} not found`);
    return snapshot;
}

export async function instanceState(client: ec2.EC2Client, instanceId: string): Promise<string | undefined> {
    const out = await client.send(new ec2.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

export function snapshotIds(image: ec2.Image): string[] {
    return (image.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : []));
}

export function waitForImageState(client: ec2.EC2Client, imageId: string, states: string[], timeoutMs = 20_000): Promise<ec2.Image> {
    return pollUntil(() => describeImage(client, imageId), (image) => states.includes(image.State ?? ""), {
        timeoutMs,
        what: `image ${imageId} to be ${states.join(" or ")}`,
    });
}

let counter = 0;
/** Unique, valid AMI names (3-128 characters), so tests never collide on InvalidAMIName.Duplicate. */
export function uniqueName(prefix: string): string {
    counter += 1;
    return `${prefix}-${process.pid}-${Date.now()}-${counter}`;
}

/** The AWS error code of a rejected SDK call (fails the test if the call succeeded). */
export async function errorOf(call: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
    try {
        await call;
    } catch (error) {
        const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
        return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
    }
    throw new Error("expected the call to fail, but it succeeded");
}

let shared: Promise<Emulator> | undefined;
/**
 * One emulator (started without timing or throttling) shared by the test files that need no
 * start-up configuration; each file calls reset() on it first. Stopped when the runner is done.
 */
export function sharedEmulator(): Promise<Emulator> {
    if (!shared) {
        shared = Emulator.start();
        process.once("beforeExit", () => {
            void shared?.then((emulator) => emulator.stop());
        });
    }
    return shared;
}
