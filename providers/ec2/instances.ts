/**
 * Instance state for imaging: look up, stop (and wait), start again (and wait), terminate
 * (and wait). Each step tolerates the states an instance can be found in when a retried
 * create or a resumed build reaches it (pending, running, stopping, stopped, shutting-down).
 */
import { DescribeInstancesCommand, Instance, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { WaitContext } from "../core/context";
import { explainAwsError, GoldenAmiError, isNotFound } from "../core/errors";
import { ec2Client } from "./client";
import { Verdict, WaitDelays, waitUntil } from "./waiter";

export async function describeInstance(region: string, instanceId: string): Promise<Instance | undefined> {
    try {
        const out = await ec2Client(region).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        return out.Reservations?.[0]?.Instances?.[0];
    } catch (err) {
        if (isNotFound(err)) return undefined;
        throw explainAwsError(err, `describing instance ${instanceId} in ${region}`);
    }
}

/**
 * The instance, or a clear error when it is missing or can no longer be imaged. `launchedBy`:
 * the account the instance was launched in, when known (a builder's state records it), which a
 * not-found names beside the account golden-ami acted as (acting.ts adds that one).
 */
export async function requireImageableInstance(region: string, instanceId: string, launchedBy?: string): Promise<Instance> {
    const instance = await describeInstance(region, instanceId);
    if (!instance) {
        throw new GoldenAmiError(
            launchedBy
                ? `golden-ami: instance ${instanceId} is not visible in ${region} to the account golden-ami acts as; the builder was created by account ${launchedBy}. ` +
                      `What to do: act as account ${launchedBy} for the image too (the same aws:profile / aws:assumeRoles / provider as the builder), or check that the instance still exists.`
                : `golden-ami: instance ${instanceId} does not exist in ${region}. What to do: check instanceId and region (an instance can only be imaged in its own region).`,
            "InstanceNotFound",
        );
    }
    const state = instance.State?.Name;
    if (state === "terminated" || state === "shutting-down") {
        throw new GoldenAmiError(
            `golden-ami: instance ${instanceId} in ${region} is ${state} and can no longer be imaged. What to do: build a new instance (or point instanceId at a running or stopped one).`,
            "IncorrectInstanceState",
        );
    }
    return instance;
}

export interface InstanceWaitOptions extends Partial<WaitContext> {
    timeoutMs: number;
    onProgress?: (status: string) => void;
    delays?: Partial<WaitDelays>;
}

/** Waits until the instance is in `target`; fails if it ends terminated. */
export async function waitForInstanceState(
    region: string,
    instanceId: string,
    target: "running" | "stopped",
    options: InstanceWaitOptions,
): Promise<Instance> {
    return waitForInstance(region, instanceId, target, options, (instance) => {
        const state = instance?.State?.Name ?? "gone";
        if (state === target) return { state: "done" };
        if (state === "terminated" || state === "shutting-down" || state === "gone") {
            return { state: "failed", reason: `instance ${instanceId} is ${state}` };
        }
        return { state: "pending", status: `instance ${state}` };
    }) as Promise<Instance>;
}

/** Looks at the instance on the one waiter's schedule until `judge` says it is done (or failed). */
function waitForInstance(
    region: string,
    instanceId: string,
    target: string,
    options: InstanceWaitOptions,
    judge: (instance: Instance | undefined) => Verdict,
): Promise<Instance | undefined> {
    return waitUntil<Instance | undefined>({
        description: `instance ${instanceId} in ${region} to be ${target}`,
        timeoutMs: options.timeoutMs,
        clock: options.clock,
        timeScale: options.timeScale,
        delays: options.delays,
        onProgress: options.onProgress,
        observe: () => describeInstance(region, instanceId),
        judge,
    });
}

/**
 * How an instance is brought to each resting state: the transient state to wait out first
 * (EC2 refuses to stop a `pending` instance or start a `stopping` one), the state the call is
 * made from, and the call.
 */
const TRANSITIONS = {
    stopped: {
        waitOut: "pending", waitOutTo: "running", from: "running", verb: "stopping",
        call: (region: string, instanceId: string) => ec2Client(region).send(new StopInstancesCommand({ InstanceIds: [instanceId] })),
    },
    running: {
        waitOut: "stopping", waitOutTo: "stopped", from: "stopped", verb: "starting",
        call: (region: string, instanceId: string) => ec2Client(region).send(new StartInstancesCommand({ InstanceIds: [instanceId] })),
    },
} as const;

/**
 * Brings the instance to `target`: waits out the transient state EC2 refuses the call in,
 * makes the call, waits until the instance is there. Returns at once if it already is.
 */
async function bringInstanceTo(region: string, instanceId: string, target: keyof typeof TRANSITIONS, options: InstanceWaitOptions): Promise<void> {
    const step = TRANSITIONS[target];
    const instance = await requireImageableInstance(region, instanceId);
    let state = instance.State?.Name;
    if (state === target) return;
    if (state === step.waitOut) {
        await waitForInstanceState(region, instanceId, step.waitOutTo, options);
        state = step.waitOutTo;
    }
    if (state === step.from) {
        options.onProgress?.(`${step.verb} instance ${instanceId}`);
        try {
            await step.call(region, instanceId);
        } catch (err) {
            throw explainAwsError(err, `${step.verb} instance ${instanceId} in ${region}`);
        }
    }
    await waitForInstanceState(region, instanceId, target, options);
}

/** Brings the instance to `stopped` (see bringInstanceTo). */
export function stopInstance(region: string, instanceId: string, options: InstanceWaitOptions): Promise<void> {
    return bringInstanceTo(region, instanceId, "stopped", options);
}

/** Starts a stopped instance again and waits until it runs. */
export function startInstance(region: string, instanceId: string, options: InstanceWaitOptions): Promise<void> {
    return bringInstanceTo(region, instanceId, "running", options);
}

/** True for an instance that is gone or going (terminated, shutting-down, or no longer described). */
export function isEnded(instance: Instance | undefined): boolean {
    const state = instance?.State?.Name;
    return state === undefined || state === "terminated" || state === "shutting-down";
}

/**
 * Terminates the instance and waits until it is `terminated` (or no longer described).
 * A missing or already terminated instance is fine: the goal is that it is gone.
 */
export async function terminateInstance(region: string, instanceId: string, options: InstanceWaitOptions): Promise<void> {
    const instance = await describeInstance(region, instanceId);
    if (!instance || instance.State?.Name === "terminated") return;
    if (instance.State?.Name !== "shutting-down") {
        options.onProgress?.(`terminating instance ${instanceId}`);
        try {
            await ec2Client(region).send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
        } catch (err) {
            if (isNotFound(err)) return;
            throw explainAwsError(err, `terminating instance ${instanceId} in ${region}`);
        }
    }
    await waitForInstance(region, instanceId, "terminated", options, (seen) => {
        const state = seen?.State?.Name ?? "terminated";
        return state === "terminated" ? { state: "done" } : { state: "pending", status: `instance ${state}` };
    });
}
