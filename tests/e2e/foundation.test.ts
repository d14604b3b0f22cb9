// The foundation works together: the built Pulumi CLI, the Node.js language host, the
// dynamic-provider host, the EC2 emulator over HTTP and the local file backend.
import * as assert from "node:assert/strict";
import { DescribeTagsCommand } from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { PulumiStack, said } from "../support/pulumi";

describe("e2e: foundation (engine + language host + dynamic provider + emulator + backend)", function () {
    let emulator: Emulator;
    let stack: PulumiStack;
    let instanceId: string;

    before(async () => {
        emulator = await Emulator.start();
        instanceId = await emulator.launchInstance("us-east-1");
        stack = await PulumiStack.create({
            program: "foundation",
            env: emulator.env("us-east-1"),
            config: { "aws:region": "us-east-1", instanceId },
        });
    });

    after(async () => {
        await stack?.remove();
        await emulator?.stop();
    });

    async function probeTags(): Promise<string[]> {
        const out = await emulator.ec2("us-east-1").send(
            new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [instanceId] }, { Name: "key", Values: ["golden-ami:probe"] }] }),
        );
        return (out.Tags ?? []).map((t) => t.Value ?? "");
    }

    it("goes up, calling the emulator from the dynamic provider", async () => {
        const up = await stack.up();
        assert.equal(up.code, 0, up.stdout + up.stderr);
        assert.deepEqual(await stack.outputs(), { tagValue: "hello" });
        assert.deepEqual(await probeTags(), ["hello"], "the provider's CreateTags reached the emulator");
    });

    it("refreshes with no changes", async () => {
        const refresh = await stack.refresh(["--expect-no-changes"]);
        assert.equal(refresh.code, 0, refresh.stdout + refresh.stderr);
    });

    it("is destroyed, and the provider's delete reaches the emulator", async () => {
        const destroy = await stack.destroy();
        assert.equal(destroy.code, 0, destroy.stdout + destroy.stderr);
        assert.ok(said(destroy, /deleted|Resources:/));
        assert.deepEqual(await probeTags(), []);
        assert.equal((await stack.state()).deployment.resources?.length ?? 0, 0);
    });
});
