// Rebuilds never break a consumer, end to end: the repository's own program (index.ts, build
// mode, one copy region) run by the real `pulumi` CLI against the EC2 emulator. Three rebuilds
// make generations 1-3 in both regions; the older ones are retired (deprecated, registered) and
// every retained generation still launches. A launch template made through the EC2 API keeps
// generation 1 with retention.keep 1 (the output says which template), and once the consumer
// replaces it, the next `pulumi up` (nothing changed in the program) removes generation 1 with its
// snapshots. Each region's AMI is published in /golden-ami/golden/latest (aws:ec2:image), with every
// generation in its history. Destroy leaves no image, snapshot or parameter in either region.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { GetParameterCommand, GetParameterHistoryCommand, SSMClient } from "@aws-sdk/client-ssm";
import { inventory, leakCount, leakedSince, AccountInventory } from "../support/audit";
import { Emulator } from "../support/emulator";
import { generationsStack, PulumiStack } from "../support/pulumi";

const BUILD = "us-east-1";
const COPY = "eu-west-1";
const REGIONS = [BUILD, COPY];
/** What `golden-ami:publish: {}` publishes in: the GoldenImage of index.ts is named "golden". */
const PARAMETER = "/golden-ami/golden/latest";

interface Report {
    kept: Array<{ imageId: string; generation: number; reason: string }>;
    removed: Array<{ imageId: string; generation: number }>;
}
interface Outputs {
    imageId: string;
    generation: number;
    regionImageIds: Record<string, string>;
    retention: Record<string, Report>;
}

