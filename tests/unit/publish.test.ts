// providers/ec2/publish.ts: the current AMI ID in an SSM parameter (aws:ec2:image), against a
// stubbed SSM client that keeps one parameter and records every call: put only when it changes,
// the read-back until SSM's asynchronous validation has stored it (virtual time), the
// unpublish of our own value only, and each failure's message.
import * as assert from "node:assert/strict";
import { resetClients, ssmClient } from "../../providers/ec2/client";
import { publishedValue, publishImageId, unpublish } from "../../providers/ec2/publish";
import { awsError, FakeClock, rejection } from "../support/fakes";

const REGION = "eu-west-1";
const NAME = "/golden/web";

describe("SSM publication (providers/ec2/publish.ts)", function () {
    let calls: Array<{ action: string; input: Record<string, any> }>;
    /** What GetParameter answers. */
    let value: string | undefined;
    /** How many GetParameters after a put still answer the old value (SSM validating); the put's value is stored after. */
    let validatingGets: number;
    let fail: Record<string, Error | undefined>;
    let clock: FakeClock;

    beforeEach(() => {
        resetClients();
        calls = [];
        value = undefined;
        validatingGets = 0;
        fail = {};
        clock = new FakeClock();
        let put: string | undefined;
        (ssmClient(REGION) as unknown as { send: unknown }).send = async (command: { constructor: { name: string }; input: Record<string, any> }) => {
            const action = command.constructor.name.replace(/Command$/, "");
            calls.push({ action, input: command.input });
            if (fail[action]) throw fail[action];
            if (action === "GetParameter") {
                if (put !== undefined) {
                    if (validatingGets > 0) validatingGets--;
                    else [value, put] = [put, undefined];
                }
                if (value === undefined) throw awsError("ParameterNotFound", "none");
                return { Parameter: { Name: NAME, Value: value } };
            }
            if (action === "PutParameter") {
                put = command.input.Value;
                return { Version: 2 };
            }
            if (action === "DeleteParameter") {
                if (value === undefined) throw awsError("ParameterNotFound", "none");
                value = undefined;
                return {};
            }
            throw new Error(`unexpected ${action}`);
        };
    });
    afterEach(() => resetClients());

    const actions = () => calls.map((c) => c.action);

    it("publishedValue: the value, or undefined when the parameter does not exist; another error named", async function () {
        assert.equal(await publishedValue(REGION, NAME), undefined);
        value = "ami-1";
        assert.equal(await publishedValue(REGION, NAME), "ami-1");
        assert.deepEqual(calls[0].input, { Name: NAME });
        fail.GetParameter = awsError("AccessDeniedException", "not allowed");
        assert.ok((await rejection(publishedValue(REGION, NAME))).message.startsWith(`golden-ami: reading SSM parameter ${NAME} in ${REGION} failed: AccessDeniedException: not allowed.`));
    });

    it("publishedValue: an answer without a parameter is undefined", async function () {
        (ssmClient(REGION) as unknown as { send: unknown }).send = async () => ({});
        assert.equal(await publishedValue(REGION, NAME), undefined);
    });

    it("puts a new version as aws:ec2:image and reads it back", async function () {
        value = "ami-old";
        await publishImageId(REGION, NAME, "ami-new", { clock });
        assert.deepEqual(actions(), ["GetParameter", "PutParameter", "GetParameter"]);
        assert.deepEqual(calls[1].input, {
            Name: NAME, Value: "ami-new", Type: "String", DataType: "aws:ec2:image", Overwrite: true, Description: "golden-ami: the current golden AMI of this region",
        });
        assert.equal(value, "ami-new");
    });

    it("nothing when the parameter names the image already", async function () {
        value = "ami-new";
        await publishImageId(REGION, NAME, "ami-new", { clock });
        assert.deepEqual(actions(), ["GetParameter"]);
    });

    it("waits (virtual time) while SSM still answers the old value", async function () {
        value = "ami-old";
        validatingGets = 3;
        await publishImageId(REGION, NAME, "ami-new", { clock });
        assert.equal(value, "ami-new");
        assert.deepEqual(actions(), ["GetParameter", "PutParameter", "GetParameter", "GetParameter", "GetParameter", "GetParameter"]);
        // Half a second first (±20 % jitter), growing to 5 s at most: SSM validates within seconds.
        assert.ok(clock.sleeps.length >= 3 && clock.sleeps[0] >= 400 && clock.sleeps[0] <= 600 && clock.sleeps.every((ms) => ms <= 6000), String(clock.sleeps));
    });

    it("SSM never storing it (an invalid image): PublishFailed with what to do, after about a minute of virtual time", async function () {
        value = "ami-old";
        const start = clock.now();
        validatingGets = 1_000_000;
        const err = await rejection(publishImageId(REGION, NAME, "ami-new", { clock }));
        assert.equal(err.name, "GoldenAmiError");
        assert.equal((err as unknown as { code: string }).code, "PublishFailed");
        assert.match(err.message, new RegExp(`^golden-ami: SSM did not store ami-new in parameter ${NAME} in ${REGION} \\(data type aws:ec2:image is validated after PutParameter answers: the AMI must exist and be available in this account and region\\)\\. What to do: check the image in ${REGION}, then run \`pulumi up\` again\\. \\(.*SSM parameter ${NAME} in ${REGION} to name ami-new.*holds ami-old.*\\)$`));
        assert.ok(clock.now() - start >= 60_000 && clock.now() - start < 70_000, `${clock.now() - start} ms`);
    });

    it("a new parameter SSM never stores: the wait says it holds nothing; looks at most 5 s apart", async function () {
        validatingGets = 1_000_000;
        const err = await rejection(publishImageId(REGION, NAME, "ami-new", { clock }));
        assert.match(err.message, /holds nothing/);
        assert.ok(clock.sleeps.every((ms) => ms <= 6000), String(clock.sleeps));
    });

    it("a refused put names the image and parameter", async function () {
        fail.PutParameter = awsError("ParameterLimitExceeded", "too many");
        assert.ok((await rejection(publishImageId(REGION, NAME, "ami-new", { clock }))).message.startsWith(`golden-ami: publishing ami-new in SSM parameter ${NAME} in ${REGION} failed: ParameterLimitExceeded: too many.`));
    });

    describe("unpublish", function () {
        it("deletes the parameter while it names one of ours", async function () {
            value = "ami-2";
            await unpublish(REGION, NAME, ["ami-1", "ami-2"]);
            assert.deepEqual(actions(), ["GetParameter", "DeleteParameter"]);
            assert.deepEqual(calls[1].input, { Name: NAME });
        });

        it("leaves someone else's value, and a parameter gone, alone", async function () {
            value = "ami-theirs";
            await unpublish(REGION, NAME, ["ami-1"]);
            value = undefined;
            await unpublish(REGION, NAME, ["ami-1"]);
            assert.deepEqual(actions(), ["GetParameter", "GetParameter"]);
        });

        it("gone between the read and the delete is fine; another failure is named", async function () {
            value = "ami-1";
            fail.DeleteParameter = awsError("ParameterNotFound", "gone");
            await unpublish(REGION, NAME, ["ami-1"]);
            fail.DeleteParameter = awsError("AccessDeniedException", "no");
            assert.ok((await rejection(unpublish(REGION, NAME, ["ami-1"]))).message.startsWith(`golden-ami: deleting SSM parameter ${NAME} in ${REGION} failed: AccessDeniedException: no.`));
        });
    });
});
