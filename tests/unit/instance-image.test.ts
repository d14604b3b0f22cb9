// Unit tests of the InstanceImage dynamic provider's state machine, against a scripted EC2
// (answers in the SDK's output shapes) and virtual time (FakeClock: no real sleeps).
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { GoldenAmiError } from "../../providers/core/errors";
import { setConfiguredRegion } from "../../providers/core/region";
import { WaitFailedError } from "../../providers/ec2/waiter";
import { InstanceImageOutputs } from "../../providers/lifecycle/instance-image";
import { PartialCreateError } from "../../providers/lifecycle/partial";
import { awsError, countByAction, FakeClock, RecordedCall, stubEc2, testProviders } from "../support/fakes";

const REGION = "us-east-1";
const INSTANCE = "i-0123456789abcdef0";
const OTHER_INSTANCE = "i-0fedcba9876543210";
const NEW_IMAGE = "ami-0aaaaaaaaaaaaaaa1";
const EARLIER_IMAGE = "ami-0bbbbbbbbbbbbbbb2";
const NAME = "web-golden";
const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:InstanceImage::web";
const MANAGED_BY = "golden-ami:managed-by";
const SOURCE_INSTANCE = "golden-ami:source-instance";
const MARKERS = { [MANAGED_BY]: "golden-ami", [SOURCE_INSTANCE]: INSTANCE };

type Tags = Record<string, string>;
interface SnapStep {
    state: "pending" | "completed" | "error";
    progress: string;
}
interface FakeImage {
    id: string;
    name: string;
    description?: string;
    tags: Tags;
    /** Image state per DescribeImages-by-ID; the last one repeats. */
    states: string[];
    stateReason?: { Code: string; Message: string };
    snapshotIds: string[];
    deregistered: boolean;
    served: string[];
    /** Launch permissions, as DescribeImageAttribute answers them. */
    launch?: Array<Record<string, string>>;
    deprecationTime?: string;
    protection?: string;
}
interface FakeSnapshot {
    id: string;
    tags: Tags;
    steps: SnapStep[];
    deleted: boolean;
    served: string[];
    /** Accounts with create-volume permission. */
    volumeUsers?: string[];
}
interface Fault {
    action: string;
    error: Error;
    times: number;
    when?: (input: Record<string, any>) => boolean;
}

const DEVICES = ["/dev/xvda", "/dev/sdf"];

/** Advances a script: returns its head and drops it, unless it is the last entry (which repeats). */
function next<T>(script: T[]): T {
    return script.length > 1 ? script.shift()! : script[0];
}

const toTags = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const fromTags = (list: Array<{ Key?: string; Value?: string }> | undefined): Tags =>
    Object.fromEntries((list ?? []).map((t) => [t.Key!, t.Value ?? ""]));

/**
 * A little EC2: one instance (a script of states per DescribeInstances), images and their
 * snapshots (scripts of states per Describe), tags, and injectable faults.
 */
class FakeEc2 {
    /** Instance state per DescribeInstances; undefined = the instance does not exist. */
    instanceStates: string[] | undefined = ["running"];
    /** What StopInstances / StartInstances make the instance go through. */
    stopSteps = ["stopping", "stopping", "stopped"];
    startSteps = ["pending", "running"];
    /** Scripts for the image and each snapshot CreateImage makes. */
    newImageStates = ["pending", "pending", "pending", "available"];
    newImageStateReason?: { Code: string; Message: string };
    newSnapshotSteps: SnapStep[] = [
        { state: "pending", progress: "10%" },
        { state: "pending", progress: "40%" },
        { state: "pending", progress: "70%" },
        { state: "completed", progress: "100%" },
    ];
    /** Called at CreateImage before it acts (to simulate a racing run). */
    beforeCreateImage?: () => void;

    readonly images = new Map<string, FakeImage>();
    readonly snapshots = new Map<string, FakeSnapshot>();
    readonly faults: Fault[] = [];
    readonly servedInstanceStates: string[] = [];
    instanceStateAtCreateImage?: string;
    imageStateAtStart?: string;
    private snapshotCounter = 0;

    get instanceState(): string | undefined {
        return this.instanceStates?.[0];
    }

    fail(action: string, error: Error, times = 1, when?: Fault["when"]): void {
        this.faults.push({ action, error, times, when });
    }

    seedImage(image: Partial<FakeImage> & { id: string; name: string }, snapshotSteps: SnapStep[] = [{ state: "completed", progress: "100%" }]): FakeImage {
        const snapshotIds = image.snapshotIds ?? DEVICES.map(() => this.newSnapshot({ ...MARKERS }, snapshotSteps));
        const full: FakeImage = { tags: {}, states: ["available"], deregistered: false, served: [], ...image, snapshotIds };
        this.images.set(full.id, full);
        return full;
    }

