// Unit tests of the GoldenImage component, the consumer helper and the top-level program,
// with Pulumi mocks (pulumi.runtime.setMocks): every resource registration — the dynamic
// Builder, InstanceImage and ImageCopy, @pulumi/aws resources, StackReferences — is answered by the
// mocks below, so the whole graph runs in-process without an engine, a plugin or AWS.
import * as assert from "node:assert/strict";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { goldenImageFromStack, imageIdForRegion } from "../../components/consumer";
import { effectiveReadiness, GoldenImage, GoldenImageArgs, recipeImageName } from "../../components/golden-image";

const INSTANCE_TYPE = "pulumi-nodejs:dynamic/golden-ami:InstanceImage";
const COPY_TYPE = "pulumi-nodejs:dynamic/golden-ami:ImageCopy";
const BUILDER_TYPE = "pulumi-nodejs:dynamic/golden-ami:Builder";
const AWS_INSTANCE = "aws:ec2/instance:Instance";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const STACK_REFERENCE = "pulumi:pulumi:StackReference";
const BUILD_REGION = "us-east-1";
const BASE_AMI = "ami-0123456789abcdef0";
const EXISTING = "i-0aaaaaaaaaaaaaaaa";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>;
    id: string;
    state: Record<string, any>;
}

/** What the mocked stack references answer, by referenced stack name. */
type StackOutputs = Record<string, Record<string, unknown>>;

let counter = 0;
function fakeId(prefix: string): string {
    counter += 1;
    return `${prefix}-${counter.toString(16).padStart(17, "0")}`;
}

/** The inputs of every getAvailabilityZones call the program made (since the last installMocks). */
let zoneQueries: Record<string, unknown>[] = [];

/** Installs mocks that record every registration; returns the record. `zones`: what getAvailabilityZones answers. */
async function installMocks(options: { stacks?: StackOutputs; config?: Record<string, string>; zones?: string[] } = {}): Promise<Registered[]> {
    const registered: Registered[] = [];
    zoneQueries = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
                let id: string;
                let state: Record<string, any> = { ...args.inputs };
                switch (args.type) {
                    case AWS_INSTANCE:
                        id = fakeId("i");
                        state = { ...state, arn: `arn:aws:ec2:${args.inputs.region ?? BUILD_REGION}:123456789012:instance/${id}`, availabilityZone: args.inputs.availabilityZone ?? "us-east-1a" };
                        break;
                    case BUILDER_TYPE:
                        id = fakeId("i");
                        state = { ...state, instanceId: id, region: args.inputs.region ?? BUILD_REGION, clientToken: `golden-ami-b-${id}` };
                        break;
                    case INSTANCE_TYPE:
                        id = fakeId("ami");
                        state = { ...state, imageId: id, region: args.inputs.region ?? BUILD_REGION, name: args.inputs.name, snapshotIds: [fakeId("snap")], state: "available", sourceInstanceId: args.inputs.instanceId };
                        break;
                    case COPY_TYPE:
                        id = fakeId("ami");
                        state = { ...state, imageId: id, region: args.inputs.region, name: args.inputs.name ?? "copied", snapshotIds: [fakeId("snap")] };
                        break;
                    case LAUNCH_TEMPLATE:
                        id = fakeId("lt");
                        state = { ...state, latestVersion: 1 };
                        break;
                    case STACK_REFERENCE: {
                        id = args.inputs.name;
                        const outputs = options.stacks?.[args.inputs.name];
                        if (!outputs) throw new Error(`mock: no stack ${args.inputs.name}`);
                        state = { name: args.inputs.name, outputs, secretOutputNames: [] };
                        break;
                    }
                    default:
                        id = `${args.name}-id`;
                }
                registered.push({ type: args.type, name: args.name, inputs: args.inputs, id, state });
                return { id, state };
            },
            call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
                if (args.token === "aws:index/getAvailabilityZones:getAvailabilityZones") {
                    zoneQueries.push(args.inputs);
                    const names = options.zones ?? ["us-east-1a", "us-east-1b", "us-east-1c"];
                    return { names, zoneIds: names.map((_, i) => `az${i + 1}`), id: BUILD_REGION };
                }
                throw new Error(`mock: unexpected call ${args.token}`);
            },
        },
        "golden-ami",
        "unit",
        false,
    );
    pulumi.runtime.setAllConfig({ "aws:region": BUILD_REGION, ...(options.config ?? {}) });
    return registered;
}

/** The value of an Output (rejects when the Output failed). */
function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return (output as unknown as { promise(): Promise<T> }).promise();
}

/** Waits until the mocks have seen every registration the program started. */
async function settle(...outputs: pulumi.Output<unknown>[]): Promise<void> {
    await Promise.all(outputs.map((o) => valueOf(o)));
    await new Promise((resolve) => setImmediate(resolve));
}

