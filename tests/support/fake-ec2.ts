/**
 * The one fake EC2 of the unit tier: several regions at once (instances, images, snapshots,
 * tags, launch and create-volume permissions, deprecation, deregistration protection),
 * scripted state sequences (an instance's states per DescribeInstances, an image's per
 * DescribeImages, a snapshot's progress per DescribeSnapshots; the last entry repeats),
 * CreateImage and CopyImage as EC2 answers them (snapshot descriptions included, and
 * CopyImage's ClientToken idempotency: the same token and request in the same region give the
 * same copy, also after it is gone; no token, no idempotency), injectable faults and a call
 * log. Installed on the cached EC2 clients of every region it serves (stubEc2).
 *
 * Answers are in the SDK's output shapes, so the product code under test runs unchanged.
 */
import { awsError, RecordedCall, stubEc2 } from "./fakes";

export type Tags = Record<string, string>;

export interface SnapStep {
    state: "pending" | "completed" | "error";
    progress: string;
}

export interface FakeImage {
    id: string;
    region: string;
    name: string;
    description?: string;
    tags: Tags;
    /** Image state per DescribeImages answer; the last one repeats. */
    states: string[];
    stateReason?: { Code: string; Message: string };
    snapshotIds: string[];
    encrypted: boolean;
    kmsKeyId?: string;
    deregistered: boolean;
    /** The states answered, in order. */
    served: string[];
    /** Launch permissions, as DescribeImageAttribute answers them. */
    launch: Array<Record<string, string>>;
    deprecationTime?: string;
    protection: string;
    /** What made it: "CreateImage", "CopyImage" or "seed". */
    madeBy: string;
    /** CreationDate as DescribeImages answers it (default 2026-01-01T00:00:00.000Z). */
    creationDate?: string;
    /** LastLaunchedTime as DescribeImages answers it (unset: never launched). */
    lastLaunchedTime?: string;
}

export interface FakeSnapshot {
    id: string;
    region: string;
    description: string;
    tags: Tags;
    /** State and progress per DescribeSnapshots answer; the last one repeats. */
    steps: SnapStep[];
    deleted: boolean;
    /** The steps answered, as "state progress". */
    served: string[];
    /** Accounts with create-volume permission. */
    volumeUsers: string[];
}

export interface InstanceStatus {
    system: string;
    instance: string;
}

export interface FakeInstance {
    id: string;
    region: string;
    /** State per DescribeInstances answer; the last one repeats. */
    states: string[];
    /** The states answered, in order. */
    served: string[];
    /** What StopInstances / StartInstances make the instance go through. */
    stopSteps: string[];
    startSteps: string[];
    /** Status checks per DescribeInstanceStatus answer; the last one repeats. */
    statuses: InstanceStatus[];
    consoleOutput: string;
    /** Tags (RunInstances' TagSpecifications), for DescribeInstances by tag. */
    tags?: Tags;
    /** The ClientToken RunInstances was called with (EC2 answers the same instance for it). */
    clientToken?: string;
    /** The AMI it was launched from. */
    imageId?: string;
    /** The RunInstances request that launched it. */
    launchedWith?: Record<string, any>;
}

export interface Fault {
    action: string;
    error: Error;
    times: number;
    when?: (input: Record<string, any>, region: string) => boolean;
}

export type FakeCall = RecordedCall & { region: string };

/** Devices of the images the fake makes: one snapshot each. */
export const DEVICES = ["/dev/xvda", "/dev/sdf"];
const OWNER = "123456789012";

/** Advances a script: returns its head and drops it, unless it is the last entry (which repeats). */
function next<T>(script: T[]): T {
    return script.length > 1 ? script.shift()! : script[0];
}

export const toTags = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
export const fromTags = (list: Array<{ Key?: string; Value?: string }> | undefined): Tags =>
    Object.fromEntries((list ?? []).map((t) => [t.Key!, t.Value ?? ""]));

/** EC2's filter wildcards: `*` any run of characters, `?` one. */
function wildcard(pattern: string): RegExp {
    return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}

const completed: SnapStep[] = [{ state: "completed", progress: "100%" }];