    private newSnapshot(tags: Tags, steps: SnapStep[]): string {
        const id = `snap-0${String(++this.snapshotCounter).padStart(16, "0")}`;
        this.snapshots.set(id, { id, tags, steps: steps.map((s) => ({ ...s })), deleted: false, served: [] });
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
            RootDeviceType: "ebs",
            Tags: toTags(image.tags),
            DeprecationTime: image.deprecationTime,
            DeregistrationProtection: image.protection ?? "disabled",
            BlockDeviceMappings: image.snapshotIds.map((SnapshotId, i) => ({
                DeviceName: DEVICES[i] ?? `/dev/sd${String.fromCharCode(103 + i)}`,
                Ebs: { SnapshotId, VolumeSize: 8, VolumeType: "gp3", DeleteOnTermination: true, Encrypted: false },
            })),
        };
    }

    private taggable(id: string): { tags: Tags } {
        const found = this.images.get(id) ?? this.snapshots.get(id);
        if (!found) throw awsError(id.startsWith("ami-") ? "InvalidAMIID.NotFound" : "InvalidSnapshot.NotFound", `The ID '${id}' does not exist`);
        return found;
    }

    readonly handler = (action: string, input: Record<string, any>): unknown => {
        const fault = this.faults.find((f) => f.action === action && f.times > 0 && (f.when?.(input) ?? true));
        if (fault) {
            fault.times--;
            throw fault.error;
        }
        switch (action) {
            case "DescribeInstances": {
                if (!this.instanceStates) throw awsError("InvalidInstanceID.NotFound", `The instance ID '${input.InstanceIds[0]}' does not exist`);
                const Name = next(this.instanceStates);
                this.servedInstanceStates.push(Name);
                return { Reservations: [{ Instances: [{ InstanceId: INSTANCE, State: { Name } }] }] };
            }
            case "StopInstances": {
                if (this.instanceState !== "running") {
                    throw awsError("IncorrectInstanceState", `The instance '${INSTANCE}' is not in a state from which it can be stopped.`);
                }
                this.instanceStates = [...this.stopSteps];
                return { StoppingInstances: [{ InstanceId: INSTANCE, CurrentState: { Name: "stopping" } }] };
            }
            case "StartInstances": {
                if (this.instanceState !== "stopped") {
                    throw awsError("IncorrectInstanceState", `The instance '${INSTANCE}' is not in a state from which it can be started.`);
                }
                this.imageStateAtStart = [...this.images.values()].at(-1)?.served.at(-1);
                this.instanceStates = [...this.startSteps];
                return { StartingInstances: [{ InstanceId: INSTANCE, CurrentState: { Name: "pending" } }] };
            }
            case "CreateImage": {
                this.beforeCreateImage?.();
                this.instanceStateAtCreateImage = this.instanceState;
                if ([...this.images.values()].some((i) => i.name === input.Name && !i.deregistered)) {
                    throw awsError("InvalidAMIName.Duplicate", `AMI name ${input.Name} is already in use by AMI ${EARLIER_IMAGE}`);
                }
                const spec = (type: string) => fromTags(input.TagSpecifications?.find((s: { ResourceType: string }) => s.ResourceType === type)?.Tags);
                const snapshotIds = DEVICES.map(() => this.newSnapshot(spec("snapshot"), this.newSnapshotSteps));
                this.images.set(NEW_IMAGE, {
                    id: NEW_IMAGE,
                    name: input.Name,
                    description: input.Description,
                    tags: spec("image"),
                    states: [...this.newImageStates],
                    stateReason: this.newImageStateReason,
                    snapshotIds,
                    deregistered: false,
                    served: [],
                });
                return { ImageId: NEW_IMAGE };
            }
            case "DescribeImages": {
                if (input.ImageIds) {
                    const image = this.images.get(input.ImageIds[0]);
                    if (!image) throw awsError("InvalidAMIID.NotFound", `The image id '[${input.ImageIds[0]}]' does not exist`);
                    if (image.deregistered) return { Images: [] };
                    const state = next(image.states);
                    image.served.push(state);
                    return { Images: [this.imageShape(image, state)] };
                }
                const name = input.Filters?.find((f: { Name: string }) => f.Name === "name")?.Values?.[0];
                assert.deepEqual(input.Owners, ["self"]);
                const found = [...this.images.values()].filter((i) => i.name === name && !i.deregistered);
                return { Images: found.map((i) => this.imageShape(i, i.states[0])) };
            }
            case "DescribeSnapshots": {
                // The image wait's first look searches by description: these scripted images have none.
                if (input.Filters) return { Snapshots: [] };
                return {
                    Snapshots: (input.SnapshotIds as string[]).map((id) => {
                        const s = this.snapshots.get(id);
                        if (!s || s.deleted) throw awsError("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
                        const step = next(s.steps);
                        s.served.push(`${step.state} ${step.progress}`);
                        return { SnapshotId: id, State: step.state, Progress: step.progress, VolumeSize: 8, Tags: toTags(s.tags) };
                    }),
                };
            }
            case "DeregisterImage": {
                const image = this.images.get(input.ImageId);
                if (!image || image.deregistered) throw awsError("InvalidAMIID.NotFound", `The image id '[${input.ImageId}]' does not exist`);
                image.deregistered = true;
                return { Return: true };
            }
            case "DeleteSnapshot": {
                const s = this.snapshots.get(input.SnapshotId);
                if (!s || s.deleted) throw awsError("InvalidSnapshot.NotFound", `The snapshot '${input.SnapshotId}' does not exist.`);
                s.deleted = true;
                return {};
            }
            case "CreateTags": {
                for (const id of input.Resources) for (const t of input.Tags) this.taggable(id).tags[t.Key] = t.Value;
                return {};
            }
            case "DeleteTags": {
                for (const id of input.Resources) for (const t of input.Tags) delete this.taggable(id).tags[t.Key];
                return {};
            }
            case "ModifyImageAttribute": {
                const image = this.images.get(input.ImageId)!;
                if (input.Description) image.description = input.Description.Value;
                const key = (p: Record<string, string>) => JSON.stringify(p);
                for (const p of input.LaunchPermission?.Remove ?? []) image.launch = (image.launch ?? []).filter((q) => key(q) !== key(p));
                for (const p of input.LaunchPermission?.Add ?? []) if (!(image.launch ?? []).some((q) => key(q) === key(p))) (image.launch ??= []).push(p);
                return {};
            }
            case "DescribeImageAttribute": {
                const image = this.images.get(input.ImageId);
                if (!image || image.deregistered) throw awsError("InvalidAMIID.NotFound", `The image id '[${input.ImageId}]' does not exist`);
                return { ImageId: image.id, LaunchPermissions: [...(image.launch ?? [])] };
            }
            case "EnableImageDeprecation": {
                this.images.get(input.ImageId)!.deprecationTime = new Date(Math.round((input.DeprecateAt as Date).getTime() / 60_000) * 60_000).toISOString();
                return { Return: true };
            }
            case "DisableImageDeprecation": {
                this.images.get(input.ImageId)!.deprecationTime = undefined;
                return { Return: true };
            }
            case "EnableImageDeregistrationProtection": {
                this.images.get(input.ImageId)!.protection = input.WithCooldown ? "enabled-with-cooldown" : "enabled-without-cooldown";
                return {};
            }
            case "DisableImageDeregistrationProtection": {
                this.images.get(input.ImageId)!.protection = "disabled";
                return {};
            }
            case "ModifySnapshotAttribute": {
                const s = this.snapshots.get(input.SnapshotId)!;
                const users = new Set(s.volumeUsers ?? []);
                for (const p of input.CreateVolumePermission?.Remove ?? []) users.delete(p.UserId);
                for (const p of input.CreateVolumePermission?.Add ?? []) users.add(p.UserId);
                s.volumeUsers = [...users];
                return {};
            }
            case "DescribeSnapshotAttribute": {
                const s = this.snapshots.get(input.SnapshotId)!;
                return { SnapshotId: s.id, CreateVolumePermissions: (s.volumeUsers ?? []).map((UserId) => ({ UserId })) };
            }
        }
        throw new Error(`the fake EC2 does not know ${action}`);
    };
}