const ofType = (registered: Registered[], type: string) => registered.filter((r) => r.type === type);


describe("unit: GoldenImage component (Pulumi mocks)", function () {
    this.timeout(30_000); // a dependency cycle shows as a hang: fail fast instead
    const withBuilder = (extra: Partial<GoldenImageArgs> = {}, builder: GoldenImageArgs["builder"] = {}): GoldenImageArgs => ({
        builder: {
            baseImageId: BASE_AMI,
            subnetId: "subnet-0123456789abcdef0",
            vpcSecurityGroupIds: ["sg-0123456789abcdef0"],
            iamInstanceProfile: "builder-profile",
            userData: "#!/bin/bash\necho hi\nshutdown -h now\n",
            rootVolume: { sizeGiB: 16, type: "gp3", encrypted: true, kmsKeyId: "alias/golden" },
            ...builder,
        },
        ...extra,
    });

    it("builds builder → image → copies in dependency order, with the builder's id and the image's id flowing down", async () => {
        const registered = await installMocks();
        const golden = new GoldenImage("web", withBuilder({ copyToRegions: ["eu-west-1", "ap-southeast-2"] }));
        await settle(golden.regionImageIds, golden.builderInstanceId);

        const builders = ofType(registered, BUILDER_TYPE);
        const images = ofType(registered, INSTANCE_TYPE);
        const copies = ofType(registered, COPY_TYPE);
        assert.equal(builders.length, 1);
        assert.equal(images.length, 1);
        assert.equal(copies.length, 2);
        assert.equal(images[0].inputs.instanceId, builders[0].id, "InstanceImage images the builder");
        for (const copy of copies) {
            assert.equal(copy.inputs.sourceImageId, images[0].id, "copies are made from the image");
            assert.equal(copy.inputs.sourceRegion, BUILD_REGION);
            assert.equal(copy.inputs.name, images[0].inputs.name, "copies carry the image's name");
        }
        assert.deepEqual(copies.map((c) => c.inputs.region).sort(), ["ap-southeast-2", "eu-west-1"]);
        const order = registered.map((r) => r.type);
        assert.ok(order.indexOf(BUILDER_TYPE) < order.indexOf(INSTANCE_TYPE), "builder registered before the image");
        assert.ok(order.indexOf(INSTANCE_TYPE) < order.indexOf(COPY_TYPE), "image registered before the copies");
        assert.equal(await valueOf(golden.builderInstanceId), builders[0].id);
    });

    it("launches golden-ami's own Builder with the recipe, encrypted root by default, tags, and what defines the image as rebuildOn", async () => {
        const registered = await installMocks();
        const golden = new GoldenImage("api", withBuilder({}, { instanceType: "t3.small", keyName: "ops", tags: { team: "platform" }, volumes: [{ deviceName: "/dev/sdf", sizeGiB: 20 }] }));
        await settle(golden.imageId);
        const [builder] = ofType(registered, BUILDER_TYPE);
        assert.equal(ofType(registered, AWS_INSTANCE).length, 0, "no @pulumi/aws instance: the builder is golden-ami's own");
        assert.equal(builder.name, "api-builder");
        assert.equal(builder.inputs.baseImageId, BASE_AMI);
        assert.equal(builder.inputs.instanceType, "t3.small");
        assert.equal(builder.inputs.userData, "#!/bin/bash\necho hi\nshutdown -h now\n");
        assert.deepEqual(builder.inputs.rootVolume, { sizeGiB: 16, type: "gp3", encrypted: true, kmsKeyId: "alias/golden" });
        assert.deepEqual(builder.inputs.volumes, [{ deviceName: "/dev/sdf", sizeGiB: 20 }]);
        assert.equal(builder.inputs.subnetId, "subnet-0123456789abcdef0");
        assert.deepEqual(builder.inputs.vpcSecurityGroupIds, ["sg-0123456789abcdef0"]);
        assert.equal(builder.inputs.iamInstanceProfile, "builder-profile");
        assert.equal(builder.inputs.keyName, "ops");
        assert.equal(builder.inputs.region, BUILD_REGION);
        assert.deepEqual(builder.inputs.tags, { team: "platform" });
        assert.equal(builder.inputs.waitFor, "stopped", "self-stop with user data: the Builder waits for the power-off");
        assert.deepEqual(builder.inputs.rebuildOn, { namePrefix: "api", blockDeviceMappings: null, stopBeforeImage: true, verify: null });
        const [image] = ofType(registered, INSTANCE_TYPE);
        assert.equal(image.inputs.waitForBuilder, "none", "the Builder waited already");
        assert.equal(image.inputs.afterImage, "terminated", "the builder is terminated once the image is available");
        assert.equal(await valueOf(golden.baseImageId!), BASE_AMI);
    });

    it("keepBuilder keeps the builder stopped after the image; an explicit afterImage wins; keepBuilder without a builder is refused", async () => {
        const registered = await installMocks();
        const kept = new GoldenImage("kept", withBuilder({ keepBuilder: true }));
        const running = new GoldenImage("running", withBuilder({ afterImage: "running" }));
        await settle(kept.imageId, running.imageId);
        assert.equal(registered.find((r) => r.type === INSTANCE_TYPE && r.name === "kept-image")!.inputs.afterImage, "stopped");
        assert.equal(registered.find((r) => r.type === INSTANCE_TYPE && r.name === "running-image")!.inputs.afterImage, "running");
        assert.throws(() => new GoldenImage("nokeep", { existingInstanceId: EXISTING, keepBuilder: true }), /keepBuilder applies to a builder/);
    });

    it("defaults the builder to t3.micro and leaves the root volume to the Builder's defaults", async () => {
        const registered = await installMocks();
        const golden = new GoldenImage("min", { builder: { baseImageId: BASE_AMI } });
        await settle(golden.imageId);
        const [builder] = ofType(registered, BUILDER_TYPE);
        assert.equal(builder.inputs.instanceType, "t3.micro");
        assert.equal(builder.inputs.rootVolume, undefined);
        assert.equal(builder.inputs.waitFor, "status-ok");
    });

    it("never asks for delete-before-replace; every child is the component's", async () => {
        await installMocks();
        const seen: Array<{ type: string; opts: pulumi.ResourceOptions }> = [];
        const golden = new GoldenImage("rec", withBuilder({ copyToRegions: ["eu-west-1"] }), {
            transformations: [(a) => { seen.push({ type: a.type, opts: a.opts }); return undefined; }],
        });
        await settle(golden.regionImageIds);
        const children = seen.filter((s) => s.type !== "golden-ami:index:GoldenImage");
        assert.deepEqual(children.map((s) => s.type).sort(), [BUILDER_TYPE, COPY_TYPE, INSTANCE_TYPE]);
        for (const s of children) {
            assert.ok(!(s.opts as pulumi.CustomResourceOptions).deleteBeforeReplace, `${s.type} does not force delete-before-replace`);
            assert.equal((s.opts.parent as pulumi.Resource | undefined) === golden, true, `${s.type} is a child of the component`);
        }
    });

    it("existingInstanceId takes a user's own aws.ec2.Instance: imaged, never terminated, no Builder", async () => {
        const registered = await installMocks();
        const own = new aws.ec2.Instance("own", { ami: BASE_AMI, instanceType: "t3.micro" });
        const golden = new GoldenImage("theirs", { existingInstanceId: own.id });
        await settle(golden.imageId);
        const [instance] = ofType(registered, AWS_INSTANCE);
        const [image] = ofType(registered, INSTANCE_TYPE);
        assert.equal(image.inputs.instanceId, instance.id);
        assert.equal(image.inputs.afterImage, undefined, "left to InstanceImage's default (stopped)");
        assert.equal(ofType(registered, BUILDER_TYPE).length, 0);
    });

    it("refuses, before registering anything, a subnet ID, security group or base image ID of the wrong shape, naming the field", async () => {
        await installMocks();
        assert.throws(() => new GoldenImage("sub", withBuilder({}, { subnetId: "10.0.1.0/24" })), /builder\.subnetId "10\.0\.1\.0\/24" is not a subnet ID/);
        assert.throws(() => new GoldenImage("sg", withBuilder({}, { vpcSecurityGroupIds: ["default"] })), /builder\.vpcSecurityGroupIds lists "default"/);
        assert.throws(() => new GoldenImage("ami", withBuilder({}, { baseImageId: "al2023" })), /builder\.baseImageId "al2023" is not an AMI ID/);
        assert.throws(() => new GoldenImage("judge", withBuilder({ verify: { userData: "#!/bin/bash\ncurl -f localhost\n" } })), /verify\.userData is a test script with no way to say it passed: it must print GOLDEN-AMI-OK/);
        assert.throws(() => new GoldenImage("vsub", withBuilder({ verify: { subnetId: "public-a" } })), /verify\.subnetId "public-a" is not a subnet ID/);
    });

    it("verify goes to the InstanceImage and into the builder's recipe (a new verify is a new build)", async () => {
        const registered = await installMocks();
        const verify = { instanceType: "t3.small", userData: "#!/bin/bash\ncurl -fs localhost && echo GOLDEN-AMI-OK\nshutdown -h now\n" };
        const golden = new GoldenImage("gated", withBuilder({ verify, copyToRegions: ["eu-west-1"] }));
        await settle(golden.regionImageIds);
        assert.deepEqual(ofType(registered, INSTANCE_TYPE)[0].inputs.verify, verify);
        assert.deepEqual(ofType(registered, BUILDER_TYPE)[0].inputs.rebuildOn.verify, verify);
    });

    it("names the image prefix-<recipe hash>: a new builder (new recipe) gives a new name, the same recipe the same name", async () => {
        const registered = await installMocks();
        const golden = new GoldenImage("named", withBuilder({ namePrefix: "web-golden" }));
        await settle(golden.imageName);
        const [builder] = ofType(registered, BUILDER_TYPE);
        const [image] = ofType(registered, INSTANCE_TYPE);
        assert.match(image.inputs.name, /^web-golden-[0-9a-f]{12}$/);
        assert.equal(image.inputs.name, recipeImageName("web-golden", { instanceId: builder.id, region: BUILD_REGION }));
        assert.equal(await valueOf(golden.imageName), image.inputs.name);
        const same = recipeImageName("web-golden", { instanceId: builder.id, region: BUILD_REGION, blockDeviceMappings: [], stopBeforeImage: true });
        assert.equal(same, image.inputs.name, "defaults hash like their explicit values");
        assert.notEqual(recipeImageName("web-golden", { instanceId: "i-0bbbbbbbbbbbbbbbb", region: BUILD_REGION }), image.inputs.name);
        assert.notEqual(
            recipeImageName("web-golden", { instanceId: builder.id, region: BUILD_REGION, blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true }] }),
            image.inputs.name,
        );
        const a = recipeImageName("x", { instanceId: EXISTING, blockDeviceMappings: [{ deviceName: "/dev/xvda", volumeSize: 9 }, { deviceName: "/dev/sdf", noDevice: true }] });
        const b = recipeImageName("x", { instanceId: EXISTING, blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true }, { deviceName: "/dev/xvda", volumeSize: 9 }] });
        assert.equal(a, b, "the order of block device overrides does not matter");
    });

    it("maps readiness to the InstanceImage's waitForBuilder (defaults by source kind) and passes provisioningTimeoutMinutes", async () => {
        const cases: Array<[string, GoldenImageArgs, string]> = [
            ["r-userdata", withBuilder(), "stopped"],
            ["r-nouserdata", withBuilder({}, { userData: undefined }), "status-ok"],
            ["r-existing", { existingInstanceId: EXISTING }, "none"],
            ["r-explicit-ok", withBuilder({ readiness: "status-ok" }), "status-ok"],
            ["r-explicit-none", withBuilder({ readiness: "none" }), "none"],
            ["r-existing-selfstop", { existingInstanceId: EXISTING, readiness: "self-stop" }, "stopped"],
        ];
        const registered = await installMocks();
        const components = cases.map(([name, args]) => new GoldenImage(name, { ...args, provisioningTimeoutMinutes: 45 }));
        await settle(...components.map((c) => c.imageId));
        for (const [name, args, expected] of cases) {
            // A builder of golden-ami's waits itself (Builder.waitFor); an existing instance is waited for by the image.
            const waiter = args.builder
                ? registered.find((r) => r.type === BUILDER_TYPE && r.name === `${name}-builder`)!
                : registered.find((r) => r.type === INSTANCE_TYPE && r.name === `${name}-image`)!;
            assert.equal(args.builder ? waiter.inputs.waitFor : waiter.inputs.waitForBuilder, expected, name);
            assert.equal(waiter.inputs.provisioningTimeoutMinutes, 45, name);
        }
        assert.equal(effectiveReadiness({ builder: { baseImageId: BASE_AMI, userData: "x" } }), "self-stop");
        assert.equal(effectiveReadiness({ builder: { baseImageId: BASE_AMI } }), "status-ok");
        assert.equal(effectiveReadiness({ existingInstanceId: EXISTING }), "none");
    });

    it("passes image settings to the InstanceImage and distribution to the image and every copy", async () => {
        const registered = await installMocks();
        const distribution = {
            launchAccounts: ["111122223333"],
            launchOrganizations: ["arn:aws:organizations::123456789012:organization/o-abcde12345"],
            shareSnapshots: true,
            deprecateAt: "2030-01-31T00:00:00Z",
            deregistrationProtection: true,
        };
        const golden = new GoldenImage("dist", {
            existingInstanceId: EXISTING,
            description: "web server",
            tags: { team: "platform" },
            snapshotTags: { backup: "no" },
            blockDeviceMappings: [{ deviceName: "/dev/sdf", noDevice: true }],
            afterImage: "running",
            stopTimeoutMinutes: 5,
            imageTimeoutMinutes: 40,
            copyToRegions: ["eu-west-1", "us-west-2"],
            copies: { encrypted: true, kmsKeyIds: { "eu-west-1": "arn:aws:kms:eu-west-1:123456789012:key/abc" }, copyImageTags: true, imageTimeoutMinutes: 90 },
            distribution,
        });
        await settle(golden.regionImageIds);
        const [image] = ofType(registered, INSTANCE_TYPE);
        assert.equal(image.inputs.instanceId, EXISTING);
        assert.equal(image.inputs.region, BUILD_REGION);
        assert.equal(image.inputs.description, "web server");
        assert.deepEqual(image.inputs.tags, { team: "platform" });
        assert.deepEqual(image.inputs.snapshotTags, { backup: "no" });
        assert.deepEqual(image.inputs.blockDeviceMappings, [{ deviceName: "/dev/sdf", noDevice: true }]);
        assert.equal(image.inputs.stopBeforeImage, undefined, "stop-before-image is left to its default (true)");
        assert.equal(image.inputs.afterImage, "running");
        assert.equal(image.inputs.stopTimeoutMinutes, 5);
        assert.equal(image.inputs.imageTimeoutMinutes, 40);
        for (const [key, value] of Object.entries(distribution)) assert.deepEqual(image.inputs[key], value, `image ${key}`);
        const copies = ofType(registered, COPY_TYPE);
        for (const copy of copies) {
            for (const [key, value] of Object.entries(distribution)) assert.deepEqual(copy.inputs[key], value, `copy ${key}`);
            assert.equal(copy.inputs.encrypted, true);
            assert.equal(copy.inputs.copyImageTags, true);
            assert.equal(copy.inputs.imageTimeoutMinutes, 90);
            assert.deepEqual(copy.inputs.tags, { team: "platform" });
            assert.equal(copy.inputs.description, "web server");
        }
        assert.equal(copies.find((c) => c.inputs.region === "eu-west-1")!.inputs.kmsKeyId, "arn:aws:kms:eu-west-1:123456789012:key/abc");
        assert.equal(copies.find((c) => c.inputs.region === "us-west-2")!.inputs.kmsKeyId, undefined);
    });

    it("outputs imageId, imageName, snapshotIds, builderInstanceId and regionImageIds with the build region included", async () => {
        const registered = await installMocks();
        const golden = new GoldenImage("outs", withBuilder({ copyToRegions: ["eu-west-1", "us-west-2"] }));
        await settle(golden.regionImageIds);
        const [image] = ofType(registered, INSTANCE_TYPE);
        const copies = ofType(registered, COPY_TYPE);
        assert.equal(await valueOf(golden.imageId), image.id);
        assert.equal(await valueOf(golden.region), BUILD_REGION);
        assert.deepEqual(await valueOf(golden.snapshotIds), image.state.snapshotIds);
        assert.deepEqual(await valueOf(golden.regionImageIds), {
            [BUILD_REGION]: image.id,
            "eu-west-1": copies.find((c) => c.inputs.region === "eu-west-1")!.id,
            "us-west-2": copies.find((c) => c.inputs.region === "us-west-2")!.id,
        });
        assert.deepEqual(Object.keys(golden.copies).sort(), ["eu-west-1", "us-west-2"]);
    });

    it("captures an existing instance without creating any aws.ec2.Instance", async () => {
        const registered = await installMocks();
        const golden = new GoldenImage("byhand", { existingInstanceId: EXISTING, copyToRegions: ["eu-west-1"] });
        await settle(golden.regionImageIds);
        assert.equal(ofType(registered, AWS_INSTANCE).length + ofType(registered, BUILDER_TYPE).length, 0);
        assert.equal(golden.builder, undefined);
        assert.equal(ofType(registered, INSTANCE_TYPE)[0].inputs.instanceId, EXISTING);
        assert.equal(await valueOf(golden.builderInstanceId), EXISTING);
        assert.equal(Object.keys(await valueOf(golden.regionImageIds)).length, 2);
    });

    it("refuses both or neither of builder and existingInstanceId, and other wrong shapes, registering nothing", async () => {
        const registered = await installMocks();
        assert.throws(() => new GoldenImage("both", { existingInstanceId: EXISTING, builder: { baseImageId: BASE_AMI } }), /either `builder`.*or `existingInstanceId`.*not both/);
        assert.throws(() => new GoldenImage("neither", {}), /nothing to image.*`builder`.*`existingInstanceId`/);
        assert.throws(() => new GoldenImage("nobase", { builder: {} }), /needs a base image: set builder.baseImageId .* or builder.baseImage/);
        assert.throws(() => new GoldenImage("twobase", { builder: { baseImageId: BASE_AMI, baseImage: { ssmParameter: "/x" } } }), /baseImageId or builder.baseImage.*not both/);
        assert.throws(() => new GoldenImage("dup", { existingInstanceId: EXISTING, copyToRegions: ["eu-west-1", "eu-west-1"] }), /eu-west-1 twice/);
        assert.throws(() => new GoldenImage("self", { existingInstanceId: EXISTING, copyToRegions: [BUILD_REGION] }), /the build region/);
        assert.throws(() => new GoldenImage("az", { existingInstanceId: EXISTING, copyToRegions: ["eu-west-1a"] }), /availability zone, not a region; use "eu-west-1": AMIs are regional/);
        assert.throws(
            () => new GoldenImage("buildaz", { existingInstanceId: EXISTING, copyToRegions: [`${BUILD_REGION}b`] }),
            new RegExp(`launches in every zone of it; and ${BUILD_REGION} is the build region, which needs no copy: remove it`),
        );
        assert.throws(() => new GoldenImage("ready", { existingInstanceId: EXISTING, readiness: "later" as never }), /readiness must be one of/);
        assert.throws(() => new GoldenImage("kms", { existingInstanceId: EXISTING, copies: { kmsKeyIds: { "eu-west-1": "k" } } }), /not in copyToRegions/);
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(registered.length, 0, "nothing registered");
    });

    it("copyToAccounts: one ImageCopy per account and region, acting as the account's role, sharing the source, with that account's key and distribution", async () => {
        const registered = await installMocks();
        const golden = new GoldenImage("acct", withBuilder({
            copyToAccounts: [
                { accountId: "111122223333", roleArn: "arn:aws:iam::111122223333:role/golden-ami-target" },
                {
                    accountId: "444455556666", roleArn: "arn:aws:iam::444455556666:role/t", regions: ["eu-west-1", "us-west-2"],
                    kmsKeyIds: { "eu-west-1": "alias/b-eu" }, distribution: { launchAccounts: ["777788889999"] },
                },
            ],
        }));
        await settle(golden.accountImageIds, golden.regionImageIds);
        const image = ofType(registered, INSTANCE_TYPE)[0];
        const copies = ofType(registered, COPY_TYPE);
        assert.deepEqual(copies.map((c) => c.name).sort(), ["acct-copy-111122223333", "acct-copy-444455556666-eu-west-1", "acct-copy-444455556666-us-west-2"]);
        for (const c of copies) {
            assert.equal(c.inputs.shareSource, true, c.name);
            assert.equal(c.inputs.sourceImageId, image.id, c.name);
            assert.ok(c.inputs.roleArn.includes(`::${c.inputs.accountId}:role/`), c.name);
        }
        const byName = Object.fromEntries(copies.map((c) => [c.name, c.inputs]));
        assert.equal(byName["acct-copy-111122223333"].region, BUILD_REGION, "the default region is the build region");
        assert.equal(byName["acct-copy-444455556666-eu-west-1"].kmsKeyId, "alias/b-eu");
        assert.equal(byName["acct-copy-444455556666-us-west-2"].kmsKeyId, undefined);
        assert.deepEqual(byName["acct-copy-444455556666-eu-west-1"].launchAccounts, ["777788889999"]);
        assert.equal(byName["acct-copy-111122223333"].launchAccounts, undefined, "no distribution unless the target's own");
        const ids = await valueOf(golden.accountImageIds);
        assert.deepEqual(Object.keys(ids).sort(), ["111122223333", "444455556666"]);
        assert.deepEqual(Object.keys(ids["444455556666"]).sort(), ["eu-west-1", "us-west-2"]);
    });

    it("copyToAccounts: refuses a bad account ID, a role ARN that is not one or of another account, a duplicate account, naming the field", async () => {
        await installMocks();
        const role = "arn:aws:iam::111122223333:role/t";
        assert.throws(() => new GoldenImage("a1", withBuilder({ copyToAccounts: [{ accountId: "1111", roleArn: role }] })), /copyToAccounts\[0\]\.accountId must be a 12-digit AWS account ID/);
        assert.throws(() => new GoldenImage("a2", withBuilder({ copyToAccounts: [{ accountId: "111122223333", roleArn: "arn:aws:iam::111122223333:user/bob" }] })), /copyToAccounts\[0\]\.roleArn "arn:aws:iam::111122223333:user\/bob" is not an IAM role ARN/);
        assert.throws(() => new GoldenImage("a3", withBuilder({ copyToAccounts: [{ accountId: "444455556666", roleArn: role }] })), /copyToAccounts\[0\]\.roleArn is a role of account 111122223333, but accountId is 444455556666/);
        assert.throws(() => new GoldenImage("a4", withBuilder({ copyToAccounts: [{ accountId: "111122223333", roleArn: role }, { accountId: "111122223333", roleArn: role }] })), /lists account 111122223333 twice/);
        assert.throws(() => new GoldenImage("a5", withBuilder({ copyToAccounts: [{ accountId: "111122223333", roleArn: role, regions: ["eu-west-1"], kmsKeyIds: { "us-west-2": "alias/k" } }] })), /kmsKeyIds names us-west-2, which is not in its regions/);
        const onAwsEbs = (rootVolume: NonNullable<GoldenImageArgs["builder"]>["rootVolume"]) =>
            new GoldenImage(`a6-${JSON.stringify(rootVolume)}`, withBuilder({ copyToAccounts: [{ accountId: "111122223333", roleArn: role }] }, { rootVolume }));
        assert.throws(() => onAwsEbs({ sizeGiB: 16 }), /copyToAccounts needs builder\.rootVolume\.kmsKeyId: the builder's root volume is encrypted with the account's aws\/ebs key by default/);
        assert.throws(() => onAwsEbs({ encrypted: true }), /copyToAccounts needs builder\.rootVolume\.kmsKeyId/);
        assert.doesNotThrow(() => onAwsEbs({ encrypted: false }));
        assert.doesNotThrow(() => onAwsEbs({ kmsKeyId: "alias/golden" }));
    });
});

