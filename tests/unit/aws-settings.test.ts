// The AWS provider's settings as golden-ami reads them from the stack configuration
// (`configure` hands over every `aws:*` key as text), the account lists, the default tags
// merged in check, and errors that name who golden-ami acted as.
import * as assert from "node:assert/strict";
import { accountRefusal, AwsSettings, awsSettingsFromConfig, durationSeconds, identityKey, settingsOfExplicit, withDefaultTags, withTargetRole } from "../../providers/core/aws-settings";
import { GoldenAmiError, withIdentity } from "../../providers/core/errors";
import { configureStack, resetClients } from "../../providers/ec2/client";
import { awsError } from "../support/fakes";
import { INSTANCE, offlineProvider, REGION, URN } from "./instance-image/fixture";

const settingsOf = (config: Record<string, unknown>) => awsSettingsFromConfig((key) => config[key]);

function refusal(config: Record<string, unknown>): GoldenAmiError {
    try {
        settingsOf(config);
    } catch (err) {
        assert.ok(err instanceof GoldenAmiError);
        return err;
    }
    assert.fail("accepted");
}

describe("unit: aws:* settings", function () {
    it("reads every setting, structured values as the engine hands them (JSON text) or as objects", () => {
        const s = settingsOf({
            "aws:region": "eu-west-1",
            "aws:profile": "tooling",
            "aws:sharedConfigFiles": '["/tmp/config"]',
            "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::222233334444:role/build", sessionName: "s", externalId: "x", duration: "1h30m", policy: "{}" }]),
            "aws:endpoints": [{ ec2: "http://127.0.0.1:1" }, { sts: "http://127.0.0.1:2" }],
            "aws:defaultTags": '{"tags":{"team":"platform"}}',
            "aws:allowedAccountIds": '["222233334444"]',
            "aws:skipCredentialsValidation": "true",
        });
        assert.deepEqual(s, {
            region: "eu-west-1",
            profile: "tooling",
            sharedConfigFiles: ["/tmp/config"],
            assumeRoles: [{ roleArn: "arn:aws:iam::222233334444:role/build", sessionName: "s", externalId: "x", durationSeconds: 5400, policy: "{}" }],
            endpoints: { ec2: "http://127.0.0.1:1", sts: "http://127.0.0.1:2" },
            defaultTags: { team: "platform" },
            allowedAccountIds: ["222233334444"],
            skipCredentialsValidation: true,
        });
        assert.deepEqual(settingsOf({}), {});
    });

    it("static keys go together and are kept apart; the identity key holds only their hash", () => {
        const s = settingsOf({ "aws:accessKey": "AKIAEXAMPLEEXAMPLE12", "aws:secretKey": "secret-secret-secret", "aws:token": "tok" });
        assert.deepEqual(s.staticKeys, { accessKeyId: "AKIAEXAMPLEEXAMPLE12", secretAccessKey: "secret-secret-secret", sessionToken: "tok" });
        const key = identityKey(s);
        for (const secret of ["AKIAEXAMPLEEXAMPLE12", "secret-secret-secret", "tok\""]) assert.ok(!key.includes(secret), key);
        assert.notEqual(key, identityKey(settingsOf({ "aws:accessKey": "AKIAEXAMPLEEXAMPLE12", "aws:secretKey": "other" })));
        assert.match(refusal({ "aws:accessKey": "AKIAEXAMPLEEXAMPLE12" }).message, /aws:secretKey is missing/);
    });

    it("refuses what the AWS provider refuses, naming the key", () => {
        assert.match(refusal({ "aws:assumeRoles": '[{"roleArn":"arn:aws:iam::1:user/x"}]' }).message, /aws:assumeRoles\[0\]\.roleArn is not an IAM role ARN/);
        assert.match(refusal({ "aws:assumeRoles": '[{"roleArn":"arn:aws:iam::222233334444:role/x","duration":"5m"}]' }).message, /aws:assumeRoles\[0\]\.duration must be a duration from 15m to 12h/);
        assert.match(refusal({ "aws:allowedAccountIds": '["12345"]' }).message, /aws:allowedAccountIds holds "12345"/);
        assert.match(refusal({ "aws:allowedAccountIds": '["222233334444"]', "aws:forbiddenAccountIds": '["111122223333"]' }).message, /cannot be set together/);
        assert.match(refusal({ "aws:endpoints": '[{"ec2":"localhost:1"}]' }).message, /aws:endpoints\.ec2 must be an http\(s\) URL/);
        assert.match(refusal({ "aws:defaultTags": '{"tags":{"a":1}}' }).message, /aws:defaultTags\.tags must be a map of strings/);
        assert.match(refusal({ "aws:skipCredentialsValidation": "yes" }).message, /must be true or false/);
        assert.match(refusal({ "aws:assumeRoles": "[{" }).message, /aws:assumeRoles is not valid JSON/);
    });

    it("account IDs that `config set --path` stored as numbers are read as 12-digit IDs", () => {
        assert.deepEqual(settingsOf({ "aws:allowedAccountIds": "[123456789012, 12345678901]" }).allowedAccountIds, ["123456789012", "012345678901"]);
        assert.deepEqual(settingsOf({ "aws:forbiddenAccountIds": [111122223333] }).forbiddenAccountIds, ["111122223333"]);
    });

    it("Go durations as the AWS provider takes them", () => {
        assert.equal(durationSeconds("1h"), 3600);
        assert.equal(durationSeconds("15m"), 900);
        assert.equal(durationSeconds("1h30m"), 5400);
        assert.equal(durationSeconds("900s"), 900);
        assert.equal(durationSeconds("900"), 900);
        assert.equal(durationSeconds("1d"), undefined);
        assert.equal(durationSeconds(""), undefined);
    });

    it("account lists: forbidden refused, allowed only; both IDs in the message", () => {
        const forbidden: AwsSettings = { forbiddenAccountIds: ["111122223333"] };
        assert.match(accountRefusal("111122223333", "us-east-1", forbidden)!, /act as account 111122223333 \(in us-east-1\), which aws:forbiddenAccountIds forbids \(111122223333\)/);
        assert.equal(accountRefusal("222233334444", "us-east-1", forbidden), undefined);
        const allowed: AwsSettings = { allowedAccountIds: ["222233334444"] };
        assert.match(accountRefusal("111122223333", "us-east-1", allowed)!, /account 111122223333 .*allows only 222233334444/);
        assert.equal(accountRefusal("222233334444", "us-east-1", allowed), undefined);
        assert.equal(accountRefusal("111122223333", "us-east-1", {}), undefined);
    });

    it("default tags sit under the resource's own tags", () => {
        assert.deepEqual(withDefaultTags({ team: "platform", env: "prod" }, { env: "dev" }), { team: "platform", env: "dev" });
        assert.deepEqual(withDefaultTags({ team: "platform" }, undefined), { team: "platform" });
        assert.equal(withDefaultTags(undefined, undefined), undefined);
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // an unknown value at preview
        assert.equal(withDefaultTags({ team: "platform" }, unknown), unknown, "an unknown map stays unknown");
    });

    it("an explicit provider's recorded settings: region, profile, roles, tags, account lists only", () => {
        assert.deepEqual(settingsOfExplicit({ region: "eu-west-1", assumeRoles: [{ roleArn: "arn:aws:iam::222233334444:role/x", sessionName: undefined }], defaultTags: { a: "b" } }), {
            region: "eu-west-1",
            assumeRoles: [{ roleArn: "arn:aws:iam::222233334444:role/x" }],
            defaultTags: { a: "b" },
        });
    });
});

