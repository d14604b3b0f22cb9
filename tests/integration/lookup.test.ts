// lookupBaseImage and the baseImage() component against the EC2 emulator over HTTP (moto's
// default public AMIs and SSM public parameters), plus the query rules, which need no emulator.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { CreateImageCommand, DescribeImagesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { baseImage, resolveRegion } from "../../components/base-image";
import { resetClients } from "../../providers/ec2/client";
import { GoldenAmiError } from "../../providers/core/errors";
import { BaseImage, BaseImageQuery, lookupBaseImage } from "../../providers/ec2/lookup";
import { Emulator } from "../support/emulator";

const REGION = "us-east-1";
const AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
const AMAZON_OWNER = "137112412989"; // moto's default public AMIs are owned by this account (alias "amazon")

/** Resolves an Output outside a Pulumi deployment (apply runs; its value is what the callback sees). */
function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => { resolve(v); return v; }));
}

async function rejection(promise: Promise<unknown>): Promise<GoldenAmiError> {
    const err = await promise.then(
        () => assert.fail("expected an error"),
        (e: unknown) => e,
    );
    assert.ok(err instanceof GoldenAmiError, `expected a GoldenAmiError, got ${String(err)}`);
    return err;
}

describe("lookup: query rules (no AWS call)", () => {
    const cases: [string, Partial<BaseImageQuery>, RegExp][] = [
        ["neither ssmParameter nor owners + namePattern", {}, /give either ssmParameter .* or owners \+ namePattern/],
        ["both ssmParameter and owners + namePattern", { ssmParameter: AL2023, owners: ["amazon"], namePattern: "x*" }, /either ssmParameter or owners \+ namePattern, not both/],
        ["ssmParameter with namePattern", { ssmParameter: AL2023, namePattern: "x*" }, /not both/],
        ["owners without namePattern", { owners: ["amazon"] }, /owners \[amazon\] need a namePattern too/],
        ["namePattern without owners", { namePattern: "amzn2-*" }, /namePattern "amzn2-\*" needs owners too/],
        ["an empty owners list", { owners: [], namePattern: "amzn2-*" }, /needs owners too/],
    ];
    for (const [name, query, pattern] of cases) {
        it(`refuses ${name}`, async () => {
            const err = await rejection(lookupBaseImage({ region: REGION, ...query }));
            assert.equal(err.code, "InvalidBaseImageQuery");
            assert.match(err.message, pattern);
        });
    }
    it("refuses a query without a region", async () => {
        const err = await rejection(lookupBaseImage({ region: "", ssmParameter: AL2023 }));
        assert.match(err.message, /region is required/);
    });
});