/** The outputs of a build stack (us-east-1, copied to eu-west-1), as consumers and regional stacks read them. */
const BUILD_STACK_OUTPUTS = {
    imageId: "ami-0000000000000000a",
    imageName: "golden-ami-0123456789ab",
    region: "us-east-1",
    regionImageIds: { "us-east-1": "ami-0000000000000000a", "eu-west-1": "ami-0000000000000000b" },
    snapshotIds: ["snap-0000000000000000a"],
};

describe("unit: goldenImageFromStack (Pulumi mocks)", function () {
    this.timeout(30_000); // a dependency cycle shows as a hang: fail fast instead
    const STACK = "organization/golden-ami/build-us-east-1";
    const stacks: StackOutputs = {
        [STACK]: BUILD_STACK_OUTPUTS,
        "organization/other/not-golden": { something: "else" },
    };

    it("gives the AMI ID for the requested region, and for this stack's aws:region by default", async () => {
        const registered = await installMocks({ stacks, config: { "aws:region": "eu-west-1" } });
        const west = goldenImageFromStack(STACK, "eu-west-1");
        assert.equal(await valueOf(west.imageId), "ami-0000000000000000b");
        assert.equal(await valueOf(west.imageName), "golden-ami-0123456789ab");
        const byDefault = goldenImageFromStack(STACK, undefined, { resourceName: "again" });
        assert.equal(await valueOf(byDefault.region), "eu-west-1");
        assert.equal(await valueOf(byDefault.imageId), "ami-0000000000000000b");
        assert.equal(ofType(registered, STACK_REFERENCE).length, 2);
    });

    it("fails with a clear error naming the regions the stack has when the region is missing", async () => {
        await installMocks({ stacks });
        const tokyo = goldenImageFromStack(STACK, "ap-northeast-1");
        await assert.rejects(
            valueOf(tokyo.imageId),
            /stack "organization\/golden-ami\/build-us-east-1" has no golden image in ap-northeast-1; it has images in eu-west-1, us-east-1\. What to do: add ap-northeast-1 to golden-ami:copyToRegions/,
        );
        assert.throws(() => imageIdForRegion("s", { "us-east-1": "ami-1" }, "eu-west-1"), (e: Error & { code?: string }) => e.code === "RegionNotInGoldenImage");
    });

    it("says so when the referenced stack is not a golden-image stack", async () => {
        await installMocks({ stacks });
        const other = goldenImageFromStack("organization/other/not-golden", "us-east-1");
        await assert.rejects(valueOf(other.imageId), /has no regionImageIds output, so it is not a golden-image stack/);
    });
});

