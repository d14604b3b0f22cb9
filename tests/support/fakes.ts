/**
 * Test doubles for unit tests that must force a state sequence: a virtual clock (waits
 * finish instantly while "time" advances), stubbed EC2 clients (the fake EC2 itself is
 * fake-ec2.ts), and the helpers the unit tests share.
 */
import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { Clock, ProgressFn } from "../../providers/core/context";
import { ec2Client, resetClients, stsClient } from "../../providers/ec2/client";
import { resetIdentities } from "../../providers/ec2/identity";
import type { ProviderKind } from "../../providers/resources/shim";
import { createProviders } from "../../providers/runtime";

/** The account the stubbed STS says the credentials act as. */
export const FAKE_ACCOUNT = "123456789012";

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

export type Ec2Handler = (action: string, input: Record<string, any>, call: number, region: string) => unknown;

/** An AWS-shaped service error, as the SDK throws it. */
export function awsError(code: string, message = code, httpStatusCode = 400): Error {
    return Object.assign(new Error(message), { name: code, Code: code, $metadata: { httpStatusCode }, $fault: "client" });
}

/** Fails unless `message` starts with `expected` (what was being done and EC2's words; errors.ts's advice may follow). */
export function assertStartsWith(message: string, expected: string): void {
    if (!message.startsWith(expected)) throw new assert.AssertionError({ message: `${message}\ndoes not start with\n${expected}`, actual: message, expected, operator: "startsWith" });
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
    try {
        await p;
    } catch (err) {
        return err as Error;
    }
    assert.fail("expected the call to fail");
}

/**
 * Replaces `send` of the cached EC2 client of each of `regions` with `handler`; a handler
 * that throws makes the call fail. Returns the call log and the undo.
 */
export function stubEc2(regions: string | string[], handler: Ec2Handler): { calls: RecordedCall[]; restore: () => void } {
    resetClients();
    resetIdentities();
    const calls: RecordedCall[] = [];
    for (const region of typeof regions === "string" ? [regions] : regions) {
        // Errors name who golden-ami acted as: STS answers with the fake account, never the network.
        (stsClient(region) as unknown as { send: unknown }).send = async () => ({ Account: FAKE_ACCOUNT, Arn: `arn:aws:iam::${FAKE_ACCOUNT}:user/fake` });
        const client = ec2Client(region);
        (client as unknown as { send: unknown }).send = async (command: { constructor: { name: string }; input: Record<string, any> }) => {
            const action = command.constructor.name.replace(/Command$/, "");
            calls.push({ action, input: command.input });
            return handler(action, command.input, calls.length, region);
        };
    }
    return { calls, restore: resetClients };
}

/** Count of calls per action. */
export function countByAction(calls: RecordedCall[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of calls) counts[c.action] = (counts[c.action] ?? 0) + 1;
    return counts;
}

/** The actions called, in order. */
export const actions = (calls: RecordedCall[]) => calls.map((c) => c.action);

/** The inputs of every call of `action`, in order. */
export const inputsOf = (calls: RecordedCall[], action: string) => calls.filter((c) => c.action === action).map((c) => c.input);
