// providers/lifecycle/acting.ts: every provider call acts as its resource's AWS provider would —
// the explicit provider's settings its inputs record, else the stack's; the account check before
// a change (not before a read); errors naming the account and region acted as, and what was done.
// A recording inner provider, STS stubbed to answer FAKE_ACCOUNT.
import * as assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import { AwsSettings } from "../../providers/core/aws-settings";
import { configureStack, currentSettings } from "../../providers/ec2/client";
import { actingProvider } from "../../providers/lifecycle/acting";
import { awsError, FAKE_ACCOUNT, rejection, stubEc2 } from "../support/fakes";

const REGION = "eu-west-1";
const OTHER_ACCOUNT = "999999999999";

describe("acting as the resource's AWS provider (providers/lifecycle/acting.ts)", function () {
    let restore: () => void;
    let seen: Array<{ call: string; settings: AwsSettings }>;
    let failWith: Error | undefined;

    /** An inner provider that records the settings each call ran with. */
    const inner = (): pulumi.dynamic.ResourceProvider => {
        const record = (call: string) => {
            seen.push({ call, settings: currentSettings() });
            if (failWith) throw failWith;
        };
        return {
            check: async (_o, news) => { record("check"); return { inputs: news }; },
            diff: async () => ({ changes: false }),
            create: async () => { record("create"); return { id: "id-1", outs: {} }; },
            read: async (id, props) => { record("read"); return { id, props }; },
            update: async () => { record("update"); return { outs: {} }; },
            delete: async () => { record("delete"); },
        };
    };

    beforeEach(() => {
        seen = [];
        failWith = undefined;
        restore = stubEc2([REGION, "eu-central-1"], () => ({})).restore;
    });
    afterEach(() => { restore(); configureStack({}); });

    const explicit = (over: Record<string, unknown> = {}) => ({ region: REGION, awsProvider: { allowedAccountIds: [FAKE_ACCOUNT], ...over } });

    it("each call runs with the explicit provider's settings its inputs record, else the stack's", async function () {
        configureStack({ allowedAccountIds: [FAKE_ACCOUNT, "111111111111"] });
        const p = actingProvider("image", inner());
        await p.check!({}, explicit());
        await p.create!(explicit());
        await p.read!("id-1", explicit());
        await p.update!("id-1", {}, explicit());
        await p.delete!("id-1", explicit());
        assert.deepEqual(seen.map((s) => [s.call, s.settings.allowedAccountIds]), ["check", "create", "read", "update", "delete"].map((c) => [c, [FAKE_ACCOUNT]]));
        seen.length = 0;
        await p.check!({}, { region: REGION });
        await p.create!({ region: REGION, awsProvider: "not settings" });
        assert.deepEqual(seen.map((s) => s.settings.allowedAccountIds), [[FAKE_ACCOUNT, "111111111111"], [FAKE_ACCOUNT, "111111111111"]]);
    });

    it("a read without props acts with the stack's settings", async function () {
        configureStack({ region: REGION, defaultTags: { team: "a" } });
        await actingProvider("image", inner()).read!("id-1", undefined as never);
        assert.deepEqual(seen[0].settings.defaultTags, { team: "a" });
    });

    for (const [call, run] of [
        ["create", (p: pulumi.dynamic.ResourceProvider, props: Record<string, unknown>) => p.create!(props)],
        ["update", (p: pulumi.dynamic.ResourceProvider, props: Record<string, unknown>) => p.update!("id-1", {}, props)],
        ["delete", (p: pulumi.dynamic.ResourceProvider, props: Record<string, unknown>) => p.delete!("id-1", props)],
    ] as const) {
        it(`${call} is refused before any change when the account is not allowed`, async function () {
            const err = await rejection(run(actingProvider("image", inner()), explicit({ allowedAccountIds: [OTHER_ACCOUNT] })));
            assert.match(err.message, new RegExp(`act as account ${FAKE_ACCOUNT} \\(in ${REGION}\\), but aws:allowedAccountIds allows only ${OTHER_ACCOUNT}`));
            assert.deepEqual(seen, []);
        });
    }

    it("read and check are not refused: they change nothing", async function () {
        const p = actingProvider("image", inner());
        await p.read!("id-1", explicit({ allowedAccountIds: [OTHER_ACCOUNT] }));
        await p.check!({}, explicit({ allowedAccountIds: [OTHER_ACCOUNT] }));
        assert.deepEqual(seen.map((s) => s.call), ["read", "check"]);
    });

    it("an error names what was being done, where, and as whom", async function () {
        failWith = awsError("UnauthorizedOperation", "You are not authorized to perform this operation.");
        const p = actingProvider("copy", inner());
        const says = async (what: Promise<unknown>) => (await rejection(what)).message;
        const acted = `(golden-ami acted as account ${FAKE_ACCOUNT} (arn:aws:iam::${FAKE_ACCOUNT}:user/fake) in ${REGION}.)`;
        assert.ok((await says(p.create!({ region: REGION }))).startsWith(`golden-ami: creating copy in ${REGION} failed: UnauthorizedOperation`));
        assert.ok((await says(p.read!("ami-1", { region: REGION }))).startsWith(`golden-ami: reading copy ami-1 in ${REGION} failed`));
        assert.ok((await says(p.update!("ami-1", {}, { region: REGION }))).startsWith(`golden-ami: updating copy ami-1 in ${REGION} failed`));
        const deleting = await says(p.delete!("ami-1", { region: REGION }));
        assert.ok(deleting.startsWith(`golden-ami: deleting copy ami-1 in ${REGION} failed`), deleting);
        assert.ok(deleting.endsWith(acted), deleting);
    });

    it("without a region in the props: the stack's region", async function () {
        configureStack({ region: "eu-central-1" });
        failWith = awsError("UnauthorizedOperation", "no");
        const err = await rejection(actingProvider("image", inner()).create!({}));
        assert.match(err.message, /creating image in eu-central-1 failed/);
    });

    it("only the calls the provider has; the rest of it as it is", async function () {
        const bare: pulumi.dynamic.ResourceProvider = { create: async () => ({ id: "x" }), diff: async () => ({ changes: true }) };
        const p = actingProvider("image", bare);
        assert.deepEqual(Object.keys(p).sort(), ["create", "diff"]);
        assert.equal(p.diff, bare.diff);
        assert.deepEqual(await p.create!({ region: REGION }), { id: "x" });
    });
});
