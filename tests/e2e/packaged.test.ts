// golden-ami as a user gets it: `npm pack` of this repository installed into a project outside
// it, next to the newest @pulumi/pulumi the registry serves, then a build stack (an image and a
// copy) up and down on the emulator with the toolchain's Node, CLI and language host. No
// NODE_PATH, nothing of this repository's node_modules: the provider process must find
// golden-ami's runtime in the outside project by itself.
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { PulumiStack, REPO_ROOT } from "../support/pulumi";

const PROGRAM = `// A build stack written as a user would, against the installed package.
const pulumi = require("@pulumi/pulumi");
const { InstanceImage, ImageCopy } = require("golden-ami");
const config = new pulumi.Config();
const image = new InstanceImage("golden", { instanceId: config.require("instanceId"), tags: { team: "platform" } });
const copy = new ImageCopy("golden-eu", { sourceImageId: image.imageId, sourceRegion: image.region, region: "eu-west-1" });
exports.imageId = image.imageId;
exports.copyId = copy.imageId;
`;

function npm(cwd: string, args: string[]): string {
    return execFileSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, NODE_PATH: "" }, stdio: ["ignore", "pipe", "pipe"] });
}

describe("e2e: golden-ami installed from its packed tarball into an outside project", function () {
    let emulator: Emulator;
    let project: string;
    let stack: PulumiStack;

    before(async function () {
        project = fs.mkdtempSync(path.join(os.tmpdir(), "ga-consumer-"));
        // dist/ is built by npm test already; --ignore-scripts keeps `prepare` from rewriting it under running providers.
        const tarball = npm(REPO_ROOT, ["pack", "--silent", "--ignore-scripts", "--pack-destination", project]).trim().split("\n").pop()!;
        fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "platform-images", private: true }, null, 2));
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: platform-images\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n");
        fs.writeFileSync(path.join(project, "index.js"), PROGRAM);
        npm(project, ["install", "--no-audit", "--no-fund", "--prefer-offline", `./${tarball}`, "@pulumi/pulumi@latest"]);
        emulator = await Emulator.start();
        const instanceId = await emulator.launchInstance("us-east-1");
        stack = await PulumiStack.create({ program: project, env: { ...emulator.env("us-east-1"), NODE_PATH: "" }, config: { "aws:region": "us-east-1", instanceId } });
    });

    after(async function () {
        await stack?.remove();
        await emulator?.stop();
        if (project) fs.rmSync(project, { recursive: true, force: true });
    });

    it("has exactly one copy of @pulumi/pulumi, the newest, shared with golden-ami", function () {
        const tree = JSON.parse(npm(project, ["ls", "--all", "--json", "@pulumi/pulumi"]));
        const versions: string[] = [];
        const walk = (deps: Record<string, { version: string; dependencies?: Record<string, unknown> }> | undefined) => {
            for (const [name, dep] of Object.entries(deps ?? {})) {
                if (name === "@pulumi/pulumi") versions.push(dep.version);
                walk(dep.dependencies as never);
            }
        };
        walk(tree.dependencies);
        assert.ok(!fs.existsSync(path.join(project, "node_modules", "golden-ami", "node_modules", "@pulumi", "pulumi")), "no nested @pulumi/pulumi under golden-ami");
        assert.ok(versions.length >= 2, `golden-ami's and the project's @pulumi/pulumi are both in the tree: ${versions.join(", ")}`);
        assert.equal(new Set(versions).size, 1, `one version: ${versions.join(", ")}`);
        assert.equal(versions[0], npm(project, ["view", "@pulumi/pulumi", "version"]).trim(), "the newest the registry serves");
    });

    it("goes up: the provider process loads golden-ami's runtime from the outside project", async function () {
        const up = await stack.up();
        assert.equal(up.code, 0, up.stdout + up.stderr);
        const { imageId, copyId } = (await stack.outputs()) as { imageId: string; copyId: string };
        const image = (await emulator.ec2("us-east-1").send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0];
        const copy = (await emulator.ec2("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [copyId] }))).Images?.[0];
        assert.equal(image?.State, "available");
        assert.equal(copy?.State, "available");
        // The state names where the program found golden-ami, relative to the project: no path of this machine.
        const exported = JSON.stringify(await stack.state());
        assert.ok(!exported.includes(REPO_ROOT), "no path of the repository in state");
        assert.ok(!exported.includes(project), "no absolute path of the project in state");
    });

    it("goes down, leaving neither image nor copy", async function () {
        const { imageId, copyId } = (await stack.outputs()) as { imageId: string; copyId: string };
        const destroy = await stack.destroy();
        assert.equal(destroy.code, 0, destroy.stdout + destroy.stderr);
        const left = async (region: string, id: string) =>
            (await emulator.ec2(region).send(new DescribeImagesCommand({ Owners: ["self"] }))).Images?.filter((i) => i.ImageId === id && i.State !== "deregistered") ?? [];
        assert.deepEqual(await left("us-east-1", imageId), []);
        assert.deepEqual(await left("eu-west-1", copyId), []);
    });
});
