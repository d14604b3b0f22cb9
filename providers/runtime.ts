/**
 * What the provider process loads (by name, `golden-ami/dist/providers/runtime`; see
 * resources/shim.ts) behind every golden-ami dynamic resource: the implementation of each
 * kind, made with the production context (real clock, progress on the engine's display).
 * The path is part of the state of every stack that has golden-ami resources: keep it.
 */
import * as pulumi from "@pulumi/pulumi";
import { awsSettingsFromConfig } from "./core/aws-settings";
import { realClock, RunContext } from "./core/context";
import { builderProvider } from "./lifecycle/builder";
import { setConfiguredRegion } from "./core/region";
import { COPY_SLOTS_CONFIG_KEY, CopySlots } from "./lifecycle/copy-slots";
import { configureStack } from "./ec2/client";
import { imageCopyKind } from "./lifecycle/image-copy";
import { imageProvider } from "./lifecycle/image-lifecycle";
import { instanceImageKind } from "./lifecycle/instance-image";
import { engineProgress, engineWarning } from "./lifecycle/progress";
import type { ProviderKind } from "./resources/shim";

/**
 * Receives the stack configuration once per provider process (every key of every namespace,
 * see docs/field-notes.md): golden-ami acts with the same `aws:*` settings as the AWS provider;
 * the copy slots per destination region come from golden-ami:copySlotsPerRegion.
 */
function configurer(slots: CopySlots): (req: pulumi.dynamic.ConfigureRequest) => Promise<void> {
    return async (req) => {
        const settings = awsSettingsFromConfig((key) => req.config.get(key));
        setConfiguredRegion(settings.region);
        configureStack(settings);
        const limit = req.config.get(COPY_SLOTS_CONFIG_KEY);
        if (limit !== undefined) slots.setLimit(Number(limit));
    };
}

/** Every kind's provider, acting with `ctx` (copies share one pool of copy slots: `ctx.copySlots`, else a fresh one with EC2's default). */
export function createProviders(given: RunContext): Record<ProviderKind, pulumi.dynamic.ResourceProvider> {
    const slots = given.copySlots instanceof CopySlots ? given.copySlots : new CopySlots();
    const ctx: RunContext = { ...given, copySlots: given.copySlots ?? slots };
    const configure = configurer(slots);
    return {
        InstanceImage: { ...imageProvider(instanceImageKind, ctx), configure },
        ImageCopy: { ...imageProvider(imageCopyKind, ctx), configure },
        Builder: { ...builderProvider(ctx), configure },
    };
}

export const PRODUCTION_CONTEXT: RunContext = { clock: realClock, timeScale: 1, progress: engineProgress, warn: engineWarning };

export const providers = createProviders(PRODUCTION_CONTEXT);