/** Inputs as `check` would produce them (plus the dynamic-provider host's `__provider`). */
function inputsWith(over: Record<string, unknown> = {}): Record<string, any> {
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

async function rejection(p: Promise<unknown>): Promise<Error> {
    try {
        await p;
    } catch (err) {
        return err as Error;
    }
    assert.fail("expected the call to fail");
}

let provider: pulumi.dynamic.ResourceProvider;
const actions = (calls: RecordedCall[]) => calls.map((c) => c.action);
const inputsOf = (calls: RecordedCall[], action: string) => calls.filter((c) => c.action === action).map((c) => c.input);

describe("InstanceImage provider", function () {
    let ec2: FakeEc2;
    let calls: RecordedCall[];
    let clock: FakeClock;
    let undo: Array<() => void>;

    beforeEach(function () {
        ec2 = new FakeEc2();
        clock = new FakeClock();
        const stub = stubEc2(REGION, (action, input) => ec2.handler(action, input));
        calls = stub.calls;
        provider = testProviders(clock).InstanceImage;
        undo = [stub.restore];
    });
    afterEach(function () {
        for (const u of undo.reverse()) u();
    });

    /** A finished create: its outputs, with the call log cleared afterwards. */
    async function created(over: Record<string, unknown> = {}): Promise<InstanceImageOutputs> {
        const { outs } = await provider.create(inputsWith(over));
        calls.length = 0;
        return outs as InstanceImageOutputs;
    }

    describe("create", function () {
        it("stops a running instance, waits for stopped, creates the image with markers, waits for image and snapshots", async function () {
            const start = clock.now();
            const { id, outs } = await provider.create(inputsWith());

            const counts = countByAction(calls);
            assert.equal(counts.StopInstances, 1);
            assert.deepEqual(inputsOf(calls, "StopInstances")[0], { InstanceIds: [INSTANCE] });
            assert.equal(counts.CreateImage, 1);
            // It waited through stopping: the image was made from a stopped instance.
            assert.ok(ec2.servedInstanceStates.includes("stopping"), ec2.servedInstanceStates.join());
            assert.equal(ec2.instanceStateAtCreateImage, "stopped");
            assert.ok(actions(calls).indexOf("StopInstances") < actions(calls).indexOf("CreateImage"));

            const create = inputsOf(calls, "CreateImage")[0];
            assert.equal(create.InstanceId, INSTANCE);
            assert.equal(create.Name, NAME);
            assert.equal(create.NoReboot, false);
            const tagSpec = (type: string) => fromTags(create.TagSpecifications.find((s: { ResourceType: string }) => s.ResourceType === type)?.Tags);
            assert.deepEqual(tagSpec("image"), { team: "platform", ...MARKERS });
            assert.deepEqual(tagSpec("snapshot"), { backup: "daily", ...MARKERS });

            // It waited for the image (pending → available) and every snapshot (rising progress → completed).
            const image = ec2.images.get(NEW_IMAGE)!;
            assert.deepEqual(image.served.slice(0, 4), ["pending", "pending", "pending", "available"]);
            for (const snapshotId of image.snapshotIds) {
                assert.deepEqual(ec2.snapshots.get(snapshotId)!.served.slice(0, 4), ["pending 10%", "pending 40%", "pending 70%", "completed 100%"]);
            }
            assert.ok(clock.now() > start, "virtual time passed while waiting");

            assert.equal(id, NEW_IMAGE);
            assert.equal(outs.imageId, NEW_IMAGE);
            assert.deepEqual(outs.snapshotIds, image.snapshotIds);
            assert.equal(outs.snapshotIds.length, 2);
            assert.equal(outs.state, "available");
            assert.equal(outs.sourceInstanceId, INSTANCE);
            assert.equal(outs.name, NAME);
            assert.equal(outs.region, REGION);
            assert.deepEqual(outs.tags, { team: "platform" });
            assert.deepEqual(outs.snapshotTags, { backup: "daily" });
            assert.equal(outs.__provider, "x");
            assert.deepEqual(
                outs.blockDeviceMappings.map((m: { deviceName: string; snapshotId: string }) => [m.deviceName, m.snapshotId]),
                DEVICES.map((d, i) => [d, image.snapshotIds[i]]),
            );
            // The instance stays stopped (afterImage "stopped"): nothing started it again.
            assert.equal(counts.StartInstances, undefined);
        });

        it("an image available before its snapshots completed: keeps waiting until every snapshot is completed", async function () {
            ec2.newImageStates = ["available"];
            ec2.newSnapshotSteps = [
                { state: "pending", progress: "20%" },
                { state: "pending", progress: "45%" },
                { state: "pending", progress: "80%" },
                { state: "pending", progress: "95%" },
                { state: "completed", progress: "100%" },
            ];
            const { outs } = await provider.create(inputsWith());
            const image = ec2.images.get(NEW_IMAGE)!;
            for (const s of image.snapshotIds) {
                assert.deepEqual(ec2.snapshots.get(s)!.served.slice(0, 5), ["pending 20%", "pending 45%", "pending 80%", "pending 95%", "completed 100%"]);
            }
            assert.equal(image.served[0], "available", "the first look already saw the image available");
            assert.equal(outs.state, "available");
        });

        it("a pending instance: waits until running, then stops it", async function () {
            ec2.instanceStates = ["pending", "pending", "pending", "running"];
            await provider.create(inputsWith());
            assert.equal(countByAction(calls).StopInstances, 1);
            const served = ec2.servedInstanceStates;
            assert.ok(served.indexOf("running") > served.indexOf("pending"), served.join());
            assert.equal(ec2.instanceStateAtCreateImage, "stopped");
        });

        it("an instance already stopping: no StopInstances, waits for stopped", async function () {
            ec2.instanceStates = ["stopping", "stopping", "stopping", "stopped"];
            await provider.create(inputsWith());
            const counts = countByAction(calls);
            assert.equal(counts.StopInstances, undefined);
            assert.equal(counts.CreateImage, 1);
            assert.equal(ec2.instanceStateAtCreateImage, "stopped");
        });

        it("an instance already stopped: no StopInstances", async function () {
            ec2.instanceStates = ["stopped"];
            const { outs } = await provider.create(inputsWith());
            assert.equal(countByAction(calls).StopInstances, undefined);
            assert.equal(inputsOf(calls, "CreateImage")[0].NoReboot, false);
            assert.equal(outs.state, "available");
        });

        it("stopBeforeImage false: no StopInstances, CreateImage with NoReboot", async function () {
            const { outs } = await provider.create(inputsWith({ stopBeforeImage: false }));
            assert.equal(countByAction(calls).StopInstances, undefined);
            assert.equal(inputsOf(calls, "CreateImage")[0].NoReboot, true);
            assert.equal(ec2.instanceStateAtCreateImage, "running");
            assert.equal(outs.state, "available");
        });

        for (const state of ["terminated", "shutting-down"]) {
            it(`a ${state} instance: an error naming the instance and its state, no CreateImage`, async function () {
                ec2.instanceStates = [state];
                const err = await rejection(provider.create(inputsWith()));
                assert.match(err.message, new RegExp(INSTANCE));
                assert.match(err.message, new RegExp(`is ${state}`));
                assert.ok(!(err instanceof PartialCreateError));
                // Refused at the first look, not after waiting for a state it will never reach.
                assert.equal((err as GoldenAmiError).code, "IncorrectInstanceState");
                assert.deepEqual(clock.sleeps, []);
                const counts = countByAction(calls);
                assert.equal(counts.CreateImage, undefined);
                assert.equal(counts.StopInstances, undefined);
            });
        }

        it("a missing instance (InvalidInstanceID.NotFound): an error naming it, no CreateImage", async function () {
            ec2.instanceStates = undefined;
            const err = await rejection(provider.create(inputsWith()));
            assert.match(err.message, new RegExp(`${INSTANCE} does not exist in ${REGION}`));
            assert.equal(countByAction(calls).CreateImage, undefined);
        });

        it("InvalidAMIID.NotFound from DescribeImages right after CreateImage is retried", async function () {
            ec2.fail("DescribeImages", awsError("InvalidAMIID.NotFound", `The image id '[${NEW_IMAGE}]' does not exist`), 2, (i) => !!i.ImageIds);
            const { outs } = await provider.create(inputsWith());
            assert.equal(ec2.faults[0].times, 0, "both NotFound answers were given");
            assert.equal(outs.state, "available");
            assert.equal(countByAction(calls).CreateImage, 1);
        });

        it("RequestLimitExceeded during the wait is retried", async function () {
            ec2.fail("DescribeSnapshots", awsError("RequestLimitExceeded", "Request limit exceeded.", 503), 3);
            ec2.fail("DescribeInstances", awsError("RequestLimitExceeded", "Request limit exceeded.", 503), 1, () => ec2.instanceState === "stopping");
            const { outs } = await provider.create(inputsWith());
            assert.deepEqual(ec2.faults.map((f) => f.times), [0, 0]);
            assert.equal(outs.state, "available");
            assert.equal(countByAction(calls).CreateImage, 1);
        });

        it("an image that ends failed: error quoting its StateReason, image and snapshots deleted, not a partial create", async function () {
            ec2.newImageStates = ["pending", "failed"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "30%" }];
            ec2.newImageStateReason = { Code: "Client.InternalError", Message: "Client.InternalError: snapshot creation ran out of capacity" };
            const err = await rejection(provider.create(inputsWith()));
            assert.ok(!(err instanceof PartialCreateError), "a failed image is not kept in state");
            assert.ok(err instanceof WaitFailedError, String(err));
            assert.match(err.message, /snapshot creation ran out of capacity/);
            assert.match(err.message, new RegExp(NEW_IMAGE));

            const image = ec2.images.get(NEW_IMAGE)!;
            assert.deepEqual(inputsOf(calls, "DeregisterImage"), [{ ImageId: NEW_IMAGE }]);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId).sort(), [...image.snapshotIds].sort());
            assert.ok(image.deregistered);
            for (const s of image.snapshotIds) assert.ok(ec2.snapshots.get(s)!.deleted, `${s} orphaned`);
        });

        it("an image still pending after imageTimeoutMinutes: PartialCreateError with the image ID and __provider", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const start = clock.now();
            const err = await rejection(provider.create(inputsWith({ imageTimeoutMinutes: 2 })));
            assert.ok(err instanceof PartialCreateError, String(err));
            assert.equal(err.id, NEW_IMAGE);
            assert.equal(err.properties.__provider, "x");
            assert.equal(err.properties.imageId, NEW_IMAGE);
            assert.equal(err.properties.state, "pending");
            assert.equal(err.properties.instanceId, INSTANCE);
            assert.equal(err.properties.region, REGION);
            assert.equal(err.reasons.length, 1);
            assert.match(err.reasons[0], /timed out after 2 min/);
            assert.match(err.reasons[0], new RegExp(NEW_IMAGE));
            assert.ok(clock.now() - start >= 2 * 60_000);
            // The image is kept (the next `pulumi up` resumes it).
            assert.equal(countByAction(calls).DeregisterImage, undefined);
        });

        it("adopts an image of the same name with this instance's markers: no StopInstances, no CreateImage", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: { ...MARKERS, team: "platform" }, states: ["pending", "pending", "available"] });
            const { id, outs } = await provider.create(inputsWith());
            const counts = countByAction(calls);
            assert.equal(counts.StopInstances, undefined);
            assert.equal(counts.CreateImage, undefined);
            assert.equal(id, EARLIER_IMAGE);
            assert.equal(outs.imageId, EARLIER_IMAGE);
            assert.equal(outs.state, "available");
            // ...and waited for it.
            assert.deepEqual(ec2.images.get(EARLIER_IMAGE)!.served.slice(0, 3), ["pending", "pending", "available"]);
        });

        const foreign: Array<[string, Tags]> = [
            ["without the marker tags", { team: "platform" }],
            ["made from another instance", { ...MARKERS, [SOURCE_INSTANCE]: OTHER_INSTANCE }],
            ["marked by another tool", { ...MARKERS, [MANAGED_BY]: "packer" }],
        ];
        for (const [what, tags] of foreign) {
            it(`an image of the same name ${what}: an error with its ID and adoptImageId, no CreateImage`, async function () {
                ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags });
                const err = await rejection(provider.create(inputsWith()));
                assert.match(err.message, new RegExp(EARLIER_IMAGE));
                assert.match(err.message, /adoptImageId/);
                assert.ok(!(err instanceof PartialCreateError));
                const counts = countByAction(calls);
                assert.equal(counts.CreateImage, undefined);
                assert.equal(counts.StopInstances, undefined);
                assert.ok(!ec2.images.get(EARLIER_IMAGE)!.deregistered, "a foreign image is never touched");
            });
        }

        it("CreateImage answers InvalidAMIName.Duplicate and the re-look finds our marked image: adopted", async function () {
            ec2.beforeCreateImage = () => {
                if (!ec2.images.has(EARLIER_IMAGE)) ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: { ...MARKERS }, states: ["pending", "available"] });
            };
            const { id, outs } = await provider.create(inputsWith());
            assert.equal(id, EARLIER_IMAGE);
            assert.equal(outs.imageId, EARLIER_IMAGE);
            assert.equal(outs.state, "available");
            assert.equal(countByAction(calls).CreateImage, 1);
            assert.equal(ec2.images.has(NEW_IMAGE), false);
        });

        it("CreateImage answers InvalidAMIName.Duplicate for a foreign image: the adoptImageId error", async function () {
            ec2.beforeCreateImage = () => {
                if (!ec2.images.has(EARLIER_IMAGE)) ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: {} });
            };
            const err = await rejection(provider.create(inputsWith()));
            assert.match(err.message, new RegExp(EARLIER_IMAGE));
            assert.match(err.message, /adoptImageId/);
        });

        it("afterImage running: starts the instance once the image is available and waits for running", async function () {
            const { outs } = await provider.create(inputsWith({ afterImage: "running" }));
            const order = actions(calls);
            assert.equal(countByAction(calls).StartInstances, 1);
            assert.deepEqual(inputsOf(calls, "StartInstances")[0], { InstanceIds: [INSTANCE] });
            assert.ok(order.indexOf("StopInstances") < order.indexOf("CreateImage"));
            assert.ok(order.indexOf("CreateImage") < order.indexOf("StartInstances"));
            assert.equal(ec2.imageStateAtStart, "available");
            assert.equal(ec2.instanceState, "running");
            assert.ok(ec2.servedInstanceStates.slice(-1)[0] === "running", ec2.servedInstanceStates.join());
            assert.equal(outs.afterImage, "running");
        });

        it("a start failure after the image is available keeps the image: a partial create with complete false, nothing deleted", async function () {
            ec2.startSteps = ["pending", "shutting-down"];
            const err = await rejection(provider.create(inputsWith({ afterImage: "running" })));
            assert.ok(err instanceof PartialCreateError, String(err));
            assert.match(err.message, /shutting-down/);
            const props = err.properties as unknown as InstanceImageOutputs;
            assert.equal(props.state, "available");
            assert.equal(props.complete, false);
            assert.equal(countByAction(calls).DeregisterImage, undefined, "a good image is never deleted for a later step");
            assert.equal(countByAction(calls).DeleteSnapshot, undefined);
        });

        it("an adopted image that ends failed is not deleted (it is the user's)", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: "hand-made", states: ["failed"], stateReason: { Code: "x", Message: "broken" } });
            const err = await rejection(provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE, name: "hand-made" })));
            assert.match(err.message, /broken/);
            assert.equal(countByAction(calls).DeregisterImage, undefined);
        });

        it("adoptImageId: waits for that image and brings its tags to the declared ones, without touching the instance", async function () {
            ec2.seedImage({ id: EARLIER_IMAGE, name: "hand-made", tags: { team: "old", stale: "1" }, states: ["pending", "available"] });
            const { id, outs } = await provider.create(inputsWith({ adoptImageId: EARLIER_IMAGE, name: "hand-made" }));
            assert.equal(id, EARLIER_IMAGE);
            const counts = countByAction(calls);
            assert.equal(counts.CreateImage, undefined);
            assert.equal(counts.StopInstances, undefined);
            assert.deepEqual(outs.tags, { team: "platform" });
            assert.deepEqual(ec2.images.get(EARLIER_IMAGE)!.tags, { team: "platform" });
        });
    });

    describe("update", function () {
        it("resumes a partial create (state pending): waits until available and returns state available", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const partial = await rejection(provider.create(inputsWith({ imageTimeoutMinutes: 1 })));
            assert.ok(partial instanceof PartialCreateError, String(partial));
            const olds = partial.properties as unknown as InstanceImageOutputs;
            assert.equal(olds.state, "pending");

            // The image finishes meanwhile.
            const image = ec2.images.get(NEW_IMAGE)!;
            image.states = ["pending", "pending", "available"];
            for (const s of image.snapshotIds) ec2.snapshots.get(s)!.steps = [{ state: "pending", progress: "60%" }, { state: "completed", progress: "100%" }];
            calls.length = 0;

            const { outs } = await provider.update!(partial.id, olds, inputsWith({ imageTimeoutMinutes: 1 }) as never);
            assert.equal(outs.state, "available");
            assert.equal(outs.imageId, NEW_IMAGE);
            assert.deepEqual(outs.snapshotIds, image.snapshotIds);
            assert.ok(image.served.includes("available"));
            const counts = countByAction(calls);
            assert.equal(counts.CreateImage, undefined);
            assert.equal(counts.CreateTags, undefined, "tags were set by CreateImage already");
            assert.equal(counts.DeleteTags, undefined);
        });

        it("resumes a create whose after-image step failed: starts the instance now", async function () {
            ec2.startSteps = ["pending", "shutting-down"];
            const partial = await rejection(provider.create(inputsWith({ afterImage: "running" })));
            assert.ok(partial instanceof PartialCreateError, String(partial));
            ec2.instanceStates = ["stopped"];
            ec2.startSteps = ["pending", "running"];
            calls.length = 0;
            const olds = partial.properties as unknown as InstanceImageOutputs;
            const { outs } = await provider.update!(partial.id, olds, inputsWith({ afterImage: "running" }) as never);
            assert.equal(countByAction(calls).StartInstances, 1, "the unfinished step is done on resume");
            assert.equal(outs.complete, true);
            assert.equal(ec2.instanceState, "running");
        });

        it("a tag change: exactly one CreateTags with the changed tag and one DeleteTags with the removed key, on the image", async function () {
            const olds = await created({ tags: { team: "platform", env: "prod", keep: "same" } });
            assert.deepEqual(olds.tags, { team: "platform", env: "prod", keep: "same" });
            const { outs } = await provider.update!(NEW_IMAGE, olds, inputsWith({ tags: { team: "data", keep: "same", owner: "me" } }) as never);

            assert.deepEqual(inputsOf(calls, "CreateTags"), [
                { Resources: [NEW_IMAGE], Tags: [{ Key: "team", Value: "data" }, { Key: "owner", Value: "me" }] },
            ]);
            assert.deepEqual(inputsOf(calls, "DeleteTags"), [{ Resources: [NEW_IMAGE], Tags: [{ Key: "env" }] }]);
            assert.deepEqual(outs.tags, { team: "data", keep: "same", owner: "me" });
            // The markers stay on the image.
            assert.deepEqual(ec2.images.get(NEW_IMAGE)!.tags, { team: "data", keep: "same", owner: "me", ...MARKERS });
            const counts = countByAction(calls);
            assert.equal(counts.StopInstances, undefined);
            assert.equal(counts.StartInstances, undefined);
        });

        it("a snapshot tag change: tags set and removed on the snapshot IDs", async function () {
            const olds = await created({ snapshotTags: { backup: "daily", tier: "1" } });
            const { outs } = await provider.update!(NEW_IMAGE, olds, inputsWith({ snapshotTags: { backup: "weekly" } }) as never);
            assert.deepEqual(inputsOf(calls, "CreateTags"), [{ Resources: olds.snapshotIds, Tags: [{ Key: "backup", Value: "weekly" }] }]);
            assert.deepEqual(inputsOf(calls, "DeleteTags"), [{ Resources: olds.snapshotIds, Tags: [{ Key: "tier" }] }]);
            assert.deepEqual(outs.snapshotTags, { backup: "weekly" });
            for (const s of olds.snapshotIds) assert.deepEqual(ec2.snapshots.get(s)!.tags, { backup: "weekly", ...MARKERS });
        });

        it("a description change: ModifyImageAttribute", async function () {
            const olds = await created();
            const { outs } = await provider.update!(NEW_IMAGE, olds, inputsWith({ description: "golden web image" }) as never);
            assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, Description: { Value: "golden web image" } }]);
            assert.equal(outs.description, "golden web image");
        });

        it("afterImage stopped → running: starts the instance", async function () {
            const olds = await created();
            await provider.update!(NEW_IMAGE, olds, inputsWith({ afterImage: "running" }) as never);
            assert.equal(countByAction(calls).StartInstances, 1);
            assert.equal(ec2.instanceState, "running");
        });
    });

    describe("delete", function () {
        it("deregisters the image and deletes each of its snapshots", async function () {
            const outs = await created();
            await provider.delete!(NEW_IMAGE, outs);
            assert.deepEqual(inputsOf(calls, "DeregisterImage"), [{ ImageId: NEW_IMAGE }]);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
            assert.equal(outs.snapshotIds.length, 2);
            for (const s of outs.snapshotIds) assert.ok(ec2.snapshots.get(s)!.deleted);
        });

        it("an image already deregistered (DescribeImages empty): still deletes the snapshots known from state", async function () {
            const outs = await created();
            ec2.images.get(NEW_IMAGE)!.deregistered = true;
            await provider.delete!(NEW_IMAGE, outs);
            assert.equal(countByAction(calls).DeregisterImage, undefined);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
            for (const s of outs.snapshotIds) assert.ok(ec2.snapshots.get(s)!.deleted);
        });

        it("an image EC2 no longer knows (InvalidAMIID.NotFound): still deletes the snapshots known from state", async function () {
            const outs = await created();
            ec2.images.delete(NEW_IMAGE);
            await provider.delete!(NEW_IMAGE, outs);
            assert.equal(countByAction(calls).DeregisterImage, undefined);
            assert.deepEqual(inputsOf(calls, "DeleteSnapshot").map((i) => i.SnapshotId), outs.snapshotIds);
        });

        it("tolerates NotFound from DeleteSnapshot (already deleted)", async function () {
            const outs = await created();
            ec2.snapshots.get(outs.snapshotIds[0])!.deleted = true;
            await provider.delete!(NEW_IMAGE, outs);
            assert.equal(countByAction(calls).DeleteSnapshot, 2);
            assert.ok(ec2.snapshots.get(outs.snapshotIds[1])!.deleted);
            assert.ok(ec2.images.get(NEW_IMAGE)!.deregistered);
        });

        it("does not swallow other errors", async function () {
            const outs = await created();
            ec2.fail("DeleteSnapshot", awsError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403));
            const err = await rejection(provider.delete!(NEW_IMAGE, outs));
            assert.match(err.message, /UnauthorizedOperation/);
        });
    });

    describe("read", function () {
        it("reports the live image as create did (so a refresh right after create shows no diff)", async function () {
            const outs = await created();
            const { id, props } = await provider.read!(NEW_IMAGE, outs);
            assert.equal(id, NEW_IMAGE);
            // The dynamic-provider host adds __provider back to what read returns.
            const { __provider, ...rest } = outs as unknown as Record<string, unknown>;
            assert.equal(__provider, "x");
            assert.deepEqual(props, rest);
        });

        it("an image that is gone with its snapshots: no ID (dropped from state)", async function () {
            const outs = await created();
            ec2.images.get(NEW_IMAGE)!.deregistered = true;
            for (const s of ec2.images.get(NEW_IMAGE)!.snapshotIds) ec2.snapshots.get(s)!.deleted = true;
            const { id } = await provider.read!(NEW_IMAGE, outs);
            assert.equal(id, undefined);
        });

        it("an image deregistered out of band whose snapshots are left: kept, marked deregistered with them; the next up replaces it", async function () {
            const outs = await created();
            const image = ec2.images.get(NEW_IMAGE)!;
            image.deregistered = true;
            const [kept, ...others] = image.snapshotIds;
            for (const s of others) ec2.snapshots.get(s)!.deleted = true;
            const { id, props } = await provider.read!(NEW_IMAGE, outs);
            assert.equal(id, NEW_IMAGE);
            assert.equal(props.state, "deregistered");
            assert.deepEqual(props.snapshotIds, [kept]);
            const diff = await provider.diff!(NEW_IMAGE, props, inputsWith());
            assert.equal(diff.changes, true);
            assert.deepEqual(diff.replaces, ["state"]);
            assert.equal(diff.deleteBeforeReplace, false);
            // The replaced resource's delete removes the snapshots that were left.
            await provider.delete!(NEW_IMAGE, props);
            assert.equal(ec2.snapshots.get(kept)!.deleted, true);
        });
    });
});

