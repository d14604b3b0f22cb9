/**
 * What the provider process loads (by name, `golden-ami/dist/providers/runtime`) behind
 * every golden-ami dynamic resource: the implementations, keyed by kind.
 */
import * as pulumi from "@pulumi/pulumi";
import { setConfiguredRegion } from "./ec2/region";
import { imageCopyProvider } from "./image-copy";
import { instanceImageProvider } from "./instance-image";
import { ProviderKind } from "./shim";

/** Receives the stack configuration once per provider process: the default region comes from aws:region. */
async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    setConfiguredRegion(req.config.get("aws:region"));
}

function withConfigure(provider: pulumi.dynamic.ResourceProvider): pulumi.dynamic.ResourceProvider {
    return { ...provider, configure };
}

export const providers: Partial<Record<ProviderKind, pulumi.dynamic.ResourceProvider>> = {
    InstanceImage: withConfigure(instanceImageProvider),
    ImageCopy: withConfigure(imageCopyProvider),
};