describe("integration: base image lookup (emulator)", function () {
    let emulator: Emulator;
    let ec2: EC2Client;
    let ssm: SSMClient;
    let savedEnv: NodeJS.ProcessEnv;

    before(async function () {
        emulator = await Emulator.start();
        ec2 = emulator.ec2(REGION);
        savedEnv = { ...process.env };
        Object.assign(process.env, emulator.env(REGION));
        resetClients();
        ssm = new SSMClient({
            region: REGION,
            endpoint: emulator.endpoint,
            credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
        });
    });

    after(async function () {
        ssm?.destroy();
        resetClients();
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
        await emulator?.stop();
    });

    it("resolves the SSM public parameter for Amazon Linux 2023 and describes its image", async function () {
        const expected = (await ssm.send(new GetParameterCommand({ Name: AL2023 }))).Parameter?.Value;
        assert.match(expected ?? "", /^ami-[0-9a-f]+$/, "moto ships this public parameter");

        const found = await lookupBaseImage({ region: REGION, ssmParameter: AL2023 });
        assert.equal(found.imageId, expected);
        assert.match(found.name, /^al2023-ami-.*-x86_64$/);
        assert.equal(found.architecture, "x86_64");
        assert.equal(found.ownerId, AMAZON_OWNER);
        assert.ok(!Number.isNaN(Date.parse(found.creationDate)), found.creationDate);
    });

    it("checks an SSM parameter's image against architecture", async function () {
        const err = await rejection(lookupBaseImage({ region: REGION, ssmParameter: AL2023, architecture: "arm64" }));
        assert.equal(err.code, "ArchitectureMismatch");
        assert.match(err.message, /whose architecture is x86_64, not arm64/);
    });

    it("explains an SSM parameter that does not exist", async function () {
        const name = "/aws/service/ami-amazon-linux-latest/no-such-parameter";
        const err = await rejection(lookupBaseImage({ region: REGION, ssmParameter: name }));
        assert.equal(err.code, "ParameterNotFound");
        assert.match(err.message, new RegExp(`resolving SSM parameter ${name} in us-east-1 failed`));
        assert.match(err.message, /What to do: the SSM parameter does not exist in this region/);
    });

    it("finds the most recent Amazon Linux 2 image by owners + namePattern + architecture", async function () {
        const found = await lookupBaseImage({ region: REGION, owners: ["amazon"], namePattern: "amzn2-ami-hvm-*", architecture: "x86_64" });
        assert.match(found.name, /^amzn2-ami-hvm-.*x86_64/);
        assert.equal(found.architecture, "x86_64");
        assert.equal(found.ownerId, AMAZON_OWNER);

        // Independently: no other candidate is newer.
        const all = (await ec2.send(new DescribeImagesCommand({
            Owners: ["amazon"],
            Filters: [{ Name: "name", Values: ["amzn2-ami-hvm-*"] }, { Name: "architecture", Values: ["x86_64"] }],
        }))).Images ?? [];
        assert.ok(all.length > 1, `moto should have several amzn2-ami-hvm images, has ${all.length}`);
        for (const other of all) {
            assert.ok(Date.parse(other.CreationDate!) <= Date.parse(found.creationDate), `${other.Name} is newer than ${found.name}`);
        }
    });

    it("picks the most recent by creation date, not by name", async function () {
        const instanceId = await emulator.launchInstance(REGION);
        const prefix = `ga-lookup-${Date.now()}`;
        // The older image gets the greater name, so a name-based pick would choose wrongly.
        const older = (await ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: `${prefix}-b` }))).ImageId!;
        await new Promise((resolve) => setTimeout(resolve, 1_100)); // creation dates have 1 s resolution at worst
        const newer = (await ec2.send(new CreateImageCommand({ InstanceId: instanceId, Name: `${prefix}-a` }))).ImageId!;
        assert.notEqual(older, newer);

        const found = await lookupBaseImage({ region: REGION, owners: ["self"], namePattern: `${prefix}-*` });
        assert.equal(found.imageId, newer);
        assert.equal(found.name, `${prefix}-a`);
    });

    it("narrows by Marketplace product code", async function () {
        // moto ships one image with product codes code123 and code456.
        const found = await lookupBaseImage({ region: REGION, owners: ["amazon"], namePattern: "product_codes_test", productCode: "code123" });
        assert.equal(found.name, "product_codes_test");
        const err = await rejection(lookupBaseImage({ region: REGION, owners: ["amazon"], namePattern: "product_codes_test", productCode: "nope999" }));
        assert.equal(err.code, "NoMatchingImage");
        assert.match(err.message, /product code nope999/);
    });

    it("says which filter matched nothing, and what to check", async function () {
        const err = await rejection(lookupBaseImage({
            region: REGION,
            owners: ["amazon", "aws-marketplace"],
            namePattern: "does-not-exist-*",
            architecture: "arm64",
        }));
        assert.equal(err.code, "NoMatchingImage");
        assert.match(err.message, /owners \[amazon, aws-marketplace\], name "does-not-exist-\*", architecture arm64, in us-east-1/);
        assert.match(err.message, /deprecated images excluded/);
        assert.match(err.message, /check the owners .* the name pattern .* the architecture, the product code and the region/);
    });

    describe("baseImage() component", function () {
        afterEach(() => pulumi.runtime.setAllConfig({}));

        it("resolves Inputs and looks the image up in the explicit region", async function () {
            const image: BaseImage = await valueOf(baseImage({ region: pulumi.output(REGION), ssmParameter: Promise.resolve(AL2023) }));
            assert.equal(image.imageId, (await lookupBaseImage({ region: REGION, ssmParameter: AL2023 })).imageId);
        });

        it("takes the region from aws:region, then AWS_REGION, then AWS_DEFAULT_REGION", function () {
            const env = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
            try {
                process.env.AWS_REGION = "eu-central-1";
                process.env.AWS_DEFAULT_REGION = "ap-south-1";
                assert.equal(resolveRegion("us-west-2"), "us-west-2");
                pulumi.runtime.setConfig("aws:region", "eu-west-1");
                assert.equal(resolveRegion(), "eu-west-1");
                pulumi.runtime.setAllConfig({});
                assert.equal(resolveRegion(), "eu-central-1");
                delete process.env.AWS_REGION;
                assert.equal(resolveRegion(), "ap-south-1");
                delete process.env.AWS_DEFAULT_REGION;
                assert.throws(() => resolveRegion(), (err: unknown) =>
                    err instanceof GoldenAmiError && /pulumi config set aws:region/.test(err.message) && err.code === "NoRegion");
            } finally {
                for (const [k, v] of Object.entries(env)) {
                    if (v === undefined) delete process.env[k];
                    else process.env[k] = v;
                }
            }
        });

        it("acts with the stack's aws:* settings: aws:endpoints reach the emulator when the environment names no endpoint", async function () {
            const endpoint = process.env.AWS_ENDPOINT_URL!;
            delete process.env.AWS_ENDPOINT_URL;
            try {
                resetClients();
                pulumi.runtime.setAllConfig({ "aws:region": REGION, "aws:endpoints": JSON.stringify([{ ssm: endpoint, ec2: endpoint }]) });
                const image = await valueOf(baseImage({ ssmParameter: AL2023 }));
                assert.match(image.imageId, /^ami-/);
            } finally {
                process.env.AWS_ENDPOINT_URL = endpoint;
                resetClients();
            }
        });

        it("uses the aws:region stack configuration when no region is given", async function () {
            pulumi.runtime.setConfig("aws:region", REGION);
            const image = await valueOf(baseImage({ owners: ["amazon"], namePattern: "amzn2-ami-hvm-*", architecture: "x86_64" }));
            assert.match(image.name, /^amzn2-ami-hvm-/);
        });
    });
});
