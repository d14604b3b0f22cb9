// Unit tests of the ImageCopy dynamic provider's state machine, against a scripted EC2 that
// spans two regions (answers in the SDK's output shapes) and virtual time (FakeClock).
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ec2Client } from "../../providers/ec2/client";
import { copyClientToken } from "../../providers/core/naming";
import { setConfiguredRegion } from "../../providers/core/region";
import { WaitFailedError } from "../../providers/ec2/waiter";
import { ImageCopyOutputs } from "../../providers/lifecycle/image-copy";
import { PartialCreateError } from "../../providers/lifecycle/partial";
import { providerShim } from "../../providers/resources/shim";
import { awsError, countByAction, FakeClock, RecordedCall, stubEc2, testProviders } from "../support/fakes";

const SOURCE_REGION = "us-east-1";
const REGION = "eu-west-1";
const SOURCE = "ami-0123456789abcdef0";
const SOURCE_NAME = "web-golden-1a2b3c4d5e6f";
const NAME = "web-golden-eu";
const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:ImageCopy::web-eu";
const MANAGED_BY = "golden-ami:managed-by";
const SOURCE_IMAGE = "golden-ami:source-image";
const MARKERS = { [MANAGED_BY]: "golden-ami", [SOURCE_IMAGE]: `${SOURCE_REGION}/${SOURCE}` };
const KEY_ARN = `arn:aws:kms:${REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const A = "111111111111";
const B = "222222222222";
const DEVICES = ["/dev/xvda", "/dev/sdf"];
const UNKNOWN = pulumi.runtime.unknownValue;

type Tags = Record<string, string>;
interface SnapStep {
    state: "pending" | "completed" | "error";
    progress: string;
}
interface FakeImage {
    id: string;
    region: string;
    name: string;
    description?: string;
    tags: Tags;
    /** Image state per DescribeImages-by-ID; the last one repeats. */
    states: string[];
    stateReason?: { Code: string; Message: string };
    snapshotIds: string[];
    encrypted: boolean;
    kmsKeyId?: string;
    deregistered: boolean;
    served: string[];
    launch: Array<Record<string, string>>;
    deprecationTime?: string;
}
interface FakeSnapshot {
    id: string;
    tags: Tags;
    steps: SnapStep[];
    deleted: boolean;
    volumeUsers: string[];
}

/** Advances a script: returns its head and drops it, unless it is the last entry (which repeats). */
function next<T>(script: T[]): T {
    return script.length > 1 ? script.shift()! : script[0];
}
const toTags = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const fromTags = (list: Array<{ Key?: string; Value?: string }> | undefined): Tags =>
    Object.fromEntries((list ?? []).map((t) => [t.Key!, t.Value ?? ""]));

/**
 * A little EC2 across regions: the source image, copies (scripts of states per Describe), their
 * snapshots, tags, launch permissions, deprecation, ClientTokens remembered like EC2 does (also
 * after the copy is gone), and injectable faults.
 */
class FakeEc2 {
    newCopyStates = ["pending", "pending", "available"];
    newCopyStateReason?: { Code: string; Message: string };
    newSnapshotSteps: SnapStep[] = [
        { state: "pending", progress: "20%" },
        { state: "pending", progress: "60%" },
        { state: "completed", progress: "100%" },
    ];
    /** DescribeImages by name answers nothing this many more times (a copy not yet visible by name). */
    hiddenByName = 0;
    readonly images = new Map<string, FakeImage>();
    readonly snapshots = new Map<string, FakeSnapshot>();
    readonly tokens = new Map<string, { request: string; imageId: string }>();
    readonly faults: Array<{ action: string; error: Error; times: number }> = [];
    private counter = 0;

    constructor() {
        this.seedImage({ id: SOURCE, region: SOURCE_REGION, name: SOURCE_NAME, tags: { team: "platform", "golden-ami:source-instance": "i-0123456789abcdef0" } });
    }

    fail(action: string, error: Error, times = 1): void {
        this.faults.push({ action, error, times });
    }

    seedImage(image: Partial<FakeImage> & { id: string; name: string }): FakeImage {
        const snapshotIds = image.snapshotIds ?? DEVICES.map(() => this.newSnapshot({ ...MARKERS }, [{ state: "completed", progress: "100%" }]));
        const full: FakeImage = {
            region: REGION, tags: {}, states: ["available"], encrypted: false, deregistered: false, served: [], launch: [], ...image, snapshotIds,
        };
        this.images.set(full.id, full);
        return full;
    }

    /** The copies made (images in the destination region other than seeded ones). */
    copies(): FakeImage[] {
        return [...this.images.values()].filter((i) => i.id.startsWith("ami-0c"));
    }

    private newSnapshot(tags: Tags, steps: SnapStep[]): string {
        const id = `snap-0${String(++this.counter).padStart(16, "0")}`;
        this.snapshots.set(id, { id, tags, steps: steps.map((s) => ({ ...s })), deleted: false, volumeUsers: [] });
        return id;
    }

    private imageShape(image: FakeImage, state: string) {
        return {
            ImageId: image.id,
            Name: image.name,
            Description: image.description,
            State: state,
            StateReason: state === "failed" ? image.stateReason : undefined,
            OwnerId: "123456789012",
            CreationDate: "2026-01-01T00:00:00.000Z",
            Architecture: "x86_64",
            RootDeviceName: "/dev/xvda",
            Tags: toTags(image.tags),
            DeprecationTime: image.deprecationTime,
            DeregistrationProtection: "disabled",
            BlockDeviceMappings: image.snapshotIds.map((SnapshotId, i) => ({
                DeviceName: DEVICES[i],
                Ebs: { SnapshotId, VolumeSize: 8, VolumeType: "gp3", DeleteOnTermination: true, Encrypted: image.encrypted, KmsKeyId: image.kmsKeyId },
            })),
        };
    }

    private image(region: string, id: string): FakeImage {
        const image = this.images.get(id);
        if (!image || image.region !== region || image.deregistered) throw awsError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
        return image;
    }

    readonly handler = (region: string, action: string, input: Record<string, any>): unknown => {
        const fault = this.faults.find((f) => f.action === action && f.times > 0);
        if (fault) {
            fault.times--;
            throw fault.error;
        }
        switch (action) {
            case "CopyImage": {
                const { ClientToken, ...request } = input;
                const remembered = this.tokens.get(`${region}/${ClientToken}`);
                if (remembered) {
                    if (remembered.request !== JSON.stringify(request)) throw awsError("IdempotentParameterMismatch", "Arguments on this idempotent request are inconsistent");
                    return { ImageId: remembered.imageId }; // also when that copy is gone, as EC2 does
                }
                if ([...this.images.values()].some((i) => i.region === region && i.name === input.Name && !i.deregistered)) {
                    throw awsError("InvalidAMIName.Duplicate", `AMI name ${input.Name} is already in use`);
                }
                const source = this.image(input.SourceRegion, input.SourceImageId);
                const spec = (type: string) => fromTags(input.TagSpecifications?.find((s: { ResourceType: string }) => s.ResourceType === type)?.Tags);
                const copied = input.CopyImageTags ? source.tags : {};
                const id = `ami-0c${String(this.copies().length + 1).padStart(15, "0")}`;
                this.images.set(id, {
                    id,
                    region,
                    name: input.Name,
                    description: input.Description,
                    tags: { ...copied, ...spec("image") },
                    states: [...this.newCopyStates],
                    stateReason: this.newCopyStateReason,
                    snapshotIds: DEVICES.map(() => this.newSnapshot(spec("snapshot"), this.newSnapshotSteps)),
                    encrypted: !!input.Encrypted,
                    kmsKeyId: input.Encrypted ? input.KmsKeyId ?? `arn:aws:kms:${region}:123456789012:key/default` : undefined,
                    deregistered: false,
                    served: [],
                    launch: [],
                });
                this.tokens.set(`${region}/${ClientToken}`, { request: JSON.stringify(request), imageId: id });
                return { ImageId: id };
            }
            case "DescribeImages": {
                if (input.ImageIds) {
                    const image = this.images.get(input.ImageIds[0]);
                    if (!image || image.region !== region) throw awsError("InvalidAMIID.NotFound", `The image id '[${input.ImageIds[0]}]' does not exist`);
                    if (image.deregistered) return { Images: [] };
                    const state = next(image.states);
                    image.served.push(state);
                    return { Images: [this.imageShape(image, state)] };
                }
                assert.deepEqual(input.Owners, ["self"]);
                if (this.hiddenByName > 0) {
                    this.hiddenByName--;
                    return { Images: [] };
                }
                const name = input.Filters?.find((f: { Name: string }) => f.Name === "name")?.Values?.[0];
                const found = [...this.images.values()].filter((i) => i.region === region && i.name === name && !i.deregistered);
                return { Images: found.map((i) => this.imageShape(i, i.states[0])) };
            }
            case "DescribeSnapshots":
                // The image wait's first look searches by description: these scripted images have none.
                if (input.Filters) return { Snapshots: [] };
                return {
                    Snapshots: (input.SnapshotIds as string[]).map((id) => {
                        const s = this.snapshots.get(id);
                        if (!s || s.deleted) throw awsError("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
                        const step = next(s.steps);
                        return { SnapshotId: id, State: step.state, Progress: step.progress, Tags: toTags(s.tags) };
                    }),
                };
            case "DeregisterImage": {
                this.image(region, input.ImageId).deregistered = true;
                return { Return: true };
            }
            case "DeleteSnapshot": {
                const s = this.snapshots.get(input.SnapshotId);
                if (!s || s.deleted) throw awsError("InvalidSnapshot.NotFound", `The snapshot '${input.SnapshotId}' does not exist.`);
                s.deleted = true;
                return {};
            }
            case "CreateTags":
            case "DeleteTags": {
                for (const id of input.Resources) {
                    const target = id.startsWith("ami-") ? this.image(region, id) : this.snapshots.get(id)!;
                    for (const t of input.Tags) {
                        if (action === "CreateTags") target.tags[t.Key] = t.Value;
                        else delete target.tags[t.Key];
                    }
                }
                return {};
            }
            case "ModifyImageAttribute": {
                const image = this.image(region, input.ImageId);
                if (input.Description) image.description = input.Description.Value;
                const key = (p: Record<string, string>) => JSON.stringify(p);
                for (const p of input.LaunchPermission?.Remove ?? []) image.launch = image.launch.filter((q) => key(q) !== key(p));
                for (const p of input.LaunchPermission?.Add ?? []) if (!image.launch.some((q) => key(q) === key(p))) image.launch.push(p);
                return {};
            }
            case "DescribeImageAttribute":
                return { ImageId: input.ImageId, LaunchPermissions: [...this.image(region, input.ImageId).launch] };
            case "EnableImageDeprecation":
                this.image(region, input.ImageId).deprecationTime = new Date(Math.round((input.DeprecateAt as Date).getTime() / 60_000) * 60_000).toISOString();
                return { Return: true };
            case "DisableImageDeprecation":
                this.image(region, input.ImageId).deprecationTime = undefined;
                return { Return: true };
            case "ModifySnapshotAttribute": {
                const s = this.snapshots.get(input.SnapshotId)!;
                for (const p of input.CreateVolumePermission?.Remove ?? []) s.volumeUsers = s.volumeUsers.filter((u) => u !== p.UserId);
                for (const p of input.CreateVolumePermission?.Add ?? []) if (!s.volumeUsers.includes(p.UserId)) s.volumeUsers.push(p.UserId);
                return {};
            }
            case "DescribeSnapshotAttribute":
                return { CreateVolumePermissions: this.snapshots.get(input.SnapshotId)!.volumeUsers.map((UserId) => ({ UserId })) };
        }
        throw new Error(`the fake EC2 does not know ${action}`);
    };
}

/** Stubs the EC2 clients of both regions with one fake; calls are logged with their region. */
function stubRegions(ec2: FakeEc2): { calls: Array<RecordedCall & { region: string }>; restore: () => void } {
    const calls: Array<RecordedCall & { region: string }> = [];
    const stub = stubEc2(REGION, (action, input) => {
        calls.push({ region: REGION, action, input });
        return ec2.handler(REGION, action, input);
    });
    // stubEc2 resets the client cache, so the second region is patched by hand.
    (ec2Client(SOURCE_REGION) as unknown as { send: unknown }).send = async (command: { constructor: { name: string }; input: Record<string, any> }) => {
        const action = command.constructor.name.replace(/Command$/, "");
        calls.push({ region: SOURCE_REGION, action, input: command.input });
        return ec2.handler(SOURCE_REGION, action, command.input);
    };
    return { calls, restore: stub.restore };
}

/** Inputs as `check` would produce them (plus the dynamic-provider host's `__provider`). */
function inputsWith(over: Record<string, unknown> = {}): Record<string, any> {
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

async function rejection(p: Promise<unknown>): Promise<Error> {
    try {
        await p;
    } catch (err) {
        return err as Error;
    }
    assert.fail("expected the call to fail");
}

let provider: pulumi.dynamic.ResourceProvider;
const inputsOf = (calls: RecordedCall[], action: string) => calls.filter((c) => c.action === action).map((c) => c.input);
const withoutProvider = (outs: Record<string, unknown>) => {
    const { __provider, ...rest } = outs;
    return rest;
};

describe("ImageCopy provider", function () {
    let ec2: FakeEc2;
    let calls: Array<RecordedCall & { region: string }>;
    let undo: Array<() => void>;

    beforeEach(function () {
        ec2 = new FakeEc2();
        const stub = stubRegions(ec2);
        calls = stub.calls;
        provider = testProviders(new FakeClock()).ImageCopy;
        undo = [stub.restore];
    });
    afterEach(function () {
        for (const u of undo.reverse()) u();
    });

    async function created(over: Record<string, unknown> = {}): Promise<ImageCopyOutputs> {
        const { outs } = await provider.create(inputsWith(over));
        calls.length = 0;
        return outs as ImageCopyOutputs;
    }

    describe("create", function () {
        it("CopyImage in the destination with a derived ClientToken and marker tags, then waits for the copy and every snapshot", async function () {
            const { id, outs } = await provider.create(inputsWith({ description: "golden web" }));
            const [copy] = inputsOf(calls, "CopyImage");
            assert.equal(countByAction(calls).CopyImage, 1);
            assert.ok(calls.filter((c) => c.action === "CopyImage").every((c) => c.region === REGION), "CopyImage goes to the destination region");
            const { ClientToken, ...request } = copy;
            assert.deepEqual(
                { ...request, TagSpecifications: undefined },
                { SourceImageId: SOURCE, SourceRegion: SOURCE_REGION, Name: NAME, Description: "golden web", Encrypted: false, KmsKeyId: undefined, CopyImageTags: false, SnapshotCopyCompletionDurationMinutes: undefined, TagSpecifications: undefined },
            );
            assert.equal(ClientToken, copyClientToken({ region: REGION, request }));
            assert.match(ClientToken, /^golden-ami-[0-9a-f]{40}$/);
            assert.ok(ClientToken.length <= 64);
            const spec = (type: string) => fromTags(copy.TagSpecifications.find((s: { ResourceType: string }) => s.ResourceType === type)?.Tags);
            assert.deepEqual(spec("image"), { team: "platform", ...MARKERS });
            assert.deepEqual(spec("snapshot"), { backup: "daily", ...MARKERS });

            const image = ec2.copies()[0];
            assert.equal(id, image.id);
            assert.deepEqual(image.served.slice(0, 3), ["pending", "pending", "available"]);
            assert.equal(outs.imageId, image.id);
            assert.equal(outs.state, "available");
            assert.deepEqual(outs.snapshotIds, image.snapshotIds);
            assert.equal(outs.region, REGION);
            assert.equal(outs.sourceImageId, SOURCE);
            assert.equal(outs.sourceRegion, SOURCE_REGION);
            assert.equal(outs.encrypted, false);
            assert.deepEqual(outs.tags, { team: "platform" });
            assert.deepEqual(outs.snapshotTags, { backup: "daily" });
            assert.equal(outs.description, "golden web");
            assert.equal(outs.complete, true);
            assert.equal(outs.__provider, "x");
            assert.equal(outs.copiedTags, undefined);
        });

        it("the same request gives the same ClientToken; another request another one", async function () {
            await provider.create(inputsWith());
            const first = inputsOf(calls, "CopyImage")[0].ClientToken;
            const again = new FakeEc2();
            undo.push(stubRegions(again).restore);
            const stubbed = (ec2Client(REGION) as unknown as { send: (c: unknown) => unknown });
            const log: string[] = [];
            const send = stubbed.send;
            stubbed.send = async (c: any) => {
                if (c.constructor.name === "CopyImageCommand") log.push(c.input.ClientToken);
                return send(c);
            };
            await provider.create(inputsWith());
            await provider.create(inputsWith({ name: "other-name", tags: { team: "data" } }));
            assert.equal(log[0], first);
            assert.notEqual(log[1], first);
        });

        it("encrypted with a KMS key, time-based: Encrypted, KmsKeyId and SnapshotCopyCompletionDurationMinutes reach CopyImage", async function () {
            const { outs } = await provider.create(inputsWith({ encrypted: true, kmsKeyId: KEY_ARN, snapshotCopyCompletionDurationMinutes: 30 }));
            const [copy] = inputsOf(calls, "CopyImage");
            assert.equal(copy.Encrypted, true);
            assert.equal(copy.KmsKeyId, KEY_ARN);
            assert.equal(copy.SnapshotCopyCompletionDurationMinutes, 30);
            assert.equal(outs.kmsKeyId, KEY_ARN);
            for (const m of outs.blockDeviceMappings) {
                assert.equal(m.encrypted, true);
                assert.equal(m.kmsKeyId, KEY_ARN);
            }
        });

        it("a retried create whose first copy is not yet visible by name: the ClientToken makes EC2 answer with the same copy", async function () {
            ec2.hiddenByName = 2;
            const first = await provider.create(inputsWith());
            const second = await provider.create(inputsWith());
            assert.equal(countByAction(calls).CopyImage, 2);
            assert.equal(second.id, first.id);
            assert.equal(ec2.copies().length, 1, "one copy");
        });

        it("after a destroy, the same request again makes a new copy (EC2 answers the remembered token with the deleted copy)", async function () {
            const first = await provider.create(inputsWith());
            await provider.delete!(first.id, first.outs);
            calls.length = 0;
            const second = await provider.create(inputsWith());
            assert.notEqual(second.id, first.id);
            assert.equal(second.outs.state, "available");
            const tokens = inputsOf(calls, "CopyImage").map((i) => i.ClientToken);
            assert.equal(tokens.length, 2);
            assert.notEqual(tokens[1], tokens[0], "stepped over the stale token");
            // A retry of that create follows the same token chain to the same copy.
            ec2.hiddenByName = 1;
            const third = await provider.create(inputsWith());
            assert.equal(third.id, second.id);
            assert.equal(ec2.copies().filter((c) => !c.deregistered).length, 1);
        });

        it("adopts a copy of the same name with this source's markers: no CopyImage, waits for it", async function () {
            const earlier = ec2.seedImage({ id: "ami-0c000000000000099", name: NAME, tags: { ...MARKERS, team: "platform" }, states: ["pending", "available"] });
            const { id, outs } = await provider.create(inputsWith());
            assert.equal(countByAction(calls).CopyImage, undefined);
            assert.equal(id, earlier.id);
            assert.equal(outs.state, "available");
            assert.deepEqual(earlier.served.slice(0, 2), ["pending", "available"]);
        });

        const foreign: Array<[string, Tags]> = [
            ["without marker tags", { team: "platform" }],
            ["copied from another source", { ...MARKERS, [SOURCE_IMAGE]: `${SOURCE_REGION}/ami-0fedcba9876543210` }],
        ];
        for (const [what, tags] of foreign) {
            it(`an image of the same name ${what}: an error naming it, no CopyImage, the image untouched`, async function () {
                const other = ec2.seedImage({ id: "ami-0c000000000000098", name: NAME, tags });
                const err = await rejection(provider.create(inputsWith()));
                assert.match(err.message, new RegExp(other.id));
                assert.match(err.message, /choose another name/);
                assert.equal(countByAction(calls).CopyImage, undefined);
                assert.ok(!other.deregistered);
            });
        }

        it("a copy into the source's own region under the source's name: refused, the source untouched", async function () {
            ec2.images.get(SOURCE)!.region = REGION;
            const err = await rejection(provider.create(inputsWith({ sourceRegion: REGION, name: SOURCE_NAME })));
            assert.match(err.message, /is the name of the source image/);
            assert.equal(countByAction(calls).CopyImage, undefined);
            assert.equal(ec2.images.get(SOURCE)!.deregistered, false);
        });

        it("a copy that ends failed: error quoting its StateReason, copy and snapshots deleted, not a partial create", async function () {
            ec2.newCopyStates = ["pending", "failed"];
            ec2.newCopyStateReason = { Code: "Client.InvalidKMSKey.InvalidState", Message: "The KMS key is pending deletion" };
            const err = await rejection(provider.create(inputsWith()));
            assert.ok(err instanceof WaitFailedError, String(err));
            assert.ok(!(err instanceof PartialCreateError));
            assert.match(err.message, /The KMS key is pending deletion/);
            const copy = ec2.copies()[0];
            assert.match(err.message, new RegExp(copy.id));
            assert.ok(copy.deregistered);
            for (const s of copy.snapshotIds) assert.ok(ec2.snapshots.get(s)!.deleted, `${s} orphaned`);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId).sort(), [...copy.snapshotIds].sort());
        });

        it("a copy still pending after imageTimeoutMinutes: PartialCreateError with the copy's ID, kept for the next up", async function () {
            ec2.newCopyStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const err = await rejection(provider.create(inputsWith({ imageTimeoutMinutes: 2 })));
            assert.ok(err instanceof PartialCreateError, String(err));
            const copy = ec2.copies()[0];
            assert.equal(err.id, copy.id);
            assert.equal(err.properties.__provider, "x");
            assert.equal(err.properties.state, "pending");
            assert.equal(err.properties.complete, false);
            assert.equal(err.properties.sourceImageId, SOURCE);
            assert.match(err.reasons[0], /timed out after 2 min/);
            assert.equal(countByAction(calls).DeregisterImage, undefined);

            // The next up resumes it.
            copy.states = ["pending", "available"];
            for (const s of copy.snapshotIds) ec2.snapshots.get(s)!.steps = [{ state: "completed", progress: "100%" }];
            const { outs } = await provider.update!(err.id, err.properties as unknown as ImageCopyOutputs, inputsWith() as never);
            assert.equal(outs.state, "available");
            assert.equal(outs.complete, true);
            assert.deepEqual(outs.snapshotIds, copy.snapshotIds);
            assert.equal(countByAction(calls).CopyImage, 1);
        });

        it("copyImageTags: the source's tags are on the copy but kept apart from tags (copiedTags)", async function () {
            const { outs } = await provider.create(inputsWith({ copyImageTags: true, tags: { env: "prod" } }));
            assert.equal(inputsOf(calls, "CopyImage")[0].CopyImageTags, true);
            const copy = ec2.copies()[0];
            assert.equal(copy.tags.team, "platform");
            assert.deepEqual(outs.tags, { env: "prod" });
            assert.deepEqual(outs.copiedTags, { team: "platform" });
            const { props } = await provider.read!(copy.id, outs as ImageCopyOutputs);
            assert.deepEqual(props, withoutProvider(outs));
            const d = await provider.diff!(copy.id, outs as ImageCopyOutputs, inputsWith({ copyImageTags: true, tags: { env: "prod" } }));
            assert.equal(d.changes, false);
        });
    });

    describe("distribution", function () {
        const deprecateAt = `${new Date().getUTCFullYear() + 1}-06-01T08:00:29Z`;

        it("create shares and deprecates once the copy is available; read right after is identical", async function () {
            const { id, outs } = await provider.create(inputsWith({ launchAccounts: [B, A], shareSnapshots: true, deprecateAt }));
            const copy = ec2.copies()[0];
            assert.deepEqual(copy.launch, [{ UserId: A }, { UserId: B }]);
            for (const s of copy.snapshotIds) assert.deepEqual(ec2.snapshots.get(s)!.volumeUsers.sort(), [A, B]);
            assert.equal(copy.deprecationTime, new Date(Math.round(Date.parse(deprecateAt) / 60_000) * 60_000).toISOString());
            assert.deepEqual(outs.launchAccounts, [B, A]);
            assert.equal(outs.deprecateAt, deprecateAt);
            const { props } = await provider.read!(id, outs as ImageCopyOutputs);
            assert.deepEqual(props, withoutProvider(outs));
        });

        it("a failing distribution step: partial create with complete false; the next up applies the rest from what is live", async function () {
            ec2.fail("ModifyImageAttribute", awsError("UnauthorizedOperation", "You are not authorized", 403));
            const err = await rejection(provider.create(inputsWith({ launchAccounts: [A], deprecateAt })));
            assert.ok(err instanceof PartialCreateError, String(err));
            assert.match(err.message, /UnauthorizedOperation/);
            const olds = err.properties as unknown as ImageCopyOutputs;
            assert.equal(olds.complete, false);
            assert.equal(olds.state, "available");
            assert.equal(countByAction(calls).DeregisterImage, undefined);
            calls.length = 0;
            const { outs } = await provider.update!(err.id, olds, inputsWith({ launchAccounts: [A], deprecateAt }) as never);
            assert.equal(outs.complete, true);
            assert.equal(countByAction(calls).EnableImageDeprecation, undefined, "already set before the failure: not set again");
            assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: err.id, LaunchPermission: { Add: [{ UserId: A }] } }]);
        });

        it("update: removing one of two accounts removes exactly that one; clearing deprecateAt clears it", async function () {
            const olds = await created({ launchAccounts: [A, B], deprecateAt });
            const { outs } = await provider.update!(olds.imageId, olds, inputsWith({ launchAccounts: [A] }) as never);
            assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: olds.imageId, LaunchPermission: { Remove: [{ UserId: B }] } }]);
            assert.deepEqual(inputsOf(calls, "DisableImageDeprecation"), [{ ImageId: olds.imageId }]);
            assert.deepEqual(ec2.copies()[0].launch, [{ UserId: A }]);
            assert.equal(countByAction(calls).CopyImage, undefined);
            const { props } = await provider.read!(olds.imageId, outs as ImageCopyOutputs);
            assert.deepEqual(props, withoutProvider(outs));
        });

        it("read reports a launch permission added outside Pulumi", async function () {
            const olds = await created({ launchAccounts: [A] });
            ec2.copies()[0].launch.push({ UserId: B });
            const { props } = await provider.read!(olds.imageId, olds);
            assert.deepEqual(props.launchAccounts, [A, B]);
        });
    });

    describe("update", function () {
        it("tags: exactly the difference on the copy and on its snapshots", async function () {
            const olds = await created({ tags: { team: "platform", env: "prod" }, snapshotTags: { backup: "daily", tier: "1" } });
            const { outs } = await provider.update!(olds.imageId, olds, inputsWith({ tags: { team: "data" }, snapshotTags: { backup: "daily" } }) as never);
            assert.deepEqual(inputsOf(calls, "CreateTags"), [{ Resources: [olds.imageId], Tags: [{ Key: "team", Value: "data" }] }]);
            assert.deepEqual(inputsOf(calls, "DeleteTags"), [
                { Resources: [olds.imageId], Tags: [{ Key: "env" }] },
                { Resources: olds.snapshotIds, Tags: [{ Key: "tier" }] },
            ]);
            assert.deepEqual(outs.tags, { team: "data" });
            assert.deepEqual(ec2.copies()[0].tags, { team: "data", ...MARKERS });
        });

        it("description: ModifyImageAttribute", async function () {
            const olds = await created();
            const { outs } = await provider.update!(olds.imageId, olds, inputsWith({ description: "v2" }) as never);
            assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: olds.imageId, Description: { Value: "v2" } }]);
            assert.equal(outs.description, "v2");
        });

        it("copyImageTags off removes the copied tags (not the declared ones); on copies the source's tags again", async function () {
            const olds = await created({ copyImageTags: true, tags: { env: "prod" } });
            const { outs: off } = await provider.update!(olds.imageId, olds, inputsWith({ copyImageTags: false, tags: { env: "prod" } }) as never);
            // golden-ami's own markers copied from the source stay: they are never shown or managed as tags.
            assert.deepEqual(ec2.copies()[0].tags, { env: "prod", ...MARKERS, "golden-ami:source-instance": "i-0123456789abcdef0" });
            assert.equal(off.copiedTags, undefined);
            assert.deepEqual(off.tags, { env: "prod" });
            const { outs: on } = await provider.update!(olds.imageId, off as ImageCopyOutputs, inputsWith({ copyImageTags: true, tags: { env: "prod" } }) as never);
            assert.deepEqual(on.copiedTags, { team: "platform" });
            assert.deepEqual(on.tags, { env: "prod" });
            assert.equal(ec2.copies()[0].tags.team, "platform");
        });
    });

    describe("delete", function () {
        it("deregisters the copy and deletes its own snapshots (never the source's)", async function () {
            const outs = await created();
            await provider.delete!(outs.imageId, outs);
            assert.deepEqual(inputsOf(calls, "DeregisterImage"), [{ ImageId: outs.imageId }]);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
            assert.ok(calls.every((c) => c.region === REGION));
            const source = ec2.images.get(SOURCE)!;
            assert.ok(!source.deregistered);
            for (const s of source.snapshotIds) assert.ok(!ec2.snapshots.get(s)!.deleted);
        });

        it("a copy already gone: still deletes the snapshots known from state", async function () {
            const outs = await created();
            ec2.copies()[0].deregistered = true;
            await provider.delete!(outs.imageId, outs);
            assert.equal(countByAction(calls).DeregisterImage, undefined);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
        });
    });

    describe("read", function () {
        it("reports the live copy as create did; a gone copy is kept, deregistered, while its snapshots are left; then has no ID", async function () {
            const outs = await created({ launchAccounts: [A], public: false });
            const { id, props } = await provider.read!(outs.imageId, outs);
            assert.equal(id, outs.imageId);
            assert.deepEqual(props, withoutProvider(outs as unknown as Record<string, unknown>));
            ec2.copies()[0].deregistered = true;
            const marked = await provider.read!(outs.imageId, outs);
            assert.equal(marked.id, outs.imageId);
            assert.equal(marked.props.state, "deregistered");
            assert.deepEqual(marked.props.snapshotIds, outs.snapshotIds);
            assert.deepEqual((await provider.diff!(outs.imageId, marked.props, inputsWith({ launchAccounts: [A], public: false }) as any)).replaces, ["state"]);
            for (const s of outs.snapshotIds) ec2.snapshots.get(s)!.deleted = true;
            assert.equal((await provider.read!(outs.imageId, outs)).id, undefined);
        });
    });
});

describe("ImageCopy provider: check", function () {
    let savedEnv: Record<string, string | undefined>;
    let ec2: FakeEc2;
    let undo: () => void;

    beforeEach(function () {
        savedEnv = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
        setConfiguredRegion(undefined);
        ec2 = new FakeEc2();
        undo = stubRegions(ec2).restore;
    });
    afterEach(function () {
        undo();
        for (const [k, v] of Object.entries(savedEnv)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    });

    const valid = (over: Record<string, unknown> = {}) => ({ sourceImageId: SOURCE, sourceRegion: SOURCE_REGION, region: REGION, resourceUrn: URN, ...over });
    async function check(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
        const result = await provider.check!(olds, news);
        return { inputs: result.inputs as Record<string, any>, failures: result.failures ?? [] };
    }

    const good: Array<[string, Record<string, unknown>]> = [
        ["the minimum", {}],
        ["everything", {
            name: "web (copy) [eu]", description: "d".repeat(255), encrypted: true, kmsKeyId: KEY_ARN, copyImageTags: true,
            tags: { team: "platform" }, snapshotTags: { backup: "no" }, snapshotCopyCompletionDurationMinutes: 2880, imageTimeoutMinutes: 120,
            launchAccounts: [A], shareSnapshots: true, deregistrationProtection: true,
        }],
        ["a key ID", { kmsKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" }],
        ["a multi-Region key ID", { kmsKeyId: `mrk-${"0123456789abcdef".repeat(2)}` }],
        ["an alias", { kmsKeyId: "alias/golden-ami" }],
        ["the AWS managed EBS alias", { encrypted: true, kmsKeyId: "alias/aws/ebs" }],
        ["an alias ARN of the region", { kmsKeyId: `arn:aws:kms:${REGION}:123456789012:alias/golden` }],
        ["a completion duration of 15 minutes", { snapshotCopyCompletionDurationMinutes: 15 }],
        ["a same-region copy under another name", { region: SOURCE_REGION, name: "web-golden-again" }],
        ["a same-region copy with a derived name", { region: SOURCE_REGION }],
    ];
    for (const [what, over] of good) {
        it(`accepts ${what}`, async function () {
            const { failures } = await check(valid(over));
            assert.deepEqual(failures, []);
        });
    }

    const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
        ["a missing sourceImageId", { sourceImageId: undefined }, "sourceImageId", /sourceImageId is required/],
        ["a malformed sourceImageId", { sourceImageId: "ami-12" }, "sourceImageId", /"ami-12" is not a valid image ID/],
        ["an instance ID as sourceImageId", { sourceImageId: "i-0123456789abcdef0" }, "sourceImageId", /not a valid image ID/],
        ["a snapshot ID as sourceImageId", { sourceImageId: "snap-0123456789abcdef0" }, "sourceImageId", /not a valid image ID/],
        ["an availability zone as region", { region: "eu-west-1a" }, "region", /availability zone, not a region; use "eu-west-1"/],
        ["an availability zone as sourceRegion", { sourceRegion: "us-east-1c" }, "sourceRegion", /use "us-east-1"/],
        ["a Wavelength Zone as region", { region: "us-east-1-wl1-bos-wlz-1" }, "region", /is a zone \(Local or Wavelength Zone\), not a region; use "us-east-1"/],
        ["a region that is no region at all", { region: "ireland" }, "region", /not an AWS region name/],
        ["a KMS key ARN of another region", { encrypted: true, kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }, "kmsKeyId", /is in us-east-1, but the copy is made in eu-west-1; KMS keys are regional/],
        ["a KMS alias ARN of another region", { kmsKeyId: "arn:aws:kms:eu-west-2:123456789012:alias/golden" }, "kmsKeyId", /is in eu-west-2/],
        ["a KMS key that is no key", { kmsKeyId: "my-key" }, "kmsKeyId", /is not a KMS key ID, key ARN, alias or alias ARN/],
        ["a KMS key ARN of another service", { kmsKeyId: "arn:aws:iam::123456789012:role/x" }, "kmsKeyId", /is not a KMS key ID/],
        ["a KMS key ARN with a bad key ID", { kmsKeyId: `arn:aws:kms:${REGION}:123456789012:key/nope` }, "kmsKeyId", /not a valid KMS key or alias ARN/],
        ["encrypted false with a kmsKeyId", { encrypted: false, kmsKeyId: KEY_ARN }, "kmsKeyId", /encrypted is false; set encrypted to true/],
        ["encrypted as a string", { encrypted: "yes" }, "encrypted", /must be true or false/],
        ["a completion duration of 20 minutes", { snapshotCopyCompletionDurationMinutes: 20 }, "snapshotCopyCompletionDurationMinutes", /from 15 to 2880 \(48 hours\) in steps of 15, not 20/],
        ["a completion duration of 0", { snapshotCopyCompletionDurationMinutes: 0 }, "snapshotCopyCompletionDurationMinutes", /from 15 to 2880/],
        ["a completion duration over 48 hours", { snapshotCopyCompletionDurationMinutes: 2895 }, "snapshotCopyCompletionDurationMinutes", /not 2895/],
        ["a completion duration as a string", { snapshotCopyCompletionDurationMinutes: "15" }, "snapshotCopyCompletionDurationMinutes", /whole number/],
        ["a fractional completion duration", { snapshotCopyCompletionDurationMinutes: 15.5 }, "snapshotCopyCompletionDurationMinutes", /whole number/],
        ["a same-region copy under the source's own name", { region: SOURCE_REGION, name: SOURCE_NAME }, "name", /is the name of the source image ami-0123456789abcdef0; a copy into its own region \(us-east-1\) needs another name/],
        ["a bad AMI name", { name: "web!copy" }, "name", /not a valid AMI name/],
        ["a description too long", { description: "d".repeat(256) }, "description", /the limit is 255/],
        ["copyImageTags as a string", { copyImageTags: "yes" }, "copyImageTags", /must be true or false/],
        ["a tag key starting with aws:", { tags: { "aws:x": "y" } }, "tags.aws:x", /reserved by AWS/],
        ["a snapshot tag key starting with golden-ami:", { snapshotTags: { "golden-ami:source-image": "x" } }, "snapshotTags.golden-ami:source-image", /marker tags/],
        ["imageTimeoutMinutes 0", { imageTimeoutMinutes: 0 }, "imageTimeoutMinutes", /greater than 0/],
        ["a bad launch account", { launchAccounts: ["12345"] }, "launchAccounts", /is not a 12-digit AWS account ID/],
        ["deprecateAt in the past", { deprecateAt: "2020-01-01T00:00:00Z" }, "deprecateAt", /not in the future/],
        ["shareSnapshots without accounts", { shareSnapshots: true }, "shareSnapshots", /launchAccounts, which is empty/],
    ];
    for (const [what, over, property, fragment] of bad) {
        it(`refuses ${what} (${property})`, async function () {
            const { failures } = await check(valid(over));
            const hit = failures.find((f) => f.property === property);
            assert.ok(hit, `no failure for ${property} in ${JSON.stringify(failures)}`);
            assert.match(hit.reason, fragment);
            assert.deepEqual(failures.filter((f) => f.property !== property), [], "only the bad property is blamed");
        });
    }

    it("no region anywhere: failures on region and sourceRegion", async function () {
        delete process.env.AWS_REGION;
        delete process.env.AWS_DEFAULT_REGION;
        const { failures } = await check(valid({ region: undefined, sourceRegion: undefined }));
        assert.ok(failures.some((f) => f.property === "region" && /no region/.test(f.reason)), JSON.stringify(failures));
        assert.ok(failures.some((f) => f.property === "sourceRegion" && /no region/.test(f.reason)), JSON.stringify(failures));
    });

    it("defaults: both regions from AWS_REGION, encrypted false, copyImageTags false, imageTimeoutMinutes 60; a key implies encrypted", async function () {
        process.env.AWS_REGION = "eu-central-1";
        delete process.env.AWS_DEFAULT_REGION;
        const { inputs, failures } = await check({ sourceImageId: SOURCE, resourceUrn: URN });
        assert.deepEqual(failures, []);
        assert.equal(inputs.region, "eu-central-1");
        assert.equal(inputs.sourceRegion, "eu-central-1");
        assert.equal(inputs.encrypted, false);
        assert.equal(inputs.copyImageTags, false);
        assert.equal(inputs.imageTimeoutMinutes, 60);
        assert.equal((await check(valid({ kmsKeyId: KEY_ARN }))).inputs.encrypted, true);
    });

    it("the region check names the property and says what to use, for an AZ given as either region", async function () {
        const { failures } = await check(valid({ region: "eu-west-1a", sourceRegion: "us-east-1b" }));
        assert.deepEqual(failures.map((f) => f.property).sort(), ["region", "sourceRegion"]);
    });

    it("derives the name from the resource name plus 12 hex digits, stable for equal inputs", async function () {
        const a = (await check(valid())).inputs.name;
        assert.match(a, /^web-eu-[0-9a-f]{12}$/);
        assert.equal((await check(valid())).inputs.name, a);
        // What does not define the copy leaves the name alone.
        const same = [
            valid({ tags: { team: "x" } }), valid({ description: "d" }), valid({ launchAccounts: [A] }), valid({ copyImageTags: true }),
            valid({ encrypted: false }), valid({ snapshotCopyCompletionDurationMinutes: 15 }),
        ];
        for (const n of same) assert.equal((await check(n)).inputs.name, a, JSON.stringify(n));
    });

    it("the derived name changes with source image, source region, region, encryption and key", async function () {
        const base = (await check(valid())).inputs.name;
        const names = [
            (await check(valid({ sourceImageId: "ami-0fedcba9876543210" }))).inputs.name,
            (await check(valid({ sourceRegion: "us-west-2" }))).inputs.name,
            (await check(valid({ region: "eu-central-1" }))).inputs.name,
            (await check(valid({ encrypted: true }))).inputs.name,
            (await check(valid({ encrypted: true, kmsKeyId: KEY_ARN }))).inputs.name,
        ];
        assert.equal(new Set([base, ...names]).size, names.length + 1, JSON.stringify([base, ...names]));
    });

    it("a renamed resource keeps the name its copy already has", async function () {
        const first = (await check(valid())).inputs.name;
        const renamed = await check(valid({ resourceUrn: URN.replace("::web-eu", "::web-europe") }), { name: first });
        assert.equal(renamed.inputs.name, first);
    });

    it("unknown values (preview) are not failures, and leave the name to be derived later", async function () {
        const { inputs, failures } = await check({
            sourceImageId: UNKNOWN, sourceRegion: UNKNOWN, region: UNKNOWN, name: undefined, description: UNKNOWN, encrypted: UNKNOWN,
            kmsKeyId: UNKNOWN, copyImageTags: UNKNOWN, tags: { team: UNKNOWN }, snapshotTags: UNKNOWN,
            snapshotCopyCompletionDurationMinutes: UNKNOWN, imageTimeoutMinutes: UNKNOWN, launchAccounts: UNKNOWN, resourceUrn: URN,
        });
        assert.deepEqual(failures, []);
        assert.equal(inputs.name, undefined);
    });

    it("a same-region name check that cannot reach EC2 lets create judge instead of failing check", async function () {
        ec2.fail("DescribeImages", awsError("AuthFailure", "no credentials", 401));
        const { failures } = await check(valid({ region: SOURCE_REGION, name: SOURCE_NAME }));
        assert.deepEqual(failures, []);
    });
});

describe("ImageCopy provider: diff", function () {
    const olds = {
        ...inputsWith({ description: "golden", launchAccounts: [A, B], deprecateAt: "2030-01-01T00:00:10Z" }),
        imageId: "ami-0c000000000000001",
        snapshotIds: ["snap-00000000000000001"],
        state: "available",
        blockDeviceMappings: [],
        complete: true,
    } as unknown as ImageCopyOutputs;
    const news = (over: Record<string, unknown> = {}) => inputsWith({ description: "golden", launchAccounts: [A, B], deprecateAt: "2030-01-01T00:00:10Z", ...over });
    const diff = (n: Record<string, unknown>) => provider.diff!(olds.imageId, olds, n);

    it("nothing changed (or only the URN, list order, a time in the same minute): no changes", async function () {
        for (const over of [{}, { resourceUrn: "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:ImageCopy::renamed" }, { launchAccounts: [B, A] }, { deprecateAt: "2030-01-01T00:00:20Z" }, { public: false }]) {
            const d = await diff(news(over));
            assert.equal(d.changes, false, JSON.stringify(over));
            assert.deepEqual(d.replaces, []);
        }
    });

    const replacing: Array<[string, unknown]> = [
        ["sourceImageId", "ami-0fedcba9876543210"],
        ["sourceRegion", "us-west-2"],
        ["region", "eu-central-1"],
        ["name", "web-golden-eu-2"],
        ["encrypted", true],
        ["kmsKeyId", KEY_ARN],
    ];
    for (const [key, value] of replacing) {
        it(`${key} changed: replaces [${key}]`, async function () {
            const d = await diff(news({ [key]: value }));
            assert.equal(d.changes, true);
            assert.deepEqual(d.replaces, [key]);
        });
    }

    const inPlace: Array<[string, unknown]> = [
        ["tags", { team: "data" }],
        ["snapshotTags", undefined],
        ["description", "v2"],
        ["copyImageTags", true],
        ["imageTimeoutMinutes", 90],
        ["launchAccounts", [A]],
        ["public", true],
        ["shareSnapshots", true],
        ["deprecateAt", undefined],
        ["deregistrationProtection", true],
    ];
    for (const [key, value] of inPlace) {
        it(`${key} → ${JSON.stringify(value)}: an update in place`, async function () {
            const d = await diff(news({ [key]: value }));
            assert.equal(d.changes, true);
            assert.deepEqual(d.replaces, []);
        });
    }
});

describe("ImageCopy provider: what Pulumi stores in state", function () {
    it("the serialized provider is the small shim that loads the runtime by name, with no credential or endpoint in it", async function () {
        process.env.AWS_SECRET_ACCESS_KEY_PROBE = "must-not-leak";
        try {
            const provider = providerShim("ImageCopy");
            const started = Date.now();
            const { text } = await pulumi.runtime.serializeFunction(() => provider);
            assert.ok(Date.now() - started < 10_000, "serialized quickly");
            assert.ok(text.length < 4_000, `serialized to ${text.length} characters`);
            assert.match(text, /golden-ami\/dist\/providers\/runtime/);
            assert.match(text, /ImageCopy/);
            assert.doesNotMatch(text, /must-not-leak|AWS_ACCESS_KEY_ID|AWS_ENDPOINT_URL|client-ec2/);
        } finally {
            delete process.env.AWS_SECRET_ACCESS_KEY_PROBE;
        }
    });
});