describe("InstanceImage provider: check", function () {
    const UNKNOWN = pulumi.runtime.unknownValue;
    const valid = (over: Record<string, unknown> = {}) => ({ instanceId: INSTANCE, region: REGION, resourceUrn: URN, ...over });
    let savedEnv: Record<string, string | undefined>;

    beforeEach(function () {
        savedEnv = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
        setConfiguredRegion(undefined);
    });
    afterEach(function () {
        for (const [k, v] of Object.entries(savedEnv)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    });

    async function check(news: Record<string, unknown>, olds: Record<string, unknown> = {}) {
        const result = await provider.check!(olds, news);
        return { inputs: result.inputs as Record<string, any>, failures: result.failures ?? [] };
    }

    it("accepts valid inputs without failures", async function () {
        const { failures } = await check(
            valid({
                name: "web (v1) [x] ./-'@_",
                description: "d".repeat(255),
                tags: { team: "platform" },
                stopBeforeImage: false,
                afterImage: "running",
                stopTimeoutMinutes: 0.5,
                imageTimeoutMinutes: 120,
                adoptImageId: "ami-12345678",
                blockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 16, volumeType: "gp3" }, { deviceName: "/dev/sdf", noDevice: true }],
            }),
        );
        assert.deepEqual(failures, []);
    });

    const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
        ["malformed instanceId", { instanceId: "i-xyz" }, "instanceId", /"i-xyz" is not a valid instance ID/],
        ["instanceId of the wrong kind", { instanceId: "ami-0123456789abcdef0" }, "instanceId", /not a valid instance ID/],
        ["missing instanceId", { instanceId: undefined }, "instanceId", /instanceId is required/],
        ["availability zone as region", { region: "us-east-1a" }, "region", /availability zone.*use "us-east-1"/],
        ["a region name in capitals", { region: "US-EAST-1" }, "region", /not an AWS region name/],
        ["not a region at all", { region: "virginia" }, "region", /not an AWS region name/],
        ["AMI name too short", { name: "ab" }, "name", /"ab" is not a valid AMI name/],
        ["AMI name with a bad character", { name: "web!golden" }, "name", /not a valid AMI name/],
        ["AMI name too long", { name: "a".repeat(129) }, "name", /not a valid AMI name/],
        ["description too long", { description: "d".repeat(256) }, "description", /256 characters long; the limit is 255/],
        ["stopTimeoutMinutes 0", { stopTimeoutMinutes: 0 }, "stopTimeoutMinutes", /greater than 0, not 0/],
        ["imageTimeoutMinutes -5", { imageTimeoutMinutes: -5 }, "imageTimeoutMinutes", /greater than 0, not -5/],
        ["imageTimeoutMinutes as a string", { imageTimeoutMinutes: "60" }, "imageTimeoutMinutes", /must be a number/],
        ["afterImage paused", { afterImage: "paused" }, "afterImage", /must be one of "stopped", "running", not "paused"/],
        ["stopBeforeImage yes", { stopBeforeImage: "yes" }, "stopBeforeImage", /must be true or false/],
        ["adoptImageId malformed", { adoptImageId: "ami-12" }, "adoptImageId", /"ami-12" is not a valid image ID/],
        ["blockDeviceMappings not a list", { blockDeviceMappings: { deviceName: "/dev/sdf" } }, "blockDeviceMappings", /must be a list/],
        ["a bad deviceName", { blockDeviceMappings: [{ deviceName: "sdf" }] }, "blockDeviceMappings[0].deviceName", /"sdf" is not a device name/],
        ["a missing deviceName", { blockDeviceMappings: [{ volumeSize: 8 }] }, "blockDeviceMappings[0].deviceName", /is required/],
        [
            "a duplicate deviceName",
            { blockDeviceMappings: [{ deviceName: "/dev/sdf" }, { deviceName: "/dev/sdf", volumeSize: 4 }] },
            "blockDeviceMappings[1].deviceName",
            /"\/dev\/sdf" is listed twice/,
        ],
        ["volumeSize 0", { blockDeviceMappings: [{ deviceName: "/dev/sdf", volumeSize: 0 }] }, "blockDeviceMappings[0].volumeSize", /whole number from 1 to 65536, not 0/],
        ["a bad volumeType", { blockDeviceMappings: [{ deviceName: "/dev/sdf", volumeType: "gp9" }] }, "blockDeviceMappings[0].volumeType", /must be one of/],
        ["noDevice with volumeSize", { blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true, volumeSize: 8 }] }, "blockDeviceMappings[0]", /noDevice/],
        ["a tag key starting with aws:", { tags: { "aws:cloudformation:stack": "x" } }, "tags.aws:cloudformation:stack", /reserved by AWS/],
        ["a snapshot tag key starting with AWS:", { snapshotTags: { "AWS:x": "y" } }, "snapshotTags.AWS:x", /reserved by AWS/],
        ["a tag value that is not a string", { tags: { team: 7 } }, "tags.team", /must be a string/],
        ["a tag key starting with golden-ami:", { tags: { "golden-ami:owner": "me" } }, "tags.golden-ami:owner", /golden-ami's own marker tags/],
    ];
    for (const [what, over, property, fragment] of bad) {
        it(`rejects ${what} (${property})`, async function () {
            const { failures } = await check(valid(over));
            const hit = failures.find((f) => f.property === property);
            assert.ok(hit, `no failure for ${property} in ${JSON.stringify(failures)}`);
            assert.match(hit.reason, fragment);
        });
    }

    it("no region anywhere: a failure on region", async function () {
        delete process.env.AWS_REGION;
        delete process.env.AWS_DEFAULT_REGION;
        const { failures } = await check(valid({ region: undefined }));
        assert.ok(failures.some((f) => f.property === "region" && /no region/.test(f.reason)), JSON.stringify(failures));
    });

    it("defaults: region from AWS_REGION, stopBeforeImage true, afterImage stopped, timeouts 10 and 60", async function () {
        process.env.AWS_REGION = "eu-west-1";
        delete process.env.AWS_DEFAULT_REGION;
        const { inputs, failures } = await check(valid({ region: undefined }));
        assert.deepEqual(failures, []);
        assert.equal(inputs.region, "eu-west-1");
        assert.equal(inputs.stopBeforeImage, true);
        assert.equal(inputs.afterImage, "stopped");
        assert.equal(inputs.stopTimeoutMinutes, 10);
        assert.equal(inputs.imageTimeoutMinutes, 60);
        assert.equal(inputs.instanceId, INSTANCE);
    });

    it("keeps explicit values over the defaults", async function () {
        process.env.AWS_REGION = "eu-west-1";
        const { inputs } = await check(valid({ region: "us-west-2", stopBeforeImage: false, afterImage: "running", stopTimeoutMinutes: 3, imageTimeoutMinutes: 90 }));
        assert.equal(inputs.region, "us-west-2");
        assert.equal(inputs.stopBeforeImage, false);
        assert.equal(inputs.afterImage, "running");
        assert.equal(inputs.stopTimeoutMinutes, 3);
        assert.equal(inputs.imageTimeoutMinutes, 90);
    });

    it("derives the name from the resource name plus 12 hex digits, stable for equal inputs", async function () {
        const a = (await check(valid())).inputs.name;
        const b = (await check(valid())).inputs.name;
        assert.match(a, /^web-[0-9a-f]{12}$/);
        assert.equal(a, b);
        // Inputs that do not define the image leave the name alone.
        assert.equal((await check(valid({ tags: { team: "x" }, afterImage: "running" }))).inputs.name, a);
        // An explicit default equals the default.
        assert.equal((await check(valid({ stopBeforeImage: true }))).inputs.name, a);
    });

    it("a derived name changes when what defines the image changes", async function () {
        const base = (await check(valid())).inputs.name;
        const names = [
            (await check(valid({ instanceId: OTHER_INSTANCE }))).inputs.name,
            (await check(valid({ region: "us-west-2" }))).inputs.name,
            (await check(valid({ stopBeforeImage: false }))).inputs.name,
            (await check(valid({ blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true }] }))).inputs.name,
        ];
        for (const n of names) assert.match(n, /^web-[0-9a-f]{12}$/);
        assert.equal(new Set([base, ...names]).size, names.length + 1, JSON.stringify([base, ...names]));
    });

    it("an explicit name is kept as given", async function () {
        const { inputs } = await check(valid({ name: NAME }));
        assert.equal(inputs.name, NAME);
    });

    it("unknown values (preview) are not reported as failures", async function () {
        const { inputs, failures } = await check({
            instanceId: UNKNOWN,
            region: UNKNOWN,
            name: UNKNOWN,
            description: UNKNOWN,
            tags: { team: UNKNOWN },
            snapshotTags: UNKNOWN,
            stopBeforeImage: UNKNOWN,
            afterImage: UNKNOWN,
            stopTimeoutMinutes: UNKNOWN,
            imageTimeoutMinutes: UNKNOWN,
            adoptImageId: UNKNOWN,
            blockDeviceMappings: UNKNOWN,
            resourceUrn: URN,
        });
        assert.deepEqual(failures, []);
        assert.equal(inputs.instanceId, UNKNOWN);
    });

    it("an unknown instanceId: no failure and no derived name yet", async function () {
        const { inputs, failures } = await check(valid({ instanceId: UNKNOWN }));
        assert.deepEqual(failures, []);
        assert.equal(inputs.name, undefined);
    });
});

