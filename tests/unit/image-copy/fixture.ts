/**
 * What the ImageCopy unit tests share: the names they use, inputs as `check` would produce
 * them, and a world (the one fake EC2 serving the source and destination regions, with the
 * source image, virtual time, the provider) made fresh for each test.
 */
import type * as pulumi from "@pulumi/pulumi";
import { FakeCall, FakeEc2 } from "../../support/fake-ec2";
import { FakeClock, testProviders } from "../../support/fakes";
import { LINEAGE_TAGS, lineageId } from "../../../providers/core/lineage";

export const SOURCE_REGION = "us-east-1";
export const REGION = "eu-west-1";
export const SOURCE = "ami-0123456789abcdef0";
export const SOURCE_NAME = "web-golden-1a2b3c4d5e6f";
export const NAME = "web-golden-eu";
export const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:ImageCopy::web-eu";
export const MANAGED_BY = "golden-ami:managed-by";
export const SOURCE_IMAGE = "golden-ami:source-image";
export const MARKERS = { [MANAGED_BY]: "golden-ami", [SOURCE_IMAGE]: `${SOURCE_REGION}/${SOURCE}` };
export const KEY_ARN = `arn:aws:kms:${REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const A = "111111111111";
export const B = "222222222222";

/** The fake EC2 of both regions with the source image (made from an instance) in the source region; copies go pending, pending, available. */
export function copyEc2(): FakeEc2 {
    const ec2 = new FakeEc2([REGION, SOURCE_REGION]);
    ec2.newImageStates = ["pending", "pending", "available"];
    ec2.newSnapshotSteps = [
        { state: "pending", progress: "20%" },
        { state: "pending", progress: "60%" },
        { state: "completed", progress: "100%" },
    ];
    ec2.seedImage({ id: SOURCE, region: SOURCE_REGION, name: SOURCE_NAME, tags: { team: "platform", "golden-ami:source-instance": "i-0123456789abcdef0" } });
    return ec2;
}

/** Inputs as `check` would produce them (plus the dynamic-provider host's `__provider`). */
export function inputsWith(over: Record<string, unknown> = {}): Record<string, any> {
    return {
        __provider: "x",
        sourceImageId: SOURCE,
        sourceRegion: SOURCE_REGION,
        region: REGION,
        name: NAME,
        tags: { team: "platform" },
        snapshotTags: { backup: "daily" },
        encrypted: false,
        copyImageTags: false,
        imageTimeoutMinutes: 60,
        resourceUrn: URN,
        ...over,
    };
}

export interface World {
    ec2: FakeEc2;
    calls: FakeCall[];
    provider: pulumi.dynamic.ResourceProvider;
    restore: () => void;
}

/** A fresh world: copyEc2() installed on both regions' clients. */
export function world(): World {
    const ec2 = copyEc2();
    const restore = ec2.install();
    return { ec2, calls: ec2.calls, provider: testProviders(new FakeClock()).ImageCopy, restore };
}

export const withoutProvider = (outs: Record<string, unknown>) => {
    const { __provider, ...rest } = outs;
    return rest;
};

/** The lineage id of the resource of URN. */
export const LINEAGE = lineageId(URN, "");

/** Tags without the lineage tags (those are asserted on their own: generation, lineage). */
export function withoutLineage(tags: Record<string, string>): Record<string, string> {
    const keys = new Set<string>([LINEAGE_TAGS.lineage, LINEAGE_TAGS.generation, LINEAGE_TAGS.recipe, LINEAGE_TAGS.builtAt, LINEAGE_TAGS.retiredAt]);
    return Object.fromEntries(Object.entries(tags).filter(([k]) => !keys.has(k)));
}
