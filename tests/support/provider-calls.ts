// The provider methods called in this process as the dynamic-provider host calls them (check,
// then create with what check produced), against an emulator over HTTP: for integration tests
// that exercise the real provider code without the Pulumi engine.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { resetClients } from "../../providers/ec2/client";
import { setConfiguredRegion } from "../../providers/core/region";
import { Emulator } from "./emulator";

/** Points the provider's EC2 clients at the emulator (process env); returns the undo. */
export function useEmulatorEnv(emulator: Emulator, region: string): () => void {
    const saved = { ...process.env };
    Object.assign(process.env, emulator.env(region));
    resetClients();
    setConfiguredRegion(undefined);
    return () => {
        resetClients();
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
    };
}

/** check (which must accept the inputs), then create with its inputs plus the host's `__provider` key. */
export async function checkedCreate<O>(
    provider: pulumi.dynamic.ResourceProvider,
    type: "InstanceImage" | "ImageCopy" | "Builder",
    name: string,
    news: Record<string, unknown>,
): Promise<{ id: string; outs: O; inputs: Record<string, unknown> }> {
    const checked = await provider.check!({}, { resourceUrn: `urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:${type}::${name}`, ...news });
    assert.deepEqual(checked.failures ?? [], [], "check accepts the inputs");
    const { id, outs } = await provider.create({ ...checked.inputs, __provider: "x" });
    return { id, outs: outs as O, inputs: checked.inputs };
}
