// Explicit aws providers (Pulumi mocks: the @pulumi/aws provider plugin cannot run here, so
// what the engine would answer for an aws.Provider registration — its inputs as outputs — is
// what the mocks answer). A golden-ami resource given an aws.Provider (its `provider`, its
// `providers: { aws }`, or its parent's) records that provider's non-secret settings as its
// `awsProvider` input and is registered without it (the dynamic-provider host serves it;
// a custom resource takes no `providers` option, so that one is GoldenImage's);
// GoldenImage passes its provider to every child and a per-region one to a copy.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { GoldenImage } from "../../components/golden-image";
import { explicitSettings } from "../../providers/resources/aws-provider";
import { ImageCopy } from "../../providers/resources/image-copy";
import { InstanceImage } from "../../providers/resources/instance-image";

const INSTANCE_TYPE = "pulumi-nodejs:dynamic/golden-ami:InstanceImage";
const COPY_TYPE = "pulumi-nodejs:dynamic/golden-ami:ImageCopy";
const BUILDER_TYPE = "pulumi-nodejs:dynamic/golden-ami:Builder";
const ROLE = "arn:aws:iam::222233334444:role/image-builder";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>;
    provider?: string;
}

async function installMocks(): Promise<Registered[]> {
    const registered: Registered[] = [];
    let n = 0;
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                n += 1;
                registered.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
                const id = args.type === INSTANCE_TYPE || args.type === COPY_TYPE ? `ami-${String(n).padStart(17, "0")}` : `${args.name}-id`;
                return { id, state: { ...args.inputs, imageId: id, region: args.inputs.region ?? "us-east-1" } };
            },
            call() {
                return {};
            },
        },
        "golden-ami",
        "unit",
        false,
    );
    pulumi.runtime.setAllConfig({ "aws:region": "us-east-1" });
    return registered;
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return (output as unknown as { promise(): Promise<T> }).promise();
}

async function settle(...outputs: pulumi.Output<unknown>[]): Promise<void> {
    await Promise.all(outputs.map((o) => valueOf(o)));
    await new Promise((resolve) => setImmediate(resolve));
}

const buildProvider = () =>
    new aws.Provider("build", {
        region: "eu-west-1",
        profile: "tooling",
        assumeRoles: [{ roleArn: ROLE, sessionName: "golden", duration: "1h" }],
        defaultTags: { tags: { team: "platform" } },
        allowedAccountIds: ["222233334444"],
    });

const BUILD_SETTINGS = {
    region: "eu-west-1",
    profile: "tooling",
    assumeRoles: [{ roleArn: ROLE, sessionName: "golden", durationSeconds: 3600 }],
    defaultTags: { team: "platform" },
    allowedAccountIds: ["222233334444"],
};

