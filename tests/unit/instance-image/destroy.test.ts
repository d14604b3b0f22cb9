// The image lifecycle's delete and its generation-aware diff (providers/lifecycle/image-lifecycle.ts),
// for InstanceImage against the fake EC2: a replacement's delete retires, a destroy removes the
// lineage (onDestroy "retain" keeps the current image; protected generations are left and said),
// the SSM parameter is unpublished on destroy only, and diff asks whether retention is due.
import * as assert from "node:assert/strict";
import { LINEAGE_TAGS } from "../../../providers/core/lineage";
import { resetClients, ssmClient } from "../../../providers/ec2/client";
import { testProviders } from "../../support/fakes";
import { inputsWith, LINEAGE, NEW_IMAGE, REGION, world, World } from "./fixture";

describe("InstanceImage delete and diff over generations", function () {
    let w: World;
    let said: string[];
    let provider: ReturnType<typeof testProviders>["InstanceImage"];
    beforeEach(() => {
        w = world();
        said = [];
        provider = testProviders(w.clock, (m) => said.push(m)).InstanceImage;
    });
    afterEach(() => { w.restore(); resetClients(); });

    const lineageImage = (id: string, generation: number, over: Record<string, unknown> = {}) =>
        w.ec2.seedImage({ id, name: `web-${generation}`, tags: { [LINEAGE_TAGS.lineage]: LINEAGE, [LINEAGE_TAGS.generation]: String(generation) }, ...over }, undefined, { [LINEAGE_TAGS.lineage]: LINEAGE });

    it("a delete while a newer live generation exists (a replacement): the image is retired, not deregistered", async function () {
        const { outs } = await provider.create!(inputsWith());
        assert.equal(outs.generation, 1);
        lineageImage("ami-0c0000000000000a2", 2);
        await provider.delete!(NEW_IMAGE, outs);
        const image = w.ec2.images.get(NEW_IMAGE)!;
        assert.equal(image.deregistered, false);
        assert.equal(image.tags[LINEAGE_TAGS.retiredAt], new Date(w.clock.now()).toISOString());
        assert.ok(said.includes(`retiring image ${NEW_IMAGE}: generation 2 (ami-0c0000000000000a2) replaces it; it stays registered`), said.join("\n"));
    });

    it("a replacement's delete of an image deregistered out of band: what is left of it (its snapshots) goes", async function () {
        const { outs } = await provider.create!(inputsWith());
        lineageImage("ami-0c0000000000000a2", 2);
        const image = w.ec2.images.get(NEW_IMAGE)!;
        image.deregistered = true;
        await provider.delete!(NEW_IMAGE, outs);
        assert.ok(image.snapshotIds.every((id) => w.ec2.snapshots.get(id)!.deleted));
        assert.equal(w.ec2.images.get("ami-0c0000000000000a2")!.deregistered, false);
    });

    it("a replacement's delete of an image gone with its snapshots: nothing left to delete, no failure", async function () {
        const { outs } = await provider.create!(inputsWith());
        lineageImage("ami-0c0000000000000a2", 2);
        const image = w.ec2.images.get(NEW_IMAGE)!;
        image.deregistered = true;
        for (const id of image.snapshotIds) w.ec2.snapshots.get(id)!.deleted = true;
        w.calls.length = 0;
        await provider.delete!(NEW_IMAGE, outs);
        assert.ok(!w.calls.some((c) => c.action === "DeleteSnapshot" || c.action === "DeregisterImage"), JSON.stringify(w.calls.map((c) => c.action)));
    });

    it("an update retires the older live generations of the lineage", async function () {
        const { outs } = await provider.create!(inputsWith());
        const older = lineageImage("ami-0c0000000000000a0", 0);
        const { outs: after } = await provider.update!(NEW_IMAGE, outs, inputsWith({ tags: { team: "data" } }) as never);
        assert.equal(older.tags[LINEAGE_TAGS.retiredAt], new Date(w.clock.now()).toISOString());
        assert.deepEqual(after.retentionReport.kept.map((k: { imageId: string }) => k.imageId), [older.id]);
    });

    it("an update of an image from before generations (no generation tag): no retention, no report", async function () {
        const { outs: created } = await provider.create!(inputsWith());
        const { generation: _g, retentionReport: _r, ...outs } = created;
        delete w.ec2.images.get(NEW_IMAGE)!.tags[LINEAGE_TAGS.generation];
        const { outs: after } = await provider.update!(NEW_IMAGE, outs, inputsWith({ tags: { team: "data" } }) as never);
        assert.equal(after.generation, undefined);
        assert.equal(after.retentionReport, undefined);
    });

    it("a destroy removes the whole lineage; a protected generation is left, and said with what to do", async function () {
        const { outs } = await provider.create!(inputsWith());
        const older = lineageImage("ami-0c0000000000000a0", 0);
        const guarded = lineageImage("ami-0c0000000000000a9", 0, { protection: "enabled-without-cooldown" });
        older.tags[LINEAGE_TAGS.retiredAt] = guarded.tags[LINEAGE_TAGS.retiredAt] = "2025-12-01T00:00:00.000Z";
        await provider.delete!(NEW_IMAGE, outs);
        assert.equal(w.ec2.images.get(NEW_IMAGE)!.deregistered, true);
        assert.equal(older.deregistered, true);
        assert.equal(guarded.deregistered, false);
        assert.ok(said.includes(`deregistering image ${NEW_IMAGE} and deleting its snapshots`), said.join("\n"));
        assert.ok(
            said.some((m) =>
                m.startsWith(`golden-ami: left ${guarded.id} (generation 0) of lineage ${LINEAGE} in ${REGION}, with their snapshots: deregistration protection is on. What to do: `) &&
                m.includes(`aws ec2 disable-image-deregistration-protection --region ${REGION} --image-id ${guarded.id} && aws ec2 deregister-image --region ${REGION} --image-id ${guarded.id} --delete-associated-snapshots`),
            ),
            said.join("\n"),
        );
    });

    it("two protected generations are left: both named, each with its commands, and the cooldown said", async function () {
        const { outs } = await provider.create!(inputsWith());
        const a = lineageImage("ami-0c0000000000000a8", 0, { protection: "enabled-without-cooldown" });
        const b = lineageImage("ami-0c0000000000000a9", 0, { protection: "enabled-without-cooldown" });
        a.tags[LINEAGE_TAGS.retiredAt] = b.tags[LINEAGE_TAGS.retiredAt] = "2025-12-01T00:00:00.000Z";
        await provider.delete!(NEW_IMAGE, outs);
        const cmd = (id: string) => `aws ec2 disable-image-deregistration-protection --region ${REGION} --image-id ${id} && aws ec2 deregister-image --region ${REGION} --image-id ${id} --delete-associated-snapshots`;
        const warning = said.find((m) => m.startsWith("golden-ami: left "));
        assert.equal(
            warning,
            `golden-ami: left ${a.id} (generation 0), ${b.id} (generation 0) of lineage ${LINEAGE} in ${REGION}, with their snapshots: deregistration protection is on. ` +
                `What to do: if they are no longer needed, turn protection off and deregister them with their snapshots: ${cmd(a.id)}; ${cmd(b.id)} ` +
                `(protection enabled with a cooldown allows the deregistration only 24 hours after it is turned off).`,
        );
    });

    it("the first generation of a lineage: an empty retention report", async function () {
        const { outs } = await provider.create!(inputsWith());
        assert.deepEqual(outs.retentionReport, { kept: [], removed: [] });
        // The lineage was empty before this image: one look (for the next generation), none after it to retire.
        const lineageLooks = w.calls.filter((c) => c.action === "DescribeImages" && c.input.Filters?.some((f: { Name: string }) => f.Name === `tag:${LINEAGE_TAGS.lineage}`));
        assert.equal(lineageLooks.length, 1);
    });

    it("read keeps adoptImageId and awsProvider from state", async function () {
        const { outs } = await provider.create!(inputsWith());
        const { props } = await provider.read!(NEW_IMAGE, { ...outs, adoptImageId: NEW_IMAGE, awsProvider: { region: REGION } });
        assert.equal(props!.adoptImageId, NEW_IMAGE);
        assert.deepEqual(props!.awsProvider, { region: REGION });
    });

    it("onDestroy retain: the current image and its snapshots are kept, the older generations go", async function () {
        const { outs } = await provider.create!(inputsWith({ onDestroy: "retain" }));
        const older = lineageImage("ami-0c0000000000000a0", 0, {});
        older.tags[LINEAGE_TAGS.retiredAt] = "2025-12-01T00:00:00.000Z";
        await provider.delete!(NEW_IMAGE, outs);
        const image = w.ec2.images.get(NEW_IMAGE)!;
        assert.equal(image.deregistered, false);
        assert.ok(image.snapshotIds.every((id) => !w.ec2.snapshots.get(id)!.deleted));
        assert.equal(older.deregistered, true);
        assert.ok(said.includes(`keeping image ${NEW_IMAGE} (onDestroy: "retain")`), said.join("\n"));
    });

    it("a destroy of an image deregistered out of band (state without a generation: no lineage look): the snapshots state recorded go, and no others", async function () {
        const { outs: created } = await provider.create!(inputsWith());
        const { generation: _g, ...outs } = created;
        const image = w.ec2.images.get(NEW_IMAGE)!;
        image.deregistered = true;
        w.calls.length = 0;
        await provider.delete!(NEW_IMAGE, outs);
        assert.ok(outs.snapshotIds.length > 0);
        assert.ok(outs.snapshotIds.every((id: string) => w.ec2.snapshots.get(id)!.deleted));
        assert.deepEqual(w.calls.filter((c) => c.action === "DeleteSnapshot").map((c) => c.input.SnapshotId), outs.snapshotIds);
    });

    it("onDestroy retain: the current image's snapshots are kept even when the lineage look does not list the image", async function () {
        const { outs } = await provider.create!(inputsWith({ onDestroy: "retain" }));
        const image = w.ec2.images.get(NEW_IMAGE)!;
        // As a describe by tag may not list a new image yet: the image without its lineage tag, its snapshots with it.
        delete image.tags[LINEAGE_TAGS.lineage];
        assert.ok(image.snapshotIds.every((id) => w.ec2.snapshots.get(id)!.tags[LINEAGE_TAGS.lineage] === LINEAGE));
        await provider.delete!(NEW_IMAGE, outs);
        assert.ok(image.snapshotIds.every((id) => !w.ec2.snapshots.get(id)!.deleted));
    });

    it("a state without a generation (an older release's): the image alone is deleted, no lineage look", async function () {
        const { outs } = await provider.create!(inputsWith());
        const { generation: _g, ...older } = outs;
        w.calls.length = 0;
        await provider.delete!(NEW_IMAGE, older);
        assert.equal(w.ec2.images.get(NEW_IMAGE)!.deregistered, true);
        assert.ok(!w.calls.some((c) => c.action === "DescribeImages" && c.input.Filters?.some((f: { Name: string }) => f.Name === `tag:${LINEAGE_TAGS.lineage}`)));
    });

    describe("the SSM parameter on destroy", function () {
        let ssm: Array<{ action: string; input: Record<string, any> }>;
        let value: string | undefined;
        beforeEach(() => {
            ssm = [];
            value = undefined;
            (ssmClient(REGION) as unknown as { send: unknown }).send = async (command: { constructor: { name: string }; input: Record<string, any> }) => {
                const action = command.constructor.name.replace(/Command$/, "");
                ssm.push({ action, input: command.input });
                if (action === "PutParameter") value = command.input.Value;
                if (action === "DeleteParameter") value = undefined;
                if (action === "GetParameter" && value === undefined) throw Object.assign(new Error("none"), { name: "ParameterNotFound", Code: "ParameterNotFound" });
                return action === "GetParameter" ? { Parameter: { Value: value } } : {};
            };
        });

        it("is published once the image is available, and deleted on destroy", async function () {
            const { outs } = await provider.create!(inputsWith({ ssmParameterName: "/golden/web" }));
            assert.equal(value, NEW_IMAGE);
            assert.ok(said.includes(`publishing ${NEW_IMAGE} in SSM parameter /golden/web`), said.join("\n"));
            await provider.delete!(NEW_IMAGE, outs);
            assert.equal(value, undefined);
            assert.ok(said.includes("deleting SSM parameter /golden/web"), said.join("\n"));
        });

        it("is kept with onDestroy retain", async function () {
            const { outs } = await provider.create!(inputsWith({ ssmParameterName: "/golden/web", onDestroy: "retain" }));
            await provider.delete!(NEW_IMAGE, outs);
            assert.equal(value, NEW_IMAGE);
            assert.ok(!ssm.some((c) => c.action === "DeleteParameter"));
        });

        it("an update that keeps the parameter, and one from a state without one: nothing is deleted (the value is current, so no second put)", async function () {
            const { outs } = await provider.create!(inputsWith({ ssmParameterName: "/golden/web" }));
            await provider.update!(NEW_IMAGE, outs, inputsWith({ ssmParameterName: "/golden/web" }) as never);
            const { ssmParameterName: _n, ...without } = outs;
            await provider.update!(NEW_IMAGE, without, inputsWith({ ssmParameterName: "/golden/web" }) as never);
            assert.deepEqual(ssm.filter((c) => c.action !== "GetParameter").map((c) => [c.action, c.input.Name]), [
                ["PutParameter", "/golden/web"],
            ]);
            assert.equal(value, NEW_IMAGE);
        });

        it("a renamed parameter: the old one is removed when it still names the image", async function () {
            const { outs } = await provider.create!(inputsWith({ ssmParameterName: "/golden/old" }));
            await provider.update!(NEW_IMAGE, outs, inputsWith({ ssmParameterName: "/golden/new" }) as never);
            assert.deepEqual(ssm.filter((c) => c.action !== "GetParameter").map((c) => [c.action, c.input.Name]), [
                ["PutParameter", "/golden/old"], ["DeleteParameter", "/golden/old"], ["PutParameter", "/golden/new"],
            ]);
        });
    });

    describe("diff: retention due", function () {
        it("nothing changed but a kept generation is free to go: an update of retentionReport; while it is kept, no change", async function () {
            const kept = lineageImage("ami-0c0000000000000a0", 0);
            kept.tags[LINEAGE_TAGS.retiredAt] = "2025-12-01T00:00:00.000Z";
            w.ec2.references.push({ region: REGION, ImageId: kept.id, ResourceType: "ec2:Instance", Arn: "arn:i" });
            const inputs = inputsWith({ retention: { keep: 0, launchedWithin: "0s" } });
            const { outs } = await provider.create!(inputs);
            assert.deepEqual(outs.retentionReport.kept.map((k: { imageId: string }) => k.imageId), [kept.id]);
            assert.equal((await provider.diff!(NEW_IMAGE, outs, inputs)).changes, false);
            w.ec2.references.length = 0;
            assert.deepEqual(await provider.diff!(NEW_IMAGE, outs, inputs), { changes: true, replaces: [], deleteBeforeReplace: false });
            w.ec2.fail("DescribeImages", new Error("throttled"), 10);
            assert.equal((await provider.diff!(NEW_IMAGE, outs, inputs)).changes, false, "a failed look waits for the next run");
        });
    });
});
