// Generations, retirement and retention: the real provider code in this process against the EC2
// emulator, as the engine calls it on a rebuild (create the new generation, then delete the
// old one) and on a destroy. Assertions read the emulator (images, tags, snapshots, call log).
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { GetParameterCommand, GetParameterHistoryCommand, SSMClient } from "@aws-sdk/client-ssm";
import { goldenImageFromParameter } from "../../components/consumer";
import { InstanceImageOutputs } from "../../providers/lifecycle/instance-image";
import { providers } from "../../providers/runtime";
import { inventory, leakCount, leakedSince } from "../support/audit";
import { Emulator } from "../support/emulator";
import { checkedCreate, useEmulatorEnv } from "../support/provider-calls";

const REGION = "us-east-1";
const provider = providers.InstanceImage;
const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:InstanceImage::gen";

describe("integration: generations, retirement and retention (emulator)", function () {
    let emulator: Emulator;
    let restoreEnv: () => void;
    let client: ec2.EC2Client;
    let run = 0;

    before(async function () {
        emulator = await Emulator.start();
        restoreEnv = useEmulatorEnv(emulator, REGION);
        client = emulator.ec2(REGION);
    });
    after(async function () {
        restoreEnv?.();
        await emulator?.stop();
    });
    afterEach(async function () {
        await emulator.reset();
    });

    /** One generation of the same resource (same URN), from a fresh builder: what a rebuild's create does. */
    async function build(extra: Record<string, unknown> = {}): Promise<InstanceImageOutputs> {
        const instanceId = await emulator.launchInstance(REGION);
        const { outs } = await checkedCreate<InstanceImageOutputs>(provider, "InstanceImage", "gen", {
            instanceId,
            region: REGION,
            name: `gen-${process.pid}-${++run}`,
            resourceUrn: URN,
            ...extra,
        });
        return outs;
    }

    async function image(imageId: string): Promise<ec2.Image | undefined> {
        const out = await client.send(new ec2.DescribeImagesCommand({ Owners: ["self"], IncludeDeprecated: true, IncludeDisabled: true }));
        return out.Images?.find((i) => i.ImageId === imageId);
    }
    const tag = (i: ec2.Image | undefined, key: string) => i?.Tags?.find((t) => t.Key === key)?.Value;

    async function snapshotExists(snapshotId: string): Promise<boolean> {
        const out = await client.send(new ec2.DescribeSnapshotsCommand({ Filters: [{ Name: "snapshot-id", Values: [snapshotId] }] }));
        return (out.Snapshots ?? []).length > 0;
    }

    const deleted = (calls: Array<{ action: string; status: number }>) => calls.filter((c) => c.action === "DeregisterImage" && c.status === 200).length;

    it("a first generation makes no call once it is ready: build time tagged by CreateImage, no retention look (it is the lineage's only image); the second still retires the first", async function () {
        /** The calls after the wait's DescribeImages that saw the image available: the post-ready steps. */
        const afterReady = async (imageId: string) => {
            const { calls, images } = await emulator.calls();
            const ready = calls.findIndex((c) => c.action === "DescribeImages" && c.at >= images[imageId].availableAt);
            assert.ok(ready >= 0, "the wait saw the image available");
            return calls.slice(ready + 1).map((c) => c.action);
        };
        await emulator.resetCalls();
        const g1 = await build();
        assert.deepEqual(await afterReady(g1.imageId), [], "no tagging and no retention look for generation 1");
        const i1 = await image(g1.imageId);
        assert.ok(tag(i1, "golden-ami:built-at"), "its build time came with CreateImage");
        const s1 = await client.send(new ec2.DescribeSnapshotsCommand({ SnapshotIds: g1.snapshotIds }));
        assert.ok(s1.Snapshots!.every((x) => x.Tags?.some((t) => t.Key === "golden-ami:built-at")), "on its snapshots too");
        assert.deepEqual(g1.retentionReport, { kept: [], removed: [] });
        await emulator.resetCalls();
        const g2 = await build();
        const after = await afterReady(g2.imageId);
        assert.ok(after.includes("DescribeImages") && after.includes("EnableImageDeprecation"), `generation 2 looks at its lineage and retires generation 1: ${after.join(", ")}`);
        assert.ok((await image(g1.imageId))?.DeprecationTime, "generation 1 retired");
        assert.equal(g2.generation, 2);
    });

    it("rebuilds: generations 1-3 with lineage tags; older ones retired (deprecated, left registered); the replaced delete retires instead of deleting", async function () {
        const g1 = await build();
        const g2 = await build();
        assert.equal(g1.generation, 1);
        assert.equal(g2.generation, 2);
        assert.equal(g1.lineage, g2.lineage, "one lineage across rebuilds of one resource");
        const i1 = await image(g1.imageId);
        assert.ok(i1, "generation 1 stays registered");
        assert.ok(i1.DeprecationTime, "generation 1 is deprecated");
        assert.ok(tag(i1, "golden-ami:retired-at"), "and tagged with its retirement time");
        const i2 = await image(g2.imageId);
        for (const key of ["golden-ami:lineage", "golden-ami:generation", "golden-ami:recipe-hash", "golden-ami:source-image", "golden-ami:built-at"]) {
            assert.ok(tag(i2, key), `${key} on the image`);
        }
        assert.match(tag(i2, "golden-ami:source-image")!, /^us-east-1\/ami-/);
        const snaps = await client.send(new ec2.DescribeSnapshotsCommand({ SnapshotIds: g2.snapshotIds }));
        assert.equal(snaps.Snapshots![0].Tags?.find((t) => t.Key === "golden-ami:generation")?.Value, "2", "and on its snapshots");

        // The engine then deletes the replaced resource: a newer live generation exists, so it is retired, not deleted.
        await emulator.resetCalls();
        await provider.delete!(g1.imageId, g1);
        assert.ok(await image(g1.imageId), "still registered after the replacement's delete");
        assert.equal(deleted((await emulator.calls()).calls), 0);
        for (const s of g1.snapshotIds) assert.ok(await snapshotExists(s));

        const g3 = await build();
        assert.equal(g3.generation, 3);
        assert.deepEqual(g3.retentionReport?.removed, [], "keep 2 by default: nothing removed");
        assert.deepEqual(g3.retentionReport?.kept.map((k) => k.generation), [2, 1]);
    });

    it("retention keep 1: a generation a launch template references is kept and the report says which; once it moves on, the next run removes it with its snapshots", async function () {
        const policy = { retention: { keep: 1, launchedWithin: "0s" } };
        const g1 = await build(policy);
        const template = await client.send(
            new ec2.CreateLaunchTemplateCommand({ LaunchTemplateName: `lt-${process.pid}`, LaunchTemplateData: { ImageId: g1.imageId, InstanceType: "t3.micro" } }),
        );
        const templateId = template.LaunchTemplate!.LaunchTemplateId!;
        await build(policy);
        const g3 = await build(policy);
        const kept1 = g3.retentionReport!.kept.find((k) => k.generation === 1);
        assert.ok(kept1, JSON.stringify(g3.retentionReport));
        assert.match(kept1.reason, new RegExp(`launch-template/${templateId}`));
        assert.ok(await image(g1.imageId));

        // The consumer replaces its template with one on generation 3; the next run (an update) removes generation 1.
        await client.send(new ec2.DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId }));
        const diff = await provider.diff!(g3.imageId, g3, { ...g3 });
        assert.equal(diff.changes, true, "diff sees that retention has work");
        await emulator.resetCalls();
        const { outs } = await provider.update!(g3.imageId, g3, { ...g3 });
        assert.deepEqual(outs.retentionReport.removed, [{ imageId: g1.imageId, generation: 1 }]);
        assert.equal(await image(g1.imageId), undefined);
        for (const s of g1.snapshotIds) assert.equal(await snapshotExists(s), false, `${s} deleted with generation 1`);
        assert.equal(deleted((await emulator.calls()).calls), 1);
    });

    it("an instance launched recently from a retired generation keeps it (LastLaunchedTime within launchedWithin)", async function () {
        const g1 = await build({ retention: { keep: 0 } });
        const launched = await client.send(new ec2.RunInstancesCommand({ ImageId: g1.imageId, MinCount: 1, MaxCount: 1 }));
        await client.send(new ec2.TerminateInstancesCommand({ InstanceIds: [launched.Instances![0].InstanceId!] }));
        const g2 = await build({ retention: { keep: 0 } });
        assert.match(g2.retentionReport!.kept[0]?.reason ?? "", /launched from it at .*launchedWithin/);
    });

    it("retention under 30% throttling and after a crash half-way: the next run converges, nothing is deregistered twice", async function () {
        const policy = { retention: { keep: 2, launchedWithin: "0s" } };
        const gens = [await build(policy), await build(policy), await build(policy), await build(policy)];
        assert.equal(gens[3].retentionReport!.removed.length, 1);
        // A crash after deregistering generation 2 but before its snapshots (or anything else) went: do the deregistration by hand.
        const g5 = await build({ retention: { keep: 5 } });
        await client.send(new ec2.DeregisterImageCommand({ ImageId: gens[1].imageId }));
        await emulator.resetCalls();
        await emulator.configure({ throttle: { fraction: 0.3, seed: 12 } });
        const { outs } = await provider.update!(g5.imageId, g5, { ...g5, retention: { keep: 1, launchedWithin: "0s" } });
        await emulator.configure({ throttle: null });
        const calls = (await emulator.calls()).calls;
        assert.ok(calls.some((c) => c.throttled), "some calls were throttled");
        assert.deepEqual(outs.retentionReport.removed.map((r: { generation: number }) => r.generation), [3]);
        assert.equal(deleted(calls), 1, "only generation 3 is deregistered; generation 2 (gone already) is not deregistered again");
        for (const s of gens[1].snapshotIds) assert.equal(await snapshotExists(s), false, "the crashed run's snapshots are finished off");
    });

    it("destroy removes the whole lineage with its snapshots, except a protected generation (warned about); onDestroy retain keeps the current one", async function () {
        const baseline = await inventory(emulator, [REGION]);
        const g1 = await build();
        await build();
        const g3 = await build();
        await client.send(new ec2.EnableImageDeregistrationProtectionCommand({ ImageId: g1.imageId }));
        const warnings: string[] = [];
        const { createProviders } = await import("../../providers/runtime");
        const { realClock } = await import("../../providers/core/context");
        const warned = createProviders({ clock: realClock, timeScale: 1, progress: () => () => undefined, warn: () => (m) => warnings.push(m) }).InstanceImage;
        await warned.delete!(g3.imageId, g3);
        const left = await leakedSince(emulator, baseline, [REGION]);
        assert.deepEqual(left.images[REGION] ?? [], [g1.imageId], "only the protected generation is left");
        assert.equal(warnings.length, 1);
        assert.match(warnings[0], new RegExp(`${g1.imageId} \\(generation 1\\).*deregistration protection.*What to do`));
        await client.send(new ec2.DisableImageDeregistrationProtectionCommand({ ImageId: g1.imageId }));
        await warned.delete!(g3.imageId, g3);
        assert.equal(leakCount(await leakedSince(emulator, baseline, [REGION])), 0, "nothing left once protection is off");

        const r1 = await build({ onDestroy: "retain" });
        const r2 = await build({ onDestroy: "retain" });
        await provider.delete!(r2.imageId, r2);
        assert.ok(await image(r2.imageId), "the current generation is kept");
        assert.equal(await image(r1.imageId), undefined, "the retired one is removed");
    });

    it("publication: the SSM parameter names the current generation once it is ready; a replacement's delete leaves it; destroy deletes it", async function () {
        const ssm = new SSMClient({ region: REGION, endpoint: emulator.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        const name = `/golden-ami/gen-${process.pid}/latest`;
        const value = async () => (await ssm.send(new GetParameterCommand({ Name: name })).catch(() => undefined))?.Parameter;
        const g1 = await build({ ssmParameterName: name });
        assert.equal((await value())?.Value, g1.imageId);
        assert.equal((await value())?.DataType, "aws:ec2:image");
        const g2 = await build({ ssmParameterName: name });
        assert.equal((await value())?.Value, g2.imageId);
        const history = await ssm.send(new GetParameterHistoryCommand({ Name: name }));
        assert.deepEqual(history.Parameters?.map((p) => p.Value), [g1.imageId, g2.imageId], "the previous AMI stays in the history");
        // A consumer without a StackReference reads it (goldenImageFromParameter).
        const consumer = goldenImageFromParameter(name, REGION);
        const read = await new Promise<string>((resolve) => consumer.imageId.apply((v) => (resolve(v), v)));
        assert.equal(read, g2.imageId);
        await provider.delete!(g1.imageId, g1);
        assert.equal((await value())?.Value, g2.imageId, "a replacement's delete leaves the parameter");
        await provider.delete!(g2.imageId, g2);
        assert.equal(await value(), undefined, "destroy deletes it");
    });

    it("retention.disableAfter: an unreferenced retired generation is disabled, stays a generation, and retention and destroy still remove it; a referenced one is never disabled", async function () {
        const baseline = await inventory(emulator, [REGION]);
        const policy = { retention: { keep: 5, launchedWithin: "0s", disableAfter: "0s" } };
        const g1 = await build(policy);
        const g2 = await build(policy);
        assert.deepEqual(g2.retentionReport?.disabled, [{ imageId: g1.imageId, generation: 1 }]);
        assert.equal((await image(g1.imageId))?.State, "disabled");
        const template = await client.send(
            new ec2.CreateLaunchTemplateCommand({ LaunchTemplateName: `lt-d-${process.pid}`, LaunchTemplateData: { ImageId: g2.imageId, InstanceType: "t3.micro" } }),
        );
        const g3 = await build(policy);
        assert.equal(g3.retentionReport?.disabled, undefined, "generation 1 is disabled already; generation 2 is referenced");
        assert.equal((await image(g2.imageId))?.State, "available", "a referenced generation is never disabled");
        assert.deepEqual(g3.retentionReport?.kept.map((k) => k.generation), [2, 1], "the disabled generation is still one of the lineage");

        // keep 1: the disabled generation 1 goes, with its snapshots; generation 2 stays (the newest retired), not disabled (the template).
        const keep1 = { ...g3, retention: { keep: 1, launchedWithin: "0s", disableAfter: "0s" } };
        const { outs } = await provider.update!(g3.imageId, g3, keep1);
        assert.deepEqual(outs.retentionReport.removed, [{ imageId: g1.imageId, generation: 1 }]);
        assert.equal(outs.retentionReport.disabled, undefined);
        for (const s of g1.snapshotIds) assert.equal(await snapshotExists(s), false);

        // The template moves on: the next run (diff sees the work, nothing else changed) disables generation 2; destroy removes it all the same.
        await client.send(new ec2.DeleteLaunchTemplateCommand({ LaunchTemplateId: template.LaunchTemplate!.LaunchTemplateId }));
        assert.equal((await provider.diff!(g3.imageId, outs, { ...outs })).changes, true);
        const second = await provider.update!(g3.imageId, outs, { ...outs });
        assert.deepEqual(second.outs.retentionReport.disabled, [{ imageId: g2.imageId, generation: 2 }]);
        assert.equal((await image(g2.imageId))?.State, "disabled");
        assert.equal((await provider.diff!(g3.imageId, second.outs, { ...second.outs })).changes, false, "nothing more to do");
        await provider.delete!(g3.imageId, second.outs);
        assert.equal(leakCount(await leakedSince(emulator, baseline, [REGION])), 0, "destroy removed the disabled generation too");
    });

    it("bad retention input is refused at check, naming the field", async function () {
        const check = (retention: unknown, onDestroy?: unknown) =>
            provider.check!({}, { instanceId: "i-0123456789abcdef0", region: REGION, resourceUrn: URN, retention, onDestroy });
        assert.deepEqual((await check({ keep: -1 })).failures?.map((f) => f.property), ["retention.keep"]);
        assert.deepEqual((await check({ minAge: "soon" })).failures?.map((f) => f.property), ["retention.minAge"]);
        assert.deepEqual((await check({ launchedWithin: 14 })).failures?.map((f) => f.property), ["retention.launchedWithin"]);
        const disable = await check({ disableAfter: "a month" });
        assert.deepEqual(disable.failures?.map((f) => f.property), ["retention.disableAfter"]);
        assert.match(disable.failures![0].reason, /retention\.disableAfter must be a duration like/);
        assert.deepEqual((await check({ keep: 1 }, "keep")).failures?.map((f) => f.property), ["onDestroy"]);
        assert.deepEqual((await check({ keep: 0, minAge: "1d12h" })).failures ?? [], []);
        for (const bad of ["golden-ami/no-leading-slash", "/aws/reserved", "/has space/latest", "/a//b"]) {
            const out = await provider.check!({}, { instanceId: "i-0123456789abcdef0", region: REGION, resourceUrn: URN, ssmParameterName: bad });
            assert.deepEqual(out.failures?.map((f) => f.property), ["ssmParameterName"], bad);
        }
    });
});
