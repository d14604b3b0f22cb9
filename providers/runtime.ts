/**
 * What the provider process loads (by name, `golden-ami/dist/providers/runtime`; see
 * resources/shim.ts) behind every golden-ami dynamic resource: the implementation of each
 * kind, made with the production context (real clock, progress on the engine's display).
 * The path is part of the state of every stack that has golden-ami resources: keep it.
 */
import * as pulumi from "@pulumi/pulumi";
import { realClock, RunContext } from "./core/context";
import { setConfiguredRegion } from "./core/region";
import { imageCopyKind } from "./lifecycle/image-copy";
import { imageProvider } from "./lifecycle/image-lifecycle";
import { instanceImageKind } from "./lifecycle/instance-image";
import { engineProgress, engineWarning } from "./lifecycle/progress";
import type { ProviderKind } from "./resources/shim";

/** Receives the stack configuration once per provider process: the default region comes from aws:region. */
async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    setConfiguredRegion(req.config.get("aws:region"));
}

/** Every kind's provider, acting with `ctx`. */
export function createProviders(ctx: RunContext): Record<ProviderKind, pulumi.dynamic.ResourceProvider> {
    return {
        InstanceImage: { ...imageProvider(instanceImageKind, ctx), configure },
        ImageCopy: { ...imageProvider(imageCopyKind, ctx), configure },
    };
}

export const PRODUCTION_CONTEXT: RunContext = { clock: realClock, timeScale: 1, progress: engineProgress, warn: engineWarning };

export const providers = createProviders(PRODUCTION_CONTEXT);
