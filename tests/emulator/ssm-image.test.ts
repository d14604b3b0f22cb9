// Extension 9 (ext_ssm_image.py): SSM parameters of data type aws:ec2:image validated as SSM does:
// PutParameter answers 200, and a value that is not an available AMI of the region is not stored.
// Plain moto 5.2.1 stores any value.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { GetParameterCommand, GetParameterHistoryCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { Emulator } from "../support/emulator";
import { errorOf, sharedEmulator, uniqueName } from "./helpers";

const REGION = "us-east-1";

describe("emulator: SSM aws:ec2:image parameters", function () {
    let emulator: Emulator;
    let ssm: SSMClient;
    let imageId: string;

    before(async function () {
        emulator = await sharedEmulator();
        await emulator.reset();
        ssm = new SSMClient({ region: REGION, endpoint: emulator.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        const instanceId = await emulator.launchInstance(REGION);
        imageId = (await emulator.ec2(REGION).send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("ssm") }))).ImageId!;
    });

    const put = (Name: string, Value: string) => ssm.send(new PutParameterCommand({ Name, Value, Type: "String", DataType: "aws:ec2:image", Overwrite: true }));
    const value = async (Name: string) => (await ssm.send(new GetParameterCommand({ Name }))).Parameter?.Value;

    it("an available AMI of the region is stored; a value that is not one is answered 200 but not stored", async function () {
        const name = `/golden-ami-test/${uniqueName("p")}/latest`;
        const first = await put(name, imageId);
        assert.equal(first.Version, 1);
        assert.equal(await value(name), imageId);

        const malformed = await put(name, "not-an-ami");
        assert.ok(malformed.Version, "PutParameter answers as if it worked (SSM validates afterwards)");
        assert.equal(await value(name), imageId, "the invalid value is not stored: the previous one stays");
        await put(name, "ami-0123456789abcdef0");
        assert.equal(await value(name), imageId, "an AMI that does not exist in the region is not stored either");

        const fresh = `/golden-ami-test/${uniqueName("p")}/latest`;
        await put(fresh, "ami-0123456789abcdef0");
        assert.equal((await errorOf(value(fresh))).name, "ParameterNotFound", "a parameter whose first value fails is never created");

        const history = await ssm.send(new GetParameterHistoryCommand({ Name: name }));
        assert.deepEqual(history.Parameters?.map((p) => p.Value), [imageId]);
    });

    it("a deregistered AMI is not stored", async function () {
        const name = `/golden-ami-test/${uniqueName("p")}/latest`;
        await put(name, imageId);
        const instanceId = await emulator.launchInstance(REGION);
        const other = (await emulator.ec2(REGION).send(new ec2.CreateImageCommand({ InstanceId: instanceId, Name: uniqueName("ssm") }))).ImageId!;
        await emulator.ec2(REGION).send(new ec2.DeregisterImageCommand({ ImageId: other }));
        await put(name, other);
        assert.equal(await value(name), imageId);
    });
});