export class FakeEc2 {
    /** Scripts for the image and each snapshot that CreateImage or CopyImage makes. */
    newImageStates = ["pending", "pending", "pending", "available"];
    newImageStateReason?: { Code: string; Message: string };
    newSnapshotSteps: SnapStep[] = [
        { state: "pending", progress: "10%" },
        { state: "pending", progress: "40%" },
        { state: "pending", progress: "70%" },
        { state: "completed", progress: "100%" },
    ];
    /**
     * EC2's name index lags: DescribeImages by name answers nothing this many more times, and
     * until then CreateImage/CopyImage do not see a name taken either (so only a ClientToken
     * keeps a retried CopyImage from making a second copy).
     */
    hiddenByName = 0;
    /** DescribeSnapshots by ID answers in the reverse of the order asked (EC2 promises no order). */
    reverseSnapshotAnswers = false;
    /** What an instance RunInstances launches goes through (states, status checks, console). */
    newInstance: Pick<FakeInstance, "states" | "statuses" | "consoleOutput"> = { states: ["pending", "running"], statuses: [{ system: "ok", instance: "ok" }], consoleOutput: "" };
    /** Called at CreateImage / CopyImage before it acts (to simulate a racing run). */
    beforeMake?: (action: string, region: string) => void;

    readonly images = new Map<string, FakeImage>();
    readonly snapshots = new Map<string, FakeSnapshot>();
    readonly instances = new Map<string, FakeInstance>();
    readonly faults: Fault[] = [];
    /** CopyImage ClientTokens remembered per region (as EC2 does, beyond the life of the copy). */
    readonly tokens = new Map<string, { request: string; imageId: string }>();
    /** Every call, with its region, in order. */
    readonly calls: FakeCall[] = [];
    /** The state of the instance at the last CreateImage. */
    instanceStateAtCreateImage?: string;
    /** The last state answered for the newest image at the last StartInstances. */
    imageStateAtStart?: string;

    private counter = 0;
    private made = { CreateImage: 0, CopyImage: 0 };

    /** `regions`: the regions whose clients it serves; the first is where seeds go by default. */
    constructor(readonly regions: string[]) {}

    /** Installs the fake on the cached EC2 client of each of its regions; returns the undo. */
    install(): () => void {
        const stub = stubEc2(this.regions, (action, input, _n, region) => {
            this.calls.push({ action, input, region });
            return this.handle(region, action, input);
        });
        return stub.restore;
    }

    /** Makes `times` calls of `action` (those matching `when`) fail with `error`. */
    fail(action: string, error: Error, times = 1, when?: Fault["when"]): void {
        this.faults.push({ action, error, times, when });
    }

    seedInstance(instance: Partial<FakeInstance> & { id: string }): FakeInstance {
        const full: FakeInstance = {
            region: this.regions[0],
            states: ["running"],
            served: [],
            stopSteps: ["stopping", "stopping", "stopped"],
            startSteps: ["pending", "running"],
            statuses: [{ system: "ok", instance: "ok" }],
            consoleOutput: "",
            ...instance,
        };
        this.instances.set(full.id, full);
        return full;
    }

    /** An existing image (with one completed snapshot per device unless `snapshotIds` is given). */
    seedImage(image: Partial<FakeImage> & { id: string; name: string }, snapshotSteps: SnapStep[] = completed, snapshotTags: Tags = {}): FakeImage {
        const region = image.region ?? this.regions[0];
        const snapshotIds =
            image.snapshotIds ?? DEVICES.map(() => this.newSnapshot(region, `Created by CreateImage(i-0000000000000000f) for ${image.id} from ${this.volumeId()}`, snapshotTags, snapshotSteps));
        const full: FakeImage = {
            region, tags: {}, states: ["available"], encrypted: false, deregistered: false, served: [], launch: [], protection: "disabled", madeBy: "seed",
            ...image, snapshotIds,
        };
        this.images.set(full.id, full);
        return full;
    }

    /** The images CopyImage made. */
    copies(): FakeImage[] {
        return [...this.images.values()].filter((i) => i.madeBy === "CopyImage");
    }

    private volumeId(): string {
        return `vol-0${String(++this.counter).padStart(16, "0")}`;
    }

