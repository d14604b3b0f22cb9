/**
 * Test doubles for unit tests that must force a state sequence: a virtual clock (waits
 * finish instantly while "time" advances) and a scripted EC2 client.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Clock, ProgressFn } from "../../providers/core/context";
import { ec2Client, resetClients } from "../../providers/ec2/client";
import type { ProviderKind } from "../../providers/resources/shim";
import { createProviders } from "../../providers/runtime";

/** Virtual time: sleep(ms) advances now() by ms and resolves at once. */
export class FakeClock implements Clock {
    readonly sleeps: number[] = [];
    constructor(public time = Date.UTC(2026, 0, 1)) {}
    now(): number {
        return this.time;
    }
    async sleep(ms: number): Promise<void> {
        this.sleeps.push(ms);
        this.time += ms;
    }
}

/** Every kind's provider, acting on `clock` (virtual time), with progress to `onProgress`. */
export function testProviders(clock: Clock, onProgress?: ProgressFn): Record<ProviderKind, pulumi.dynamic.ResourceProvider> {
    return createProviders({ clock, timeScale: 1, progress: () => onProgress ?? (() => undefined) });
}

/** One recorded call: the command's class name ("DescribeImagesCommand" → "DescribeImages") and input. */
export interface RecordedCall {
    action: string;
    input: Record<string, any>;
}

export type Ec2Handler = (action: string, input: Record<string, any>, call: number) => unknown;

/** An AWS-shaped service error, as the SDK throws it. */
export function awsError(code: string, message = code, httpStatusCode = 400): Error {
    return Object.assign(new Error(message), { name: code, Code: code, $metadata: { httpStatusCode }, $fault: "client" });
}

/**
 * Replaces `send` of the cached EC2 client of `region` with `handler`; a handler that throws
 * makes the call fail. Returns the call log and the undo.
 */
export function stubEc2(region: string, handler: Ec2Handler): { calls: RecordedCall[]; restore: () => void } {
    resetClients();
    const calls: RecordedCall[] = [];
    const client = ec2Client(region);
    (client as unknown as { send: unknown }).send = async (command: { constructor: { name: string }; input: Record<string, any> }) => {
        const action = command.constructor.name.replace(/Command$/, "");
        calls.push({ action, input: command.input });
        return handler(action, command.input, calls.length);
    };
    return { calls, restore: resetClients };
}

/** Count of calls per action. */
export function countByAction(calls: RecordedCall[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of calls) counts[c.action] = (counts[c.action] ?? 0) + 1;
    return counts;
}