describe("unit: errors name who golden-ami acted as", function () {
    const who = { region: "us-east-1", account: "111122223333", arn: "arn:aws:sts::111122223333:assumed-role/build/golden-ami" };

    it("not-found and unauthorized errors say the account, ARN and region; UnauthorizedOperation says how to decode", () => {
        const notFound = withIdentity(awsError("InvalidAMIID.NotFound", "The image id '[ami-1]' does not exist"), who, "copying ami-1") as GoldenAmiError;
        assert.match(notFound.message, /copying ami-1 failed: .*\(golden-ami acted as account 111122223333 \(arn:aws:sts::111122223333:assumed-role\/build\/golden-ami\) in us-east-1\.\)$/);
        assert.equal(notFound.code, "InvalidAMIID.NotFound");
        const denied = withIdentity(awsError("UnauthorizedOperation", "You are not authorized. Encoded authorization failure message: abc"), who, "creating image x") as GoldenAmiError;
        assert.match(denied.message, /aws sts decode-authorization-message --encoded-message/);
        assert.match(denied.message, /golden-ami acted as account 111122223333/);
        const ours = withIdentity(new GoldenAmiError("golden-ami: instance i-1 does not exist in us-east-1.", "InstanceNotFound"), { region: "us-east-1" }, "x") as GoldenAmiError;
        assert.match(ours.message, /golden-ami acted as unknown credentials \(account not looked up\) in us-east-1/);
        assert.equal(withIdentity(ours, who, "x"), ours, "named once");
    });

    it("other errors pass unchanged", () => {
        const other = awsError("InvalidParameterValue");
        assert.equal(withIdentity(other, who, "x"), other);
    });
});