describe("unit: explicit aws providers (Pulumi mocks)", function () {
    this.timeout(30_000);

    it("InstanceImage with `provider`: records the provider's non-secret settings and is not registered with it", async () => {
        const registered = await installMocks();
        const provider = buildProvider();
        const image = new InstanceImage("img", { instanceId: "i-0aaaaaaaaaaaaaaaa" }, { provider });
        await settle(image.imageId);
        const [reg] = registered.filter((r) => r.type === INSTANCE_TYPE);
        assert.deepEqual(reg.inputs.awsProvider, BUILD_SETTINGS);
        assert.ok(!reg.provider || !reg.provider.includes("pulumi:providers:aws"), `registered with ${reg.provider}`);
    });

    it("ImageCopy with `provider` too; without a provider there is no awsProvider input", async () => {
        const registered = await installMocks();
        const copy = new ImageCopy("copy", { sourceImageId: "ami-0123456789abcdef0", sourceRegion: "us-east-1" }, { provider: buildProvider() });
        const plain = new ImageCopy("plain", { sourceImageId: "ami-0123456789abcdef0", sourceRegion: "us-east-1", region: "us-west-2" });
        await settle(copy.imageId, plain.imageId);
        const copies = registered.filter((r) => r.type === COPY_TYPE);
        assert.deepEqual(copies.find((r) => r.name === "copy")!.inputs.awsProvider, BUILD_SETTINGS);
        assert.equal(copies.find((r) => r.name === "plain")!.inputs.awsProvider, undefined);
    });

    it("GoldenImage passes its provider to the builder, the image and the copies; a copy's own provider wins for that copy", async () => {
        const registered = await installMocks();
        const build = buildProvider();
        const workload = new aws.Provider("workload", { region: "ap-southeast-2", assumeRoles: [{ roleArn: "arn:aws:iam::333344445555:role/copier" }] });
        const golden = new GoldenImage(
            "web",
            {
                builder: { baseImageId: "ami-0123456789abcdef0", subnetId: "subnet-0123456789abcdef0" },
                copyToRegions: ["eu-central-1", "ap-southeast-2"],
                copies: { providers: { "ap-southeast-2": workload } },
            },
            { providers: { aws: build } },
        );
        await settle(golden.regionImageIds);
        const builder = registered.find((r) => r.type === BUILDER_TYPE)!;
        assert.deepEqual(builder.inputs.awsProvider, BUILD_SETTINGS, "the builder acts with the component's aws provider");
        assert.equal(builder.inputs.region, undefined, "the builder is in the provider's region (not the stack's aws:region)");
        const image = registered.find((r) => r.type === INSTANCE_TYPE)!;
        assert.deepEqual(image.inputs.awsProvider, BUILD_SETTINGS);
        assert.equal(image.inputs.region, undefined, "the image's region defaults to the provider's in check");
        const copies: Record<string, Registered> = Object.fromEntries(registered.filter((r) => r.type === COPY_TYPE).map((r) => [r.inputs.region, r]));
        assert.deepEqual(copies["eu-central-1"].inputs.awsProvider, BUILD_SETTINGS);
        assert.deepEqual(copies["ap-southeast-2"].inputs.awsProvider, { region: "ap-southeast-2", assumeRoles: [{ roleArn: "arn:aws:iam::333344445555:role/copier" }] });
        for (const r of [builder, image, ...Object.values(copies)]) assert.ok(!r.provider?.includes("pulumi:providers:aws"), `${r.name} registered with ${r.provider}`);
    });

    it("refuses settings it would have to store: static keys, endpoints, shared file paths, external IDs", async () => {
        await installMocks();
        const cases: Array<[string, aws.ProviderArgs, RegExp]> = [
            ["keys", { accessKey: "AKIAEXAMPLEEXAMPLE12", secretKey: "secret" }, /accessKey\/secretKey\/token/],
            ["endpoints", { endpoints: [{ ec2: "http://127.0.0.1:1" }] }, /endpoints \(set AWS_ENDPOINT_URL_EC2/],
            ["files", { sharedConfigFiles: ["/tmp/config"] }, /AWS_CONFIG_FILE/],
            ["external", { assumeRoles: [{ roleArn: ROLE, externalId: "x" }] }, /sets externalId, which golden-ami does not store/],
        ];
        for (const [name, args, pattern] of cases) {
            const err = await valueOf(explicitSettings(name, new aws.Provider(name, args))).then(() => assert.fail(`${name} accepted`), (e: Error) => e);
            assert.match(err.message, pattern, name);
            assert.ok(!err.message.includes("AKIAEXAMPLEEXAMPLE12") && !err.message.includes("127.0.0.1"), `the message repeats no key or endpoint: ${err.message}`);
        }
    });

    it("the recorded settings are not secret (nothing secret is read into them)", async () => {
        await installMocks();
        const settings = explicitSettings("p", buildProvider());
        assert.equal(await (settings as unknown as { isSecret: Promise<boolean> }).isSecret, false);
    });
});
