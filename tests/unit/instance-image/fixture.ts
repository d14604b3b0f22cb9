/**
 * What the InstanceImage unit tests share: the names they use, inputs as `check` would
 * produce them, and a world (the one fake EC2 with the builder instance, virtual time, the
 * provider) made fresh for each test.
 */
import type * as pulumi from "@pulumi/pulumi";
import { FakeCall, FakeEc2, FakeInstance } from "../../support/fake-ec2";
import { FakeClock, testProviders } from "../../support/fakes";
import { LINEAGE_TAGS, lineageId } from "../../../providers/core/lineage";

export const REGION = "us-east-1";
export const INSTANCE = "i-0123456789abcdef0";
export const OTHER_INSTANCE = "i-0fedcba9876543210";
/** The ID of the first image the fake's CreateImage makes. */
export const NEW_IMAGE = "ami-0a000000000000001";
export const EARLIER_IMAGE = "ami-0bbbbbbbbbbbbbbb2";
export const NAME = "web-golden";
export const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:InstanceImage::web";
export const MANAGED_BY = "golden-ami:managed-by";
export const SOURCE_INSTANCE = "golden-ami:source-instance";
export const MARKERS = { [MANAGED_BY]: "golden-ami", [SOURCE_INSTANCE]: INSTANCE };

/** Inputs as `check` would produce them (plus the dynamic-provider host's `__provider`). */
export function inputsWith(over: Record<string, unknown> = {}): Record<string, any> {
    return {
        __provider: "x",
        instanceId: INSTANCE,
        region: REGION,
        name: NAME,
        tags: { team: "platform" },
        snapshotTags: { backup: "daily" },
        stopBeforeImage: true,
        afterImage: "stopped",
        stopTimeoutMinutes: 10,
        imageTimeoutMinutes: 60,
        ...over,
    };
}

export interface World {
    ec2: FakeEc2;
    /** The instance to image (running). */
    builder: FakeInstance;
    calls: FakeCall[];
    clock: FakeClock;
    provider: pulumi.dynamic.ResourceProvider;
    restore: () => void;
}

/** A fresh world: the fake EC2 installed on the region's client, the builder running. */
export function world(): World {
    const ec2 = new FakeEc2([REGION]);
    const builder = ec2.seedInstance({ id: INSTANCE });
    const clock = new FakeClock();
    const restore = ec2.install();
    return { ec2, builder, calls: ec2.calls, clock, provider: testProviders(clock).InstanceImage, restore };
}

/** The provider acting on a world with no EC2 (check and diff). */
export const offlineProvider = () => testProviders(new FakeClock()).InstanceImage;

/** The lineage id of the image of inputsWith() (no URN: its region and name). */
export const LINEAGE = lineageId(undefined, `${REGION}/${NAME}`);

/** Tags without the lineage tags (those are asserted on their own: generation, lineage). */
export function withoutLineage(tags: Record<string, string>): Record<string, string> {
    const keys = new Set<string>([LINEAGE_TAGS.lineage, LINEAGE_TAGS.generation, LINEAGE_TAGS.recipe, LINEAGE_TAGS.builtAt, LINEAGE_TAGS.retiredAt]);
    return Object.fromEntries(Object.entries(tags).filter(([k]) => !keys.has(k)));
}