describe("unit: aws:defaultTags in check", function () {
    afterEach(() => {
        configureStack({});
        resetClients();
    });

    it("merges the stack's default tags under the image's and snapshots' own tags", async () => {
        configureStack({ defaultTags: { team: "platform", env: "prod" } });
        const provider = offlineProvider();
        const { inputs, failures } = await provider.check!({}, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, tags: { env: "dev" } });
        assert.deepEqual(failures ?? [], []);
        assert.deepEqual(inputs.tags, { team: "platform", env: "dev" });
        assert.deepEqual(inputs.snapshotTags, { team: "platform", env: "prod" });
    });

    it("an explicit provider's default tags replace the stack's", async () => {
        configureStack({ defaultTags: { team: "platform" } });
        const provider = offlineProvider();
        const { inputs } = await provider.check!({}, { instanceId: INSTANCE, region: REGION, resourceUrn: URN, awsProvider: { defaultTags: { owner: "workload" } } });
        assert.deepEqual(inputs.tags, { owner: "workload" });
    });

    it("an explicit provider's region is the default region", async () => {
        const provider = offlineProvider();
        const { inputs } = await provider.check!({}, { instanceId: INSTANCE, resourceUrn: URN, awsProvider: { region: "ap-southeast-2" } });
        assert.equal(inputs.region, "ap-southeast-2");
    });
});

describe("unit: the settings of a copy into another account (withTargetRole)", function () {
    const base: AwsSettings = {
        profile: "tooling",
        assumeRoles: [{ roleArn: "arn:aws:iam::222233334444:role/builder" }],
        allowedAccountIds: ["222233334444"],
        forbiddenAccountIds: undefined,
        defaultTags: { team: "platform" },
    };

    it("assumes the target role last, on top of the base chain, and acts only in the role's account", () => {
        const s = withTargetRole(base, { roleArn: "arn:aws:iam::111122223333:role/target", sessionName: "copy" });
        assert.deepEqual(s.assumeRoles?.map((r) => [r.roleArn, r.sessionName]), [["arn:aws:iam::222233334444:role/builder", undefined], ["arn:aws:iam::111122223333:role/target", "copy"]]);
        assert.deepEqual(s.allowedAccountIds, ["111122223333"], "the base's allowed accounts are the source's, not the target's");
        assert.equal(s.profile, "tooling");
        assert.deepEqual(s.defaultTags, { team: "platform" });
        assert.notEqual(identityKey(s), identityKey(base), "its clients are its own");
        assert.equal(accountRefusal("222233334444", "us-east-1", s)?.includes("allows only 111122223333"), true, "credentials that stay in the source account are refused");
    });

    it("keeps the base's forbidden accounts; the role's session name defaults to golden-ami", () => {
        const s = withTargetRole({ forbiddenAccountIds: ["999999999999"] }, { roleArn: "arn:aws:iam::111122223333:role/target", accountId: "111122223333" });
        assert.deepEqual(s.forbiddenAccountIds, ["999999999999"]);
        assert.equal(s.assumeRoles?.[0].sessionName, "golden-ami");
    });
});
