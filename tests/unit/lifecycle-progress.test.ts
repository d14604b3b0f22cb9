// What the person running `pulumi up` reads on a resource's row at each branch of the one
// image lifecycle (providers/lifecycle/image-lifecycle.ts), for every image kind: an image
// adopted from an earlier run, a failed image being deleted, a resume, the distribution being
// applied, a delete. (The last line of a create is tests/unit/lifecycle.test.ts'.)
import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { PartialCreateError } from "../../providers/lifecycle/partial";
import { FakeEc2, FakeImage } from "../support/fake-ec2";
import { FakeClock, rejection, testProviders } from "../support/fakes";
import { kinds } from "./lifecycle-kinds";

for (const kind of kinds) {
    describe(`image lifecycle progress lines (${kind.name})`, function () {
        let ec2: FakeEc2;
        let restore: () => void;
        let lines: string[];
        let provider: pulumi.dynamic.ResourceProvider;

        beforeEach(function () {
            ec2 = kind.ec2();
            restore = ec2.install();
            lines = [];
            provider = testProviders(new FakeClock(), (line) => lines.push(line))[kind.name];
        });
        afterEach(function () {
            restore();
        });

        const made = (): FakeImage => [...ec2.images.values()].find((i) => i.madeBy === kind.makes)!;

        it("create of an image adopted from an interrupted run says so, with its ID and name", async function () {
            const earlier = ec2.seedImage({ id: "ami-0bbbbbbbbbbbbbbb2", region: kind.region, name: kind.imageName, tags: { ...kind.markers } });
            await provider.create(kind.inputs());
            assert.ok(lines.includes(`found ${kind.noun} ${earlier.id} (${kind.imageName}) from an earlier run; resuming`), lines.join(" | "));
        });

        it("create of a new image says nothing of an earlier run, of resuming or of a distribution", async function () {
            await provider.create(kind.inputs());
            assert.deepEqual(lines.filter((l) => /earlier run|resuming|distribution/.test(l)), []);
        });

        it("create of an image that ends failed says it is deleting it and its snapshots", async function () {
            ec2.newImageStates = ["pending", "failed"];
            ec2.newImageStateReason = { Code: "Client.InternalError", Message: "Client.InternalError: out of capacity" };
            await rejection(provider.create(kind.inputs()));
            assert.ok(lines.includes(`${kind.noun} ${made().id} failed; deleting it and its snapshots`), lines.join(" | "));
        });

        it("create with distribution settings says it applies them, once the image is there", async function () {
            await provider.create(kind.inputs({ launchAccounts: ["111111111111"] }));
            const id = made().id;
            const at = lines.indexOf(`applying the distribution settings of ${kind.noun} ${id}`);
            assert.ok(at >= 0, lines.join(" | "));
            assert.ok(at < lines.length - 1, "before the final line");
        });

        it("update of a partial create starts with 'resuming', and its failed image says it is being deleted", async function () {
            ec2.newImageStates = ["pending"];
            ec2.newSnapshotSteps = [{ state: "pending", progress: "5%" }];
            const partial = await rejection(provider.create(kind.inputs({ imageTimeoutMinutes: 1 })));
            assert.ok(partial instanceof PartialCreateError, String(partial));
            const image = made();
            image.states = ["failed"];
            image.stateReason = { Code: "Client.InternalError", Message: "Client.InternalError: out of capacity" };
            for (const s of image.snapshotIds) ec2.snapshots.get(s)!.steps = [{ state: "error", progress: "5%" }];
            lines.length = 0;
            await rejection(provider.update!(partial.id, partial.properties, kind.inputs({ imageTimeoutMinutes: 1 }) as never));
            assert.equal(lines[0], `resuming ${kind.noun} ${image.id}`);
            assert.ok(lines.includes(`${kind.noun} ${image.id} failed; deleting it and its snapshots`), lines.join(" | "));
        });

        it("update of a complete image (a tag change) does not say 'resuming'", async function () {
            const { id, outs } = await provider.create(kind.inputs());
            lines.length = 0;
            await provider.update!(id, outs, kind.inputs({ tags: { team: "data" } }) as never);
            assert.deepEqual(lines.filter((l) => /resuming/.test(l)), []);
        });

        it("delete says it deregisters the image and deletes its snapshots", async function () {
            const { id, outs } = await provider.create(kind.inputs());
            lines.length = 0;
            await provider.delete!(id, outs);
            assert.deepEqual(lines, [`deregistering ${kind.noun} ${id} and deleting its snapshots`]);
        });
    });
}