    private newSnapshot(region: string, description: string, tags: Tags, steps: SnapStep[]): string {
        const id = `snap-0${String(++this.counter).padStart(16, "0")}`;
        this.snapshots.set(id, { id, region, description, tags: { ...tags }, steps: steps.map((s) => ({ ...s })), deleted: false, served: [], volumeUsers: [] });
        return id;
    }

    private imageShape(image: FakeImage, state: string) {
        return {
            ImageId: image.id,
            Name: image.name,
            Description: image.description,
            State: state,
            StateReason: state === "failed" ? image.stateReason : undefined,
            OwnerId: OWNER,
            CreationDate: image.creationDate ?? "2026-01-01T00:00:00.000Z",
            LastLaunchedTime: image.lastLaunchedTime,
            Architecture: "x86_64",
            RootDeviceName: "/dev/xvda",
            RootDeviceType: "ebs",
            Tags: toTags(image.tags),
            DeprecationTime: image.deprecationTime,
            DeregistrationProtection: image.protection,
            BlockDeviceMappings: image.snapshotIds.map((SnapshotId, i) => ({
                DeviceName: DEVICES[i] ?? `/dev/sd${String.fromCharCode(103 + i)}`,
                Ebs: { SnapshotId, VolumeSize: 8, VolumeType: "gp3", DeleteOnTermination: true, Encrypted: image.encrypted, KmsKeyId: image.kmsKeyId },
            })),
        };
    }

    private instanceShape(instance: FakeInstance, Name: string) {
        return {
            InstanceId: instance.id,
            State: { Name },
            ...(instance.imageId ? { ImageId: instance.imageId } : {}),
            ...(instance.tags ? { Tags: toTags(instance.tags) } : {}),
        };
    }

    /** A live image of the region, or EC2's NotFound. */
    private image(region: string, id: string): FakeImage {
        const image = this.images.get(id);
        if (!image || image.region !== region || image.deregistered) throw awsError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
        return image;
    }