describe("InstanceImage provider: diff", function () {
    const olds = {
        __provider: "x",
        instanceId: INSTANCE,
        region: REGION,
        name: NAME,
        description: "golden",
        tags: { team: "platform" },
        snapshotTags: { backup: "daily" },
        stopBeforeImage: true,
        afterImage: "stopped",
        stopTimeoutMinutes: 10,
        imageTimeoutMinutes: 60,
        resourceUrn: URN,
        imageId: NEW_IMAGE,
        sourceInstanceId: INSTANCE,
        snapshotIds: ["snap-00000000000000001"],
        state: "available",
        blockDeviceMappings: [{ deviceName: "/dev/xvda", snapshotId: "snap-00000000000000001", volumeSize: 8 }],
        requestedBlockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 8 }],
    } as unknown as InstanceImageOutputs;
    const news = (over: Record<string, unknown> = {}) => ({
        __provider: "x",
        instanceId: INSTANCE,
        region: REGION,
        name: NAME,
        description: "golden",
        tags: { team: "platform" },
        snapshotTags: { backup: "daily" },
        blockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 8 }],
        stopBeforeImage: true,
        afterImage: "stopped",
        stopTimeoutMinutes: 10,
        imageTimeoutMinutes: 60,
        resourceUrn: URN,
        ...over,
    });
    const diff = (n: Record<string, unknown>, o: InstanceImageOutputs = olds) => provider.diff!(NEW_IMAGE, o, n);

    it("nothing changed: no changes", async function () {
        const d = await diff(news());
        assert.equal(d.changes, false);
        assert.deepEqual(d.replaces, []);
    });

    it("only the resource URN changed (a renamed or re-parented resource): no changes", async function () {
        const d = await diff(news({ resourceUrn: "urn:pulumi:s::p::other$pulumi-nodejs:dynamic/golden-ami:InstanceImage::web2" }));
        assert.equal(d.changes, false);
        assert.deepEqual(d.replaces, []);
    });

    const replacing: Array<[string, unknown]> = [
        ["instanceId", OTHER_INSTANCE],
        ["region", "us-west-2"],
        ["name", "web-golden-2"],
        ["blockDeviceMappings", [{ deviceName: "/dev/xvda", volumeSize: 16 }]],
        ["stopBeforeImage", false],
    ];
    for (const [key, value] of replacing) {
        it(`${key} changed: replaces contains ${key}`, async function () {
            const d = await diff(news({ [key]: value }));
            assert.equal(d.changes, true);
            assert.ok(d.replaces?.includes(key), JSON.stringify(d.replaces));
            assert.deepEqual(d.replaces, [key]);
        });
    }

    it("blockDeviceMappings removed: replaces", async function () {
        const d = await diff(news({ blockDeviceMappings: undefined }));
        assert.deepEqual(d.replaces, ["blockDeviceMappings"]);
    });

    const inPlace: Array<[string, unknown]> = [
        ["tags", { team: "data" }],
        ["tags", undefined],
        ["snapshotTags", { backup: "weekly" }],
        ["description", "golden v2"],
        ["afterImage", "running"],
        ["imageTimeoutMinutes", 90],
    ];
    for (const [key, value] of inPlace) {
        it(`${key} → ${JSON.stringify(value)}: changes, no replace`, async function () {
            const d = await diff(news({ [key]: value }));
            assert.equal(d.changes, true);
            assert.deepEqual(d.replaces, []);
        });
    }

    it("adoptImageId of another image: replaces", async function () {
        const d = await diff(news({ adoptImageId: EARLIER_IMAGE }));
        assert.ok(d.replaces?.includes("adoptImageId"));
    });

    describe("against the outputs of a real create", function () {
        let undo: Array<() => void>;
        beforeEach(function () {
            const ec2 = new FakeEc2();
            const stub = stubEc2(REGION, (action, input) => ec2.handler(action, input));
            provider = testProviders(new FakeClock()).InstanceImage;
        undo = [stub.restore];
        });
        afterEach(function () {
            for (const u of undo.reverse()) u();
        });

        it("the same inputs again: no changes", async function () {
            const inputs = inputsWith({ resourceUrn: URN, blockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 8 }] });
            const { outs } = await provider.create(inputs);
            const d = await provider.diff!(NEW_IMAGE, outs, inputs);
            assert.equal(d.changes, false, JSON.stringify(d));
            const changed = await provider.diff!(NEW_IMAGE, outs, { ...inputs, tags: { team: "data" } });
            assert.equal(changed.changes, true);
            assert.deepEqual(changed.replaces, []);
        });
    });
});