describe("unit: the top-level program (index.ts) in each mode (Pulumi mocks)", function () {
    this.timeout(30_000); // a dependency cycle shows as a hang: fail fast instead
    const PROGRAM = path.resolve(__dirname, "..", "..", "index.ts");
    const SOURCE = "organization/golden-ami/build-us-east-1";
    const stacks: StackOutputs = {
        [SOURCE]: BUILD_STACK_OUTPUTS,
    };

    function runProgram(): Record<string, pulumi.Output<unknown>> {
        delete require.cache[PROGRAM];
        return require(PROGRAM);
    }

    async function resolved(outputs: Record<string, pulumi.Output<unknown>>): Promise<Record<string, unknown>> {
        const out: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(outputs)) out[key] = await valueOf(value);
        return out;
    }

    it("build mode: a GoldenImage from the config, exporting { imageId, imageName, region, regionImageIds, snapshotIds }", async () => {
        const registered = await installMocks({
            config: {
                "golden-ami:mode": "build",
                "golden-ami:existingInstanceId": EXISTING,
                "golden-ami:copyToRegions": JSON.stringify(["eu-west-1", "us-west-2"]),
                "golden-ami:distribution": JSON.stringify({ launchAccounts: ["111122223333"] }),
                "golden-ami:tags": JSON.stringify({ team: "platform" }),
            },
        });
        const out = await resolved(runProgram());
        assert.deepEqual(Object.keys(out).sort(), ["generation", "imageId", "imageName", "region", "regionImageIds", "retention", "snapshotIds"]);
        assert.deepEqual(Object.keys(out.retention as object).sort(), ["eu-west-1", "us-east-1", "us-west-2"], "a retention report per region");
        const [image] = ofType(registered, INSTANCE_TYPE);
        assert.equal(out.imageId, image.id);
        assert.equal(out.region, BUILD_REGION);
        assert.match(out.imageName as string, /^golden-ami-[0-9a-f]{12}$/);
        assert.deepEqual(Object.keys(out.regionImageIds as object).sort(), ["eu-west-1", "us-east-1", "us-west-2"]);
        assert.deepEqual(image.inputs.launchAccounts, ["111122223333"]);
        assert.equal(ofType(registered, AWS_INSTANCE).length, 0);
    });

    it("build mode with a builder object in config (userData) launches the builder", async () => {
        const registered = await installMocks({
            config: {
                "golden-ami:mode": "build",
                "golden-ami:builder": JSON.stringify({ baseImageId: BASE_AMI, instanceType: "t3.small", userData: "#!/bin/sh\npoweroff\n" }),
            },
        });
        const out = await resolved(runProgram());
        const [builder] = ofType(registered, BUILDER_TYPE);
        assert.equal(builder.inputs.instanceType, "t3.small");
        assert.equal(builder.inputs.waitFor, "stopped");
        assert.deepEqual(Object.keys(out.regionImageIds as object), [BUILD_REGION]);
    });

    it("regional mode: copies the source stack's image into this region and exports the same shape", async () => {
        const registered = await installMocks({
            stacks,
            config: { "aws:region": "eu-central-1", "golden-ami:mode": "regional", "golden-ami:sourceStack": SOURCE, "golden-ami:distribution": JSON.stringify({ launchAccounts: ["111122223333"] }) },
        });
        const out = await resolved(runProgram());
        const [copy] = ofType(registered, COPY_TYPE);
        assert.equal(copy.inputs.sourceImageId, "ami-0000000000000000a");
        assert.equal(copy.inputs.sourceRegion, "us-east-1");
        assert.equal(copy.inputs.region, "eu-central-1");
        assert.equal(copy.inputs.name, "golden-ami-0123456789ab");
        assert.deepEqual(copy.inputs.launchAccounts, ["111122223333"]);
        assert.deepEqual(out, {
            imageId: copy.id,
            imageName: "golden-ami-0123456789ab",
            region: "eu-central-1",
            regionImageIds: { "eu-central-1": copy.id },
            snapshotIds: copy.state.snapshotIds,
            generation: copy.state.generation,
            retention: { "eu-central-1": copy.state.retentionReport },
        });
    });

    it("consumer mode: a launch template with the region's golden AMI and two instances in two zones", async () => {
        const registered = await installMocks({
            stacks,
            config: { "aws:region": "eu-west-1", "golden-ami:mode": "consumer", "golden-ami:sourceStack": SOURCE },
        });
        const out = await resolved(runProgram());
        const [template] = ofType(registered, LAUNCH_TEMPLATE);
        assert.equal(template.inputs.imageId, "ami-0000000000000000b", "the eu-west-1 copy");
        assert.deepEqual(template.inputs.metadataOptions, { httpTokens: "required", httpEndpoint: "enabled" });
        const instances = ofType(registered, AWS_INSTANCE);
        assert.equal(instances.length, 2);
        // Only zones that are available are asked for; the two instances go to two different ones of them.
        assert.deepEqual(zoneQueries.map((q) => q.state), ["available"]);
        const zones = instances.map((i) => i.inputs.availabilityZone);
        assert.equal(new Set(zones).size, 2, `two distinct zones: ${zones.join(", ")}`);
        for (const i of instances) assert.equal(i.inputs.launchTemplate.id, template.id);
        assert.equal(out.imageId, "ami-0000000000000000b");
        assert.equal((out.instanceIds as string[]).length, 2);
    });

    it("consumer mode: more instances than zones go round the first two zones in EC2's order", async () => {
        const answer = ["eu-west-1c", "eu-west-1a", "eu-west-1b"]; // not sorted: the order is EC2's, kept
        const registered = await installMocks({
            stacks,
            zones: answer,
            config: { "aws:region": "eu-west-1", "golden-ami:mode": "consumer", "golden-ami:sourceStack": SOURCE, "golden-ami:instanceCount": "3" },
        });
        await resolved(runProgram());
        const zones = ofType(registered, AWS_INSTANCE).map((i) => i.inputs.availabilityZone);
        assert.deepEqual(zones, [answer[0], answer[1], answer[0]]);
    });

    it("refuses an unknown mode", async () => {
        await installMocks({ config: { "golden-ami:mode": "deploy" } });
        assert.throws(() => runProgram(), /golden-ami:mode must be one of build, regional, consumer/);
    });
});
