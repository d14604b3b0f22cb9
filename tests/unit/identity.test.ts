// providers/ec2/identity.ts: who golden-ami acts as (STS, once per identity and region, a
// failure not remembered), the aws:allowedAccountIds / forbiddenAccountIds check, and the
// identity errors name.
import * as assert from "node:assert/strict";
import { configureStack, stsClient } from "../../providers/ec2/client";
import { actingIdentity, callerIdentity, ensureAllowedAccount, resetIdentities } from "../../providers/ec2/identity";
import { AwsSettings } from "../../providers/core/aws-settings";
import { awsError, FAKE_ACCOUNT, rejection, stubEc2 } from "../support/fakes";

const REGION = "eu-west-1";
const OTHER = "eu-central-1";

/** STS in both regions answering FAKE_ACCOUNT, or failing while `failing` is set; counts its calls. */
function sts(settings: AwsSettings = {}) {
    configureStack(settings);
    const stub = stubEc2([REGION, OTHER], () => ({}));
    const state = { calls: 0, failing: undefined as Error | undefined };
    for (const region of [REGION, OTHER]) {
        (stsClient(region) as unknown as { send: unknown }).send = async () => {
            state.calls++;
            if (state.failing) throw state.failing;
            return { Account: FAKE_ACCOUNT, Arn: `arn:aws:iam::${FAKE_ACCOUNT}:user/fake` };
        };
    }
    return { state, restore: () => { stub.restore(); configureStack({}); resetIdentities(); } };
}

describe("identity (providers/ec2/identity.ts)", function () {
    let restore: (() => void) | undefined;
    afterEach(() => restore?.());

    it("asks STS once per region, and again after a failed look", async function () {
        const s = sts();
        restore = s.restore;
        assert.deepEqual(await callerIdentity(REGION), { account: FAKE_ACCOUNT, arn: `arn:aws:iam::${FAKE_ACCOUNT}:user/fake` });
        await callerIdentity(REGION);
        assert.equal(s.state.calls, 1);
        await callerIdentity(OTHER);
        assert.equal(s.state.calls, 2);
        resetIdentities();
        s.state.failing = awsError("ExpiredToken", "The security token included in the request is expired");
        await rejection(callerIdentity(REGION));
        s.state.failing = undefined;
        assert.equal((await callerIdentity(REGION)).account, FAKE_ACCOUNT);
        assert.equal(s.state.calls, 4);
    });

    it("without account lists nothing is asked", async function () {
        const s = sts();
        restore = s.restore;
        await ensureAllowedAccount(REGION);
        assert.equal(s.state.calls, 0);
    });

    it("an allowed account passes; one not allowed, or forbidden, is refused", async function () {
        let s = sts({ allowedAccountIds: [FAKE_ACCOUNT] });
        restore = s.restore;
        await ensureAllowedAccount(REGION);
        assert.equal(s.state.calls, 1);
        s.restore();
        s = sts({ allowedAccountIds: ["999999999999"] });
        restore = s.restore;
        assert.equal(((await rejection(ensureAllowedAccount(REGION))) as { code?: string }).code, "ForbiddenAccount");
        s.restore();
        s = sts({ forbiddenAccountIds: [FAKE_ACCOUNT] });
        restore = s.restore;
        assert.equal(((await rejection(ensureAllowedAccount(REGION))) as { code?: string }).code, "ForbiddenAccount");
        s.restore();
        s = sts({ forbiddenAccountIds: ["999999999999"] });
        restore = s.restore;
        await ensureAllowedAccount(REGION);
    });

    it("STS failing: AccountCheckFailed naming the list, the region and the error; nothing changed", async function () {
        const cases: Array<[AwsSettings, string]> = [[{ allowedAccountIds: [FAKE_ACCOUNT] }, "allowedAccountIds"], [{ forbiddenAccountIds: [FAKE_ACCOUNT] }, "forbiddenAccountIds"]];
        for (const [settings, list] of cases) {
            const s = sts(settings);
            restore = s.restore;
            s.state.failing = awsError("ExpiredToken", "The security token included in the request is expired");
            const err = await rejection(ensureAllowedAccount(REGION));
            assert.equal((err as { code?: string }).code, "AccountCheckFailed");
            assert.equal(
                err.message,
                `golden-ami: cannot check the account against aws:${list}: STS GetCallerIdentity failed in ${REGION} (The security token included in the request is expired); ` +
                    "nothing was changed. What to do: check the credentials (aws:profile, aws:assumeRoles, AWS_PROFILE).",
            );
            s.restore();
        }
    });

    it("actingIdentity: account and ARN; the region alone when STS fails or under skipCredentialsValidation (then never asked)", async function () {
        let s = sts();
        restore = s.restore;
        assert.deepEqual(await actingIdentity(REGION), { region: REGION, account: FAKE_ACCOUNT, arn: `arn:aws:iam::${FAKE_ACCOUNT}:user/fake` });
        resetIdentities();
        s.state.failing = awsError("ExpiredToken", "expired");
        assert.deepEqual(await actingIdentity(REGION), { region: REGION });
        s.restore();
        s = sts({ skipCredentialsValidation: true });
        restore = s.restore;
        assert.deepEqual(await actingIdentity(REGION), { region: REGION });
        assert.equal(s.state.calls, 0);
    });
});
