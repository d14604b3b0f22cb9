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

    it("builderIdentity: the recipe keys (absent ones null) and the resource's name", function () {
        const identity = builderIdentity({ region: REGION, baseImageId: BASE, instanceType: "t3.micro", rootVolume: { encrypted: true }, waitFor: "none", provisioningTimeoutMinutes: 1, terminateTimeoutMinutes: 1, resourceUrn: URN, tags: { a: "1" } });
        assert.deepEqual(Object.keys(identity), [...BUILDER_REPLACE_KEYS, "resource"]);
        assert.equal(identity.subnetId, null);
        assert.equal(identity.resource, "web-builder");
        assert.equal("tags" in identity, false);
    });
});