    private snapshot(region: string, id: string): FakeSnapshot {
        const s = this.snapshots.get(id);
        if (!s || s.region !== region || s.deleted) throw awsError("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
        return s;
    }

    private instance(region: string, id: string): FakeInstance {
        const instance = this.instances.get(id);
        if (!instance || instance.region !== region) throw awsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
        return instance;
    }

    private taggable(region: string, id: string): { tags: Tags } {
        if (id.startsWith("i-")) {
            const instance = this.instance(region, id);
            return { tags: (instance.tags ??= {}) };
        }
        return id.startsWith("ami-") ? this.image(region, id) : this.snapshot(region, id);
    }

    private answerSnapshot(s: FakeSnapshot) {
        const step = next(s.steps);
        s.served.push(`${step.state} ${step.progress}`);
        return { SnapshotId: s.id, OwnerId: OWNER, Description: s.description, State: step.state, Progress: step.progress, VolumeSize: 8, Tags: toTags(s.tags) };
    }

    /** A new image of `region` with its snapshots, in the scripted states. */
    private makeImage(region: string, madeBy: "CreateImage" | "CopyImage", input: Record<string, any>, describe: (imageId: string) => string, tags: Tags, encrypted = false, kmsKeyId?: string): FakeImage {
        const id = `ami-0${madeBy === "CreateImage" ? "a" : "c"}${String(++this.made[madeBy]).padStart(15, "0")}`;
        const spec = (type: string) => fromTags(input.TagSpecifications?.find((s: { ResourceType: string }) => s.ResourceType === type)?.Tags);
        const image: FakeImage = {
            id, region, name: input.Name, description: input.Description, tags: { ...tags, ...spec("image") }, states: [...this.newImageStates],
            stateReason: this.newImageStateReason, snapshotIds: [], encrypted, kmsKeyId, deregistered: false, served: [], launch: [], protection: "disabled", madeBy,
        };
        image.snapshotIds = DEVICES.map(() => this.newSnapshot(region, describe(id), spec("snapshot"), this.newSnapshotSteps));
        this.images.set(id, image);
        return image;
    }

    private nameTaken(region: string, name: string): FakeImage | undefined {
        if (this.hiddenByName > 0) return undefined;
        return [...this.images.values()].find((i) => i.region === region && i.name === name && !i.deregistered);
    }

    /** What DescribeImageReferences answers: resources that reference an image (tests add them). */
    readonly references: Array<{ region: string; ImageId: string; ResourceType: string; Arn: string }> = [];

    /** Answers one call of `action` in `region`, as EC2 would. */
    handle(region: string, action: string, input: Record<string, any>): unknown {
        const fault = this.faults.find((f) => f.action === action && f.times > 0 && (f.when?.(input, region) ?? true));
        if (fault) {
            fault.times--;
            throw fault.error;
        }
        switch (action) {
            case "DescribeInstances": {
                if (!input.InstanceIds) {
                    // By filters: client-token and tag:<key>, every filter matching (as EC2 ANDs them).
                    const filters = (input.Filters ?? []) as Array<{ Name: string; Values: string[] }>;
                    const unknown = filters.find((f) => f.Name !== "client-token" && !f.Name.startsWith("tag:"));
                    if (unknown) throw new Error(`the fake EC2 does not filter instances by ${unknown.Name}`);
                    const matches = (i: FakeInstance) => filters.every((f) => f.Values.includes((f.Name === "client-token" ? i.clientToken : i.tags?.[f.Name.slice(4)]) ?? "\0"));
                    const found = [...this.instances.values()].filter((i) => i.region === region && matches(i));
                    return { Reservations: found.length ? [{ Instances: found.map((i) => this.instanceShape(i, i.states[0])) }] : [] };
                }
                const instance = this.instance(region, input.InstanceIds[0]);
                const Name = next(instance.states);
                instance.served.push(Name);
                return { Reservations: [{ Instances: [this.instanceShape(instance, Name)] }] };
            }
            case "RunInstances": {
                const same = [...this.instances.values()].find((i) => i.region === region && i.clientToken !== undefined && i.clientToken === input.ClientToken);
                if (same) return { Instances: [this.instanceShape(same, same.states[0])] };
                const id = `i-0f${String(this.instances.size + 1).padStart(15, "0")}`;
                const instance = this.seedInstance({
                    id, region, states: [...this.newInstance.states], statuses: [...this.newInstance.statuses], consoleOutput: this.newInstance.consoleOutput,
                    tags: fromTags(input.TagSpecifications?.find((t: { ResourceType: string }) => t.ResourceType === "instance")?.Tags), clientToken: input.ClientToken, imageId: input.ImageId, launchedWith: input,
                });
                return { Instances: [this.instanceShape(instance, "pending")] };
            }
            case "TerminateInstances": {
                const instance = this.instance(region, input.InstanceIds[0]);
                instance.states = instance.states[0] === "terminated" ? ["terminated"] : ["shutting-down", "terminated"];
                return { TerminatingInstances: [{ InstanceId: instance.id, CurrentState: { Name: "shutting-down" } }] };
            }
            case "DescribeInstanceStatus": {
                const instance = this.instance(region, input.InstanceIds[0]);
                const s = next(instance.statuses);
                return {
                    InstanceStatuses: [{ InstanceId: instance.id, InstanceState: { Name: instance.states[0] }, SystemStatus: { Status: s.system }, InstanceStatus: { Status: s.instance } }],
                };
            }
            case "GetConsoleOutput": {
                const instance = this.instance(region, input.InstanceId);
                return { InstanceId: instance.id, Output: Buffer.from(instance.consoleOutput).toString("base64") };
            }
            case "StopInstances": {
                const instance = this.instance(region, input.InstanceIds[0]);
                if (instance.states[0] !== "running") {
                    throw awsError("IncorrectInstanceState", `The instance '${instance.id}' is not in a state from which it can be stopped.`);
                }
                instance.states = [...instance.stopSteps];
                return { StoppingInstances: [{ InstanceId: instance.id, CurrentState: { Name: "stopping" } }] };
            }
            case "StartInstances": {
                const instance = this.instance(region, input.InstanceIds[0]);
                if (instance.states[0] !== "stopped") {
                    throw awsError("IncorrectInstanceState", `The instance '${instance.id}' is not in a state from which it can be started.`);
                }
                this.imageStateAtStart = [...this.images.values()].at(-1)?.served.at(-1);
                instance.states = [...instance.startSteps];
                return { StartingInstances: [{ InstanceId: instance.id, CurrentState: { Name: "pending" } }] };
            }
            case "CreateImage": {
                this.beforeMake?.(action, region);
                const instance = this.instance(region, input.InstanceId);
                this.instanceStateAtCreateImage = instance.states[0];
                const taken = this.nameTaken(region, input.Name);
                if (taken) throw awsError("InvalidAMIName.Duplicate", `AMI name ${input.Name} is already in use by AMI ${taken.id}`);
                const image = this.makeImage(region, "CreateImage", input, (id) => `Created by CreateImage(${instance.id}) for ${id} from ${this.volumeId()}`, {});
                return { ImageId: image.id };
            }
            case "CopyImage": {
                this.beforeMake?.(action, region);
                const { ClientToken, ...request } = input;
                // EC2's idempotency is per token and region; a call without a token is a new request every time.
                const key = ClientToken === undefined ? undefined : `${region}\n${ClientToken}`;
                const remembered = key === undefined ? undefined : this.tokens.get(key);
                if (remembered) {
                    if (remembered.request !== JSON.stringify(request)) throw awsError("IdempotentParameterMismatch", "Arguments on this idempotent request are inconsistent");
                    return { ImageId: remembered.imageId }; // also when that copy is gone, as EC2 does
                }
                if (this.nameTaken(region, input.Name)) throw awsError("InvalidAMIName.Duplicate", `AMI name ${input.Name} is already in use`);
                const source = this.image(input.SourceRegion, input.SourceImageId);
                const kmsKeyId = input.Encrypted ? input.KmsKeyId ?? `arn:aws:kms:${region}:${OWNER}:key/default` : undefined;
                const copy = this.makeImage(
                    region, "CopyImage", input,
                    (id) => `Copied for DestinationAmi ${id} from SourceAmi ${source.id} for SourceSnapshot ${source.snapshotIds[0] ?? "snap-0"}. Task created on 1,767,225,600,000.`,
                    input.CopyImageTags ? source.tags : {}, !!input.Encrypted, kmsKeyId,
                );
                if (key !== undefined) this.tokens.set(key, { request: JSON.stringify(request), imageId: copy.id });
                return { ImageId: copy.id };
            }
            case "DescribeImages": {
                if (input.ImageIds) {
                    const found = (input.ImageIds as string[]).map((id) => {
                        const image = this.images.get(id);
                        if (!image || image.region !== region) throw awsError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
                        return image;
                    });
                    return {
                        Images: found.filter((i) => !i.deregistered).map((image) => {
                            const state = next(image.states);
                            image.served.push(state);
                            return this.imageShape(image, state);
                        }),
                    };
                }
                if (JSON.stringify(input.Owners) !== JSON.stringify(["self"])) throw new Error(`the fake EC2 answers DescribeImages by name for Owners ["self"] only, not ${JSON.stringify(input.Owners)}`);
                const byTag = tagFilters(input.Filters);
                if (byTag) {
                    const tagged = [...this.images.values()].filter((i) => i.region === region && !i.deregistered && byTag(i.tags));
                    return { Images: tagged.map((i) => this.imageShape(i, i.states.at(-1)!)) };
                }
                if (this.hiddenByName > 0) {
                    this.hiddenByName--;
                    return { Images: [] };
                }
                const name = input.Filters?.find((f: { Name: string }) => f.Name === "name")?.Values?.[0];
                const found = [...this.images.values()].filter((i) => i.region === region && i.name === name && !i.deregistered);
                return { Images: found.map((i) => this.imageShape(i, i.states[0])) };
            }
            case "DescribeSnapshots": {
                if (input.SnapshotIds) {
                    const answers = (input.SnapshotIds as string[]).map((id) => this.answerSnapshot(this.snapshot(region, id)));
                    return { Snapshots: this.reverseSnapshotAnswers ? answers.reverse() : answers };
                }
                const snapshotsByTag = tagFilters(input.Filters);
                if (snapshotsByTag) {
                    return { Snapshots: [...this.snapshots.values()].filter((s) => s.region === region && !s.deleted && snapshotsByTag(s.tags)).map((s) => this.answerSnapshot(s)) };
                }
                const filters = (input.Filters ?? []) as Array<{ Name: string; Values: string[] }>;
                const unknown = filters.find((f) => f.Name !== "description");
                if (unknown) throw new Error(`the fake EC2 does not filter snapshots by ${unknown.Name}`);
                const patterns = filters.flatMap((f) => f.Values.map(wildcard));
                const found = [...this.snapshots.values()].filter((s) => s.region === region && !s.deleted && patterns.some((p) => p.test(s.description)));
                return { Snapshots: found.map((s) => this.answerSnapshot(s)) };
            }
            case "DeregisterImage": {
                const image = this.image(region, input.ImageId);
                if (image.deregistered) throw awsError("InvalidAMIID.Unavailable", `The image id '[${image.id}]' is no longer available`);
                if (image.protection !== "disabled") throw awsError("OperationNotPermitted", `Image ${image.id} has deregistration protection enabled`);
                image.deregistered = true;
                if (!input.DeleteAssociatedSnapshots) return { Return: true };
                for (const id of image.snapshotIds) this.snapshot(region, id).deleted = true;
                return { Return: true, DeleteSnapshotResults: image.snapshotIds.map((SnapshotId) => ({ SnapshotId, ReturnCode: "success" })) };
            }
            case "DescribeImageReferences": {
                const ids = input.ImageIds as string[];
                return { ImageReferences: this.references.filter((r) => ids.includes(r.ImageId) && r.region === region).map(({ region: _r, ...r }) => r) };
            }
            case "DeleteSnapshot": {
                this.snapshot(region, input.SnapshotId).deleted = true;
                return {};
            }
            case "CreateTags":
            case "DeleteTags": {
                for (const id of input.Resources) {
                    const target = this.taggable(region, id);
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
            case "DescribeImageAttribute": {
                const image = this.image(region, input.ImageId);
                return { ImageId: image.id, LaunchPermissions: [...image.launch] };
            }
            case "EnableImageDeprecation":
                // EC2 keeps the time rounded to the minute.
                this.image(region, input.ImageId).deprecationTime = new Date(Math.round((input.DeprecateAt as Date).getTime() / 60_000) * 60_000).toISOString();
                return { Return: true };
            case "DisableImageDeprecation":
                this.image(region, input.ImageId).deprecationTime = undefined;
                return { Return: true };
            case "EnableImageDeregistrationProtection":
                this.image(region, input.ImageId).protection = input.WithCooldown ? "enabled-with-cooldown" : "enabled-without-cooldown";
                return {};
            case "DisableImageDeregistrationProtection":
                this.image(region, input.ImageId).protection = "disabled";
                return {};
            case "ModifySnapshotAttribute": {
                const s = this.snapshot(region, input.SnapshotId);
                for (const p of input.CreateVolumePermission?.Remove ?? []) s.volumeUsers = s.volumeUsers.filter((u) => u !== p.UserId);
                for (const p of input.CreateVolumePermission?.Add ?? []) if (!s.volumeUsers.includes(p.UserId)) s.volumeUsers.push(p.UserId);
                return {};
            }
            case "DescribeSnapshotAttribute": {
                const s = this.snapshot(region, input.SnapshotId);
                return { SnapshotId: s.id, CreateVolumePermissions: s.volumeUsers.map((UserId) => ({ UserId })) };
            }
        }
        throw new Error(`the fake EC2 does not know ${action}`);
    }
}

/** A matcher of tag:Key filters (every filter must match), or undefined when the filters name no tag. */
function tagFilters(filters: Array<{ Name: string; Values: string[] }> | undefined): ((tags: Tags) => boolean) | undefined {
    const byTag = (filters ?? []).filter((f) => f.Name.startsWith("tag:"));
    if (byTag.length === 0) return undefined;
    return (tags) => byTag.every((f) => f.Values.includes(tags[f.Name.slice(4)]));
}