describe("e2e: generations, retirement and retention (GoldenImage)", function () {
    let emulator: Emulator;
    let baseline: AccountInventory;
    let stack: PulumiStack;
    let next: () => Promise<Record<string, unknown>>;
    const generations: Outputs[] = [];
    let templateId: string;
    const ssm = (region: string) => new SSMClient({ region, endpoint: emulator.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });

    before(async () => {
        emulator = await Emulator.start({ timing: { imagePending: 0.5, copyPending: 0.5 } });
        baseline = await inventory(emulator, REGIONS);
        ({ stack, rebuild: next } = await generationsStack(emulator, { build: BUILD, copy: COPY }, {
            "golden-ami:retention": JSON.stringify({ keep: 1, launchedWithin: "0s" }),
            "golden-ami:publish": JSON.stringify({}),
        }));
    });
    after(async () => {
        await stack?.remove();
        await emulator?.stop();
    });

    async function rebuild(): Promise<Outputs> {
        const out = (await next()) as unknown as Outputs;
        generations.push(out);
        for (const region of REGIONS) assert.equal(await published(region), out.regionImageIds[region], `${PARAMETER} in ${region} names generation ${out.generation}`);
        return out;
    }

    async function published(region: string): Promise<string | undefined> {
        const out = await ssm(region).send(new GetParameterCommand({ Name: PARAMETER })).catch(() => undefined);
        return out?.Parameter?.Value;
    }

    async function image(region: string, imageId: string): Promise<ec2.Image | undefined> {
        const out = await emulator.ec2(region).send(new ec2.DescribeImagesCommand({ Owners: ["self"] }));
        return out.Images?.find((i) => i.ImageId === imageId);
    }

    async function launches(region: string, imageId: string): Promise<string> {
        const run = await emulator.ec2(region).send(new ec2.RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 }));
        const id = run.Instances![0].InstanceId!;
        // Terminated at once: a terminated instance references nothing, so retention is not held by it.
        await emulator.ec2(region).send(new ec2.TerminateInstancesCommand({ InstanceIds: [id] }));
        return id;
    }

    it("three rebuilds: generations 1-3; the older ones deprecated and registered; a launch template keeps generation 1 and the output says so; every retained generation launches", async () => {
        const g1 = await rebuild();
        assert.equal(g1.generation, 1);
        const template = await emulator.ec2(BUILD).send(
            new ec2.CreateLaunchTemplateCommand({ LaunchTemplateName: "consumer-app", LaunchTemplateData: { ImageId: g1.imageId, InstanceType: "t3.micro" } }),
        );
        templateId = template.LaunchTemplate!.LaunchTemplateId!;
        const g2 = await rebuild();
        const g3 = await rebuild();
        assert.deepEqual(generations.map((g) => g.generation), [1, 2, 3]);
        const history = await ssm(COPY).send(new GetParameterHistoryCommand({ Name: PARAMETER }));
        assert.deepEqual(history.Parameters?.map((p) => p.Value), generations.map((g) => g.regionImageIds[COPY]), "every generation in the parameter's history");

        // Build region: 3 current; 2 kept (the newest retired), 1 kept by the launch template.
        assert.equal((await image(BUILD, g3.imageId))?.DeprecationTime, undefined, "the current generation is not deprecated");
        for (const g of [g1, g2]) assert.ok((await image(BUILD, g.imageId))?.DeprecationTime, `generation ${g.generation} deprecated`);
        const kept = g3.retention[BUILD].kept;
        assert.deepEqual(kept.map((k) => k.generation), [2, 1]);
        assert.match(kept[1].reason, new RegExp(`launch-template/${templateId}`), "the output names the template that keeps generation 1");
        for (const g of [g1, g2, g3]) assert.match(await launches(BUILD, g.imageId), /^i-/, `generation ${g.generation} launches in ${BUILD}`);

        // Copy region: no reference there, so with keep 1 generation 1's copy went, with its snapshots.
        assert.deepEqual(g3.retention[COPY].removed.map((r) => r.generation), [1]);
        const gone = g1.regionImageIds[COPY];
        assert.equal(await image(COPY, gone), undefined);
        const launch = await emulator.ec2(COPY).send(new ec2.RunInstancesCommand({ ImageId: gone, MinCount: 1, MaxCount: 1 })).catch((e: Error) => e);
        assert.equal((launch as Error).name, "InvalidAMIID.NotFound", "a removed generation no longer launches");
        for (const g of [g2, g3]) assert.match(await launches(COPY, g.regionImageIds[COPY]), /^i-/, `generation ${g.generation} launches in ${COPY}`);
    });

    it("once the template moves on, the next `pulumi up` (no program change) removes generation 1 with its snapshots", async () => {
        const [g1, , g3] = generations;
        const snapshots = (await emulator.ec2(BUILD).send(new ec2.DescribeImagesCommand({ ImageIds: [g1.imageId] }))).Images![0].BlockDeviceMappings!.map((m) => m.Ebs!.SnapshotId!);
        await emulator.ec2(BUILD).send(new ec2.DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId }));
        await emulator.ec2(BUILD).send(
            new ec2.CreateLaunchTemplateCommand({ LaunchTemplateName: "consumer-app", LaunchTemplateData: { ImageId: g3.imageId, InstanceType: "t3.micro" } }),
        );
        await emulator.resetCalls();
        const up = await stack.up();
        assert.equal(up.code, 0, up.stdout + up.stderr);
        const out = (await stack.outputs()) as unknown as Outputs;
        assert.equal(out.imageId, g3.imageId, "no rebuild");
        assert.deepEqual(out.retention[BUILD].removed, [{ imageId: g1.imageId, generation: 1 }]);
        assert.equal(await image(BUILD, g1.imageId), undefined);
        const left = await emulator.ec2(BUILD).send(new ec2.DescribeSnapshotsCommand({ Filters: [{ Name: "snapshot-id", Values: snapshots }] }));
        assert.deepEqual(left.Snapshots ?? [], [], "generation 1's snapshots are deleted");
        const deregistered = (await emulator.calls()).calls.filter((c) => c.action === "DeregisterImage" && c.status === 200);
        assert.equal(deregistered.length, 1, "exactly one image deregistered");
        await emulator.ec2(BUILD).send(new ec2.DeleteLaunchTemplateCommand({ LaunchTemplateName: "consumer-app" }));
    });

    it("destroy leaves no image, no snapshot and no parameter in either region", async () => {
        const destroy = await stack.destroy();
        assert.equal(destroy.code, 0, destroy.stdout + destroy.stderr);
        const leaks = await leakedSince(emulator, baseline, REGIONS);
        assert.equal(leakCount(leaks), 0, `left: ${JSON.stringify(leaks)}`);
        for (const region of REGIONS) assert.equal(await published(region), undefined, `${PARAMETER} deleted in ${region}`);
    });
});
