// providers/lifecycle/builder.ts: the Builder's provider against the fake EC2 (RunInstances,
// status checks, console, termination) in virtual time — check's defaults, diff's replace and
// update keys, create (the launch, readiness, a failed customisation terminated, a builder
// whose termination fails kept in state), read, the tag update, delete.
import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { MANAGED_BY_VALUE, MARKER_TAGS } from "../../providers/core/naming";
import { FAILURE_MARKER } from "../../providers/core/options";
import { BUILDER_REPLACE_KEYS, builderIdentity, BuilderInputs } from "../../providers/lifecycle/builder";
import { FakeEc2 } from "../support/fake-ec2";
import { awsError, countByAction, FakeClock, rejection, testProviders } from "../support/fakes";

const REGION = "us-east-1";
const BASE = "ami-0b00000000000000b";
const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:Builder::web-builder";

describe("Builder provider (providers/lifecycle/builder.ts)", function () {
    let ec2: FakeEc2;
    let clock: FakeClock;
    let restore: () => void;
    let said: string[];
    let provider: pulumi.dynamic.ResourceProvider;

    beforeEach(() => {
        ec2 = new FakeEc2([REGION]);
        ec2.seedImage({ id: BASE, name: "base" });
        clock = new FakeClock();
        restore = ec2.install();
        said = [];
        provider = testProviders(clock, (m) => said.push(m)).Builder;
    });
    afterEach(() => restore());

    const checked = async (news: Record<string, unknown>) => {
        const r = await provider.check!({}, { region: REGION, baseImageId: BASE, resourceUrn: URN, ...news });
        assert.deepEqual(r.failures, []);
        return r.inputs as BuilderInputs & Record<string, unknown>;
    };
    const builders = () => [...ec2.instances.values()].filter((i) => i.launchedWith);

    describe("check", function () {
        it("defaults: t3.micro, an encrypted root volume, status-ok without user data, 30 and 10 minutes", async function () {
            const inputs = await checked({});
            assert.equal(inputs.instanceType, "t3.micro");
            assert.deepEqual(inputs.rootVolume, { encrypted: true });
            assert.equal(inputs.waitFor, "status-ok");
            assert.equal(inputs.provisioningTimeoutMinutes, 30);
            assert.equal(inputs.terminateTimeoutMinutes, 10);
        });

        it("user data makes the default wait 'stopped'; volumes are encrypted unless said otherwise; given values kept", async function () {
            const inputs = await checked({
                userData: "echo", instanceType: "m7g.large", rootVolume: { sizeGiB: 20, encrypted: false },
                volumes: [{ deviceName: "/dev/sdf", sizeGiB: 10 }, { deviceName: "/dev/sdg", sizeGiB: 5, encrypted: false }],
                provisioningTimeoutMinutes: 5, terminateTimeoutMinutes: 2, waitFor: "none",
            });
            assert.equal(inputs.waitFor, "none");
            assert.equal((await checked({ userData: "echo" })).waitFor, "stopped");
            assert.equal(inputs.instanceType, "m7g.large");
            assert.deepEqual(inputs.rootVolume, { sizeGiB: 20, encrypted: false });
            assert.deepEqual(inputs.volumes, [{ deviceName: "/dev/sdf", sizeGiB: 10, encrypted: true }, { deviceName: "/dev/sdg", sizeGiB: 5, encrypted: false }]);
            assert.deepEqual([inputs.provisioningTimeoutMinutes, inputs.terminateTimeoutMinutes], [5, 2]);
        });
    });

    describe("check: each refusal names its property", function () {
        const failures = async (news: Record<string, unknown>) =>
            (await provider.check!({}, { region: REGION, baseImageId: BASE, resourceUrn: URN, ...news })).failures ?? [];
        const cases: Array<[string, Record<string, unknown>, string, string | RegExp]> = [
            ["a root volume that is not an object", { rootVolume: "big" }, "rootVolume", "rootVolume must be an object"],
            ["a root volume that is null", { rootVolume: null }, "rootVolume", "rootVolume must be an object"],
            ["a root volume that is a list", { rootVolume: [] }, "rootVolume", "rootVolume must be an object"],
            ["a root size out of range", { rootVolume: { sizeGiB: 0 } }, "rootVolume.sizeGiB", /^rootVolume\.sizeGiB /],
            ["a root type unknown", { rootVolume: { type: "ssd" } }, "rootVolume.type", /^rootVolume\.type/],
            ["a root encrypted not a boolean", { rootVolume: { encrypted: "yes" } }, "rootVolume.encrypted", /^rootVolume\.encrypted/],
            ["a root KMS key not a string", { rootVolume: { kmsKeyId: 5 } }, "rootVolume.kmsKeyId", /^rootVolume\.kmsKeyId/],
            ["root iops out of range", { rootVolume: { iops: 5 } }, "rootVolume.iops", /^rootVolume\.iops/],
            ["root throughput out of range", { rootVolume: { throughput: 5 } }, "rootVolume.throughput", /^rootVolume\.throughput/],
            ["a KMS key on an unencrypted root", { rootVolume: { encrypted: false, kmsKeyId: "alias/k" } }, "rootVolume.kmsKeyId", "rootVolume.kmsKeyId is set but rootVolume.encrypted is false; remove one"],
            ["an invalid region", { region: "mars" }, "region", /region/],
            ["no base image", { baseImageId: undefined }, "baseImageId", 'baseImageId is required: the base image to build from: an AMI ID ("ami-...") or, in GoldenImage, a lookup (builder.baseImage)'],
            ["a base image that is no AMI ID", { baseImageId: "ami-12" }, "baseImageId", /"ami-12" is not a valid image ID/],
            ["an instance type not a string", { instanceType: 5 }, "instanceType", "instanceType must be a string, not number"],
            ["an instance type with a prefix", { instanceType: "Xt3.micro" }, "instanceType", 'instanceType: "Xt3.micro" is not an instance type like t3.micro or m7g.large'],
            ["an instance type with a suffix", { instanceType: "t3.micro!" }, "instanceType", 'instanceType: "t3.micro!" is not an instance type like t3.micro or m7g.large'],
            ["a subnet that is no subnet ID", { subnetId: "sub-1" }, "subnetId", /not a valid subnet ID/],
            ["security groups not a list", { vpcSecurityGroupIds: "sg-12345678" }, "vpcSecurityGroupIds", "vpcSecurityGroupIds must be a list of security group IDs (sg-...)"],
            ["a security group that is no ID", { vpcSecurityGroupIds: ["sg-12345678", "x"] }, "vpcSecurityGroupIds[1]", /not a valid security group ID/],
            ["an instance profile not a string", { iamInstanceProfile: 1 }, "iamInstanceProfile", "iamInstanceProfile must be a string, not number"],
            ["a key name not a string", { keyName: 1 }, "keyName", "keyName must be a string, not number"],
            ["user data not a string", { userData: 1 }, "userData", "userData must be a string, not number"],
            ["user data over 12 KiB", { userData: "x".repeat(12_289) }, "userData", "userData is longer than EC2's 16 KB (base64-encoded) limit; fetch the rest from S3 in the script"],
            ["volumes not a list", { volumes: {} }, "volumes", "volumes must be a list of { deviceName, sizeGiB, ... }"],
            ["a volume without a device name", { volumes: [{ sizeGiB: 1 }] }, "volumes[0].deviceName", "volumes[0].deviceName is required: the device name, e.g. /dev/sdf"],
            ["a device name not a string", { volumes: [{ deviceName: 1, sizeGiB: 1 }] }, "volumes[0].deviceName", "volumes[0].deviceName must be a string, not number"],
            ["a root device as a data volume", { volumes: [{ deviceName: "/dev/sda1", sizeGiB: 1 }] }, "volumes[0].deviceName", 'volumes[0].deviceName: "/dev/sda1" is not a data device name like /dev/sdf or /dev/xvdf'],
            ["a device listed twice", { volumes: [{ deviceName: "/dev/sdf", sizeGiB: 1 }, { deviceName: "/dev/sdf", sizeGiB: 2 }] }, "volumes[1].deviceName", 'volumes[1].deviceName: "/dev/sdf" is listed twice'],
            ["a volume without a size", { volumes: [{ deviceName: "/dev/sdf" }] }, "volumes[0].sizeGiB", "volumes[0].sizeGiB is required: the volume's size in GiB"],
            ["a volume's size out of range", { volumes: [{ deviceName: "/dev/sdf", sizeGiB: 70000 }] }, "volumes[0].sizeGiB", /^volumes\[0\]\.sizeGiB /],
            ["waitFor unknown", { waitFor: "ready" }, "waitFor", /^waitFor/],
            ["a provisioning timeout of 0", { provisioningTimeoutMinutes: 0 }, "provisioningTimeoutMinutes", "provisioningTimeoutMinutes must be a number of minutes greater than 0, not 0"],
            ["a terminate timeout of -1", { terminateTimeoutMinutes: -1 }, "terminateTimeoutMinutes", "terminateTimeoutMinutes must be a number of minutes greater than 0, not -1"],
            ["tags not a map", { tags: "a=b" }, "tags", /^tags/],
        ];
        for (const [what, news, property, reason] of cases) {
            it(what, async function () {
                const found = await failures(news);
                assert.deepEqual(found.map((f) => f.property), [property], JSON.stringify(found));
                if (typeof reason === "string") assert.equal(found[0].reason, reason);
                else assert.match(found[0].reason, reason);
            });
        }

        for (const [what, item] of [["null", null], ["a string", "/dev/sdf"]] as const) {
            it(`a volume that is ${what}: its failures, not a crash`, async function () {
                assert.deepEqual(await failures({ volumes: [item] }), [
                    { property: "volumes[0].deviceName", reason: "volumes[0].deviceName is required: the device name, e.g. /dev/sdf" },
                    { property: "volumes[0].sizeGiB", reason: "volumes[0].sizeGiB is required: the volume's size in GiB" },
                    { property: "volumes[0]", reason: "volumes[0] must be an object" },
                ]);
            });
        }

        it("accepted as they are: 12 KiB of user data, a KMS key on an encrypted root, data devices /dev/sdf, /dev/xvdg, /dev/nvme1n1", async function () {
            assert.deepEqual(await failures({
                userData: "x".repeat(12_288), rootVolume: { kmsKeyId: "alias/k" },
                volumes: [{ deviceName: "/dev/sdf", sizeGiB: 1 }, { deviceName: "/dev/xvdg", sizeGiB: 1 }, { deviceName: "/dev/nvme1n1", sizeGiB: 1 }],
                vpcSecurityGroupIds: ["sg-12345678"], subnetId: "subnet-12345678",
            }), []);
        });

        it("no region and no default: the region's failure", async function () {
            const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
            delete process.env.AWS_REGION;
            delete process.env.AWS_DEFAULT_REGION;
            try {
                const found = (await provider.check!({}, { baseImageId: BASE })).failures ?? [];
                assert.deepEqual(found.map((f) => f.property), ["region"]);
                assert.match(found[0].reason, /no region/);
            } finally {
                for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
            }
        });
    });

    describe("diff", function () {
        const olds = { region: REGION, baseImageId: BASE, instanceType: "t3.micro", rootVolume: { encrypted: true }, tags: { a: "1" }, waitFor: "status-ok", provisioningTimeoutMinutes: 30, terminateTimeoutMinutes: 10, instanceId: "i-1", clientToken: "t" };
        const { instanceId: _i, clientToken: _c, ...news } = olds;

        it("nothing changed: no changes", async function () {
            assert.deepEqual(await provider.diff!("i-1", olds, news), { changes: false, replaces: [], deleteBeforeReplace: false });
        });

        it("a recipe key replaces; an absent key equals null", async function () {
            for (const key of BUILDER_REPLACE_KEYS) {
                const d = await provider.diff!("i-1", olds, { ...news, [key]: key === "vpcSecurityGroupIds" ? ["sg-1"] : { changed: key } });
                assert.deepEqual(d.replaces, [key], key);
                assert.equal(d.changes, true);
            }
            assert.equal((await provider.diff!("i-1", { ...olds, subnetId: undefined }, { ...news, subnetId: null })).changes, false);
        });

        it("tags, the wait and the timeouts change in place", async function () {
            for (const [key, value] of [["tags", { a: "2" }], ["waitFor", "none"], ["provisioningTimeoutMinutes", 5], ["terminateTimeoutMinutes", 5]] as const) {
                assert.deepEqual(await provider.diff!("i-1", olds, { ...news, [key]: value }), { changes: true, replaces: [], deleteBeforeReplace: false }, key);
            }
        });
    });

    describe("create", function () {
        it("launches from the base image with the resource's name, the user's tags and golden-ami's markers; ready once status checks pass", async function () {
            const inputs = await checked({ tags: { team: "platform", Name: "custom" } });
            const { id, outs } = await provider.create!(inputs);
            const [builder] = builders();
            assert.equal(id, builder.id);
            assert.deepEqual(builder.tags, { Name: "custom", team: "platform", [MARKER_TAGS.managedBy]: MANAGED_BY_VALUE, [MARKER_TAGS.builder]: "web-builder" });
            assert.equal(builder.launchedWith!.ImageId, BASE);
            assert.equal(outs.instanceId, builder.id);
            assert.equal(outs.clientToken, builder.clientToken);
            assert.equal(countByAction(ec2.calls).DescribeInstanceStatus, 1);
            assert.ok(said.includes(`builder ${builder.id} is ready (status checks passed)`), said.join("\n"));
            assert.ok(!("undefinedKey" in outs));
        });

        it("the Name tag defaults to the resource's name; the root and data volumes encrypted", async function () {
            await provider.create!({ ...(await checked({ volumes: [{ deviceName: "/dev/sdf", sizeGiB: 10 }] })), rootVolume: {} });
            const [builder] = builders();
            assert.equal(builder.tags!.Name, "web-builder");
            assert.deepEqual(builder.launchedWith!.BlockDeviceMappings.map((m: { Ebs: { Encrypted: boolean } }) => m.Ebs.Encrypted), [true, true]);
        });

        it("inputs as an older state holds them (no rootVolume, volumes without encrypted): encrypted anyway, no made-up volume", async function () {
            const { rootVolume: _r, volumes: _v, ...bare } = await checked({});
            await provider.create!(bare);
            assert.deepEqual(builders()[0].launchedWith!.BlockDeviceMappings.map((m: { Ebs: { Encrypted: boolean } }) => m.Ebs.Encrypted), [true]);
            await provider.create!({ ...bare, instanceType: "t3.small", volumes: [{ deviceName: "/dev/sdf", sizeGiB: 10 }] });
            assert.deepEqual(builders()[1].launchedWith!.BlockDeviceMappings.map((m: { Ebs: { Encrypted: boolean } }) => m.Ebs.Encrypted), [true, true]);
        });

        it("waits at most provisioningTimeoutMinutes (virtual time), then terminates the builder", async function () {
            ec2.newInstance = { ...ec2.newInstance, states: ["pending"] };
            const start = clock.now();
            const err = await rejection(provider.create!(await checked({ provisioningTimeoutMinutes: 2 })));
            const waited = clock.now() - start;
            assert.ok(waited >= 2 * 60_000 && waited < 5 * 60_000, `${waited} ms: ${err.message}`);
            assert.equal(builders()[0].states.at(-1), "terminated");
        });

        it("the same recipe twice is the same builder (its token): resumed, not launched again", async function () {
            const inputs = await checked({});
            const first = await provider.create!(inputs);
            const second = await provider.create!(inputs);
            assert.equal(second.id, first.id);
            assert.equal(countByAction(ec2.calls).RunInstances, 1);
        });

        it("waitFor stopped: ready once it powers itself off; none: at once", async function () {
            ec2.newInstance = { ...ec2.newInstance, states: ["pending", "running", "stopped"] };
            const a = await provider.create!(await checked({ userData: "echo; shutdown -h now" }));
            assert.ok(said.includes(`builder ${a.id} is ready (powered itself off)`), said.join("\n"));
            ec2.newInstance = { ...ec2.newInstance, states: ["pending"] };
            const b = await provider.create!(await checked({ waitFor: "none", instanceType: "t3.small" }));
            assert.ok(said.includes(`builder ${b.id} is ready (launched)`), said.join("\n"));
        });

        it("a failed customisation: the builder terminated, the error as readiness said it", async function () {
            ec2.newInstance = { ...ec2.newInstance, states: ["pending", "running", "stopped"], consoleOutput: `${FAILURE_MARKER}\n` };
            const err = await rejection(provider.create!(await checked({ userData: "false || echo GOLDEN-AMI-FAILED" })));
            const [builder] = builders();
            assert.match(err.message, new RegExp(`the customisation of builder ${builder.id} in ${REGION} failed`));
            assert.equal(err.name, "BuilderFailedError", "the builder's own error: its termination (within terminateTimeoutMinutes) went through");
            assert.equal(builder.states.at(-1), "terminated");
            assert.ok(said.includes(`customisation of builder ${builder.id} failed; terminating it`), said.join("\n"));
        });

        it("a failed customisation whose termination fails too: a partial create keeping the builder in state, both errors said", async function () {
            ec2.newInstance = { ...ec2.newInstance, states: ["pending", "running", "stopped"], consoleOutput: `${FAILURE_MARKER}\n` };
            ec2.fail("TerminateInstances", awsError("UnauthorizedOperation", "may not terminate"));
            const inputs = await checked({ userData: "x" });
            const err = await rejection(provider.create!({ ...inputs, __provider: "p" })) as Error & { id: string; properties: Record<string, unknown> };
            const [builder] = builders();
            assert.equal(err.name, "PartialCreateError");
            assert.equal(err.id, builder.id);
            assert.equal(err.properties.instanceId, builder.id);
            assert.equal(err.properties.clientToken, builder.clientToken);
            assert.equal(err.properties.__provider, "p");
            assert.match(err.message, /the customisation of builder .* failed[\s\S]*\nTerminating the builder failed too: .*may not terminate/);
        });
    });

    it("read keeps the state as it is", async function () {
        const props = { instanceId: "i-gone", region: REGION };
        assert.deepEqual(await provider.read!("i-gone", props as never), { id: "i-gone", props });
        assert.equal(ec2.calls.filter((c) => c.action !== "DescribeImages").length, 0);
    });

    describe("update", function () {
        it("brings the live builder's tags to the new ones; the outputs keep the instance and its token", async function () {
            const { id, outs } = await provider.create!(await checked({ tags: { a: "1", b: "2" } }));
            ec2.calls.length = 0;
            const r = await provider.update!(id, outs, { ...(await checked({ tags: { a: "1", b: "3" } })) });
            assert.deepEqual(ec2.calls.filter((c) => c.action.endsWith("Tags")).map((c) => [c.action, c.input.Tags]), [["CreateTags", [{ Key: "b", Value: "3" }]]]);
            assert.equal(r.outs.instanceId, id);
            assert.equal(r.outs.clientToken, outs.clientToken);
            assert.deepEqual(r.outs.tags, { a: "1", b: "3" });
        });

        it("a terminated builder, or no tag change: no tag call", async function () {
            const { id, outs } = await provider.create!(await checked({ tags: { a: "1" } }));
            ec2.calls.length = 0;
            await provider.update!(id, outs, { ...(await checked({ tags: { a: "1" }, provisioningTimeoutMinutes: 5 })) });
            assert.deepEqual(ec2.calls.map((c) => c.action), []);
            ec2.instances.get(id)!.states = ["terminated"];
            await provider.update!(id, outs, { ...(await checked({ tags: { a: "9" } })) });
            assert.deepEqual(ec2.calls.map((c) => c.action), ["DescribeInstances"]);
            await provider.update!(id, { ...outs, tags: undefined }, { ...(await checked({})) });
            assert.deepEqual(ec2.calls.map((c) => c.action), ["DescribeInstances"], "no tags before or after: nothing to do");
        });

        it("a failed tag change names the builder", async function () {
            const { id, outs } = await provider.create!(await checked({}));
            ec2.fail("CreateTags", awsError("UnauthorizedOperation", "no tags"));
            const err = await rejection(provider.update!(id, outs, { ...(await checked({ tags: { a: "1" } })) }));
            assert.match(err.message, new RegExp(`updating builder ${id} in ${REGION}|updating the tags of builder ${id} in ${REGION}`));
            assert.match(err.message, /no tags/);
        });
    });

    it("delete terminates the builder if it is still there", async function () {
        const { id, outs } = await provider.create!(await checked({}));
        await provider.delete!(id, outs);
        assert.equal(ec2.instances.get(id)!.states.at(-1), "terminated");
        assert.ok(said.includes(`terminating builder ${id} (if it is still there)`), said.join("\n"));
        ec2.calls.length = 0;
        await provider.delete!(id, { ...outs, terminateTimeoutMinutes: undefined });
        assert.equal(countByAction(ec2.calls).TerminateInstances, undefined);
    });

    it("delete of a state without terminateTimeoutMinutes (an older release's) waits the default 10 minutes", async function () {
        const { id, outs } = await provider.create!(await checked({}));
        ec2.instances.get(id)!.states = ["running"];
        await provider.delete!(id, { ...outs, terminateTimeoutMinutes: undefined });
        assert.equal(ec2.instances.get(id)!.states.at(-1), "terminated");
    });

    it("builderIdentity: the recipe keys (absent ones null) and the resource's name", function () {
        const identity = builderIdentity({ region: REGION, baseImageId: BASE, instanceType: "t3.micro", rootVolume: { encrypted: true }, waitFor: "none", provisioningTimeoutMinutes: 1, terminateTimeoutMinutes: 1, resourceUrn: URN, tags: { a: "1" } });
        assert.deepEqual(Object.keys(identity), [...BUILDER_REPLACE_KEYS, "resource"]);
        assert.equal(identity.subnetId, null);
        assert.equal(identity.resource, "web-builder");
        assert.equal("tags" in identity, false);
    });
});