describe("InstanceImage provider: distribution", function () {
    const A = "111111111111";
    const B = "222222222222";
    let ec2: FakeEc2;
    let calls: RecordedCall[];
    let undo: Array<() => void>;

    beforeEach(function () {
        ec2 = new FakeEc2();
        const stub = stubEc2(REGION, (action, input) => ec2.handler(action, input));
        calls = stub.calls;
        provider = testProviders(new FakeClock()).InstanceImage;
        undo = [stub.restore];
    });
    afterEach(function () {
        for (const u of undo.reverse()) u();
    });

    /** A deprecation time next year, with seconds, as a user writes it. */
    const deprecateAt = `${new Date().getUTCFullYear() + 1}-03-01T10:20:40Z`;

    it("check: distribution inputs are validated, naming the property", async function () {
        const { failures } = await provider.check!({}, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, launchAccounts: ["12345"], shareSnapshots: "yes" });
        assert.ok(failures!.some((f) => f.property === "launchAccounts" && /is not a 12-digit AWS account ID/.test(f.reason)), JSON.stringify(failures));
        assert.ok(failures!.some((f) => f.property === "shareSnapshots" && /true or false/.test(f.reason)), JSON.stringify(failures));
        const past = await provider.check!({}, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, deprecateAt: "2020-01-01T00:00:00Z" });
        assert.ok(past.failures!.some((f) => f.property === "deprecateAt" && /not in the future/.test(f.reason)));
        // Unchanged from the last deployment, a passed time no longer blocks updates.
        const kept = await provider.check!({ deprecateAt: "2020-01-01T00:00:00Z" }, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, deprecateAt: "2020-01-01T00:00:00Z" });
        assert.deepEqual(kept.failures, []);
    });

    it("create: shares, deprecates and protects once the image is available; state keeps the values as written", async function () {
        const { outs } = await provider.create(
            inputsWith({ launchAccounts: [B, A], shareSnapshots: true, deprecateAt, deregistrationProtection: true }),
        );
        const order = actions(calls);
        const first = Math.min(...["ModifyImageAttribute", "ModifySnapshotAttribute", "EnableImageDeprecation", "EnableImageDeregistrationProtection"].map((a) => order.indexOf(a)));
        assert.ok(first > 0);
        // Only once the image was seen available: the name look, then pending, pending, pending, available.
        assert.ok(order.slice(0, first).filter((a) => a === "DescribeImages").length >= 5, order.join());
        assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, LaunchPermission: { Add: [{ UserId: A }, { UserId: B }] } }]);
        assert.equal(countByAction(calls).DescribeImageAttribute, undefined, "a fresh image has nothing to read first");
        const image = ec2.images.get(NEW_IMAGE)!;
        for (const s of image.snapshotIds) assert.deepEqual(ec2.snapshots.get(s)!.volumeUsers!.sort(), [A, B]);
        assert.equal(image.protection, "enabled-without-cooldown");
        assert.ok(image.deprecationTime);
        assert.deepEqual(outs.launchAccounts, [B, A]);
        assert.equal(outs.deprecateAt, deprecateAt);
        assert.equal(outs.shareSnapshots, true);
        assert.equal(outs.deregistrationProtection, true);
        assert.equal(outs.complete, true);
    });

    it("create without distribution inputs makes no distribution calls", async function () {
        await provider.create(inputsWith());
        const counts = countByAction(calls);
        for (const a of ["ModifyImageAttribute", "DescribeImageAttribute", "EnableImageDeprecation", "ModifySnapshotAttribute"]) assert.equal(counts[a], undefined, a);
    });

    it("read right after create reports the same state (refresh clean), deprecateAt kept as written though EC2 rounds it", async function () {
        const { outs } = await provider.create(inputsWith({ launchAccounts: [B, A], public: false, deprecateAt }));
        assert.notEqual(ec2.images.get(NEW_IMAGE)!.deprecationTime, deprecateAt, "EC2 keeps it rounded");
        const { props } = await provider.read!(NEW_IMAGE, outs as InstanceImageOutputs);
        const { __provider, ...rest } = outs as Record<string, unknown>;
        assert.deepEqual(props, rest);
    });

    it("read reports distribution changed outside Pulumi, and the next update puts it back", async function () {
        const { outs } = await provider.create(inputsWith({ launchAccounts: [A] }));
        ec2.images.get(NEW_IMAGE)!.launch!.push({ UserId: B });
        const { props } = await provider.read!(NEW_IMAGE, outs as InstanceImageOutputs);
        assert.deepEqual(props.launchAccounts, [A, B]);
        const d = await provider.diff!(NEW_IMAGE, props as InstanceImageOutputs, inputsWith({ launchAccounts: [A] }));
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, []);
        calls.length = 0;
        await provider.update!(NEW_IMAGE, props as InstanceImageOutputs, inputsWith({ launchAccounts: [A] }) as never);
        assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, LaunchPermission: { Remove: [{ UserId: B }] } }]);
        assert.deepEqual(ec2.images.get(NEW_IMAGE)!.launch, [{ UserId: A }]);
    });

    it("diff: distribution changes are updates in place; same meaning (order, false, same minute) is no change", async function () {
        const { outs } = await provider.create(inputsWith({ launchAccounts: [A, B], deprecateAt }));
        const same = await provider.diff!(NEW_IMAGE, outs as InstanceImageOutputs, inputsWith({ launchAccounts: [B, A], public: false, deprecateAt: deprecateAt.replace(":40Z", ":50Z") }));
        assert.equal(same.changes, false, JSON.stringify(same));
        for (const over of [{ launchAccounts: [A] }, { deprecateAt: undefined }, { public: true }, { deregistrationProtection: true }]) {
            const d = await provider.diff!(NEW_IMAGE, outs as InstanceImageOutputs, inputsWith({ launchAccounts: [A, B], deprecateAt, ...over }));
            assert.equal(d.changes, true, JSON.stringify(over));
            assert.deepEqual(d.replaces, [], JSON.stringify(over));
        }
    });

    it("update: removing one account and clearing the deprecation makes exactly those calls", async function () {
        const { outs } = await provider.create(inputsWith({ launchAccounts: [A, B], deprecateAt }));
        calls.length = 0;
        const { outs: after } = await provider.update!(NEW_IMAGE, outs as InstanceImageOutputs, inputsWith({ launchAccounts: [A] }) as never);
        assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, LaunchPermission: { Remove: [{ UserId: B }] } }]);
        assert.deepEqual(inputsOf(calls, "DisableImageDeprecation"), [{ ImageId: NEW_IMAGE }]);
        assert.equal(ec2.images.get(NEW_IMAGE)!.deprecationTime, undefined);
        assert.deepEqual(after.launchAccounts, [A]);
        assert.equal(after.deprecateAt, undefined);
        const { props } = await provider.read!(NEW_IMAGE, after as InstanceImageOutputs);
        const { __provider, ...rest } = after as Record<string, unknown>;
        assert.deepEqual(props, rest, "refresh after the update is clean");
    });

    it("a distribution step that fails keeps the image as a partial create (complete false); the next up applies what is missing", async function () {
        ec2.fail("EnableImageDeprecation", awsError("InvalidParameterValue", "The deprecation time can't be in the past."));
        const err = await rejection(provider.create(inputsWith({ launchAccounts: [A], deprecateAt })));
        assert.ok(err instanceof PartialCreateError, String(err));
        assert.match(err.message, /deprecation/);
        const olds = err.properties as unknown as InstanceImageOutputs;
        assert.equal(olds.complete, false);
        assert.equal(olds.state, "available");
        assert.equal(countByAction(calls).DeregisterImage, undefined, "a good image is never deleted for a later step");

        calls.length = 0;
        const { outs } = await provider.update!(err.id, olds, inputsWith({ launchAccounts: [A], deprecateAt }) as never);
        assert.equal(outs.complete, true);
        assert.equal(countByAction(calls).DescribeImageAttribute, 1, "the resume starts from what is live");
        assert.equal(countByAction(calls).EnableImageDeprecation, 1);
        // Deprecation comes before launch permissions, so the account is granted on resume, once.
        assert.deepEqual(inputsOf(calls, "ModifyImageAttribute"), [{ ImageId: NEW_IMAGE, LaunchPermission: { Add: [{ UserId: A }] } }]);
        assert.deepEqual(ec2.images.get(NEW_IMAGE)!.launch, [{ UserId: A }]);
        assert.ok(ec2.images.get(NEW_IMAGE)!.deprecationTime);
    });

    it("an image adopted by name from an interrupted run: the distribution is brought from what is live to the declared", async function () {
        ec2.seedImage({ id: EARLIER_IMAGE, name: NAME, tags: { ...MARKERS, team: "platform" }, launch: [{ UserId: B }] });
        const { outs } = await provider.create(inputsWith({ launchAccounts: [A] }));
        assert.equal(outs.imageId, EARLIER_IMAGE);
        assert.deepEqual(ec2.images.get(EARLIER_IMAGE)!.launch, [{ UserId: A }]);
        assert.deepEqual(outs.launchAccounts, [A]);
    });
});
