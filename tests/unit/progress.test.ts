// Progress on a resource's row (providers/lifecycle/progress.ts) against a fake Pulumi engine:
// inside the dynamic-provider host (its script and the engine's address in argv) each line
// goes to the engine's Log as an ephemeral INFO message for the resource's URN; without a URN,
// or outside the host, nothing is sent. A fresh copy of the module per test: it caches its
// connection.
import * as assert from "node:assert/strict";
import * as path from "path";
import { pollUntil } from "../support/emulator";

const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] }));
const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb.js");
const emptyproto = require("google-protobuf/google/protobuf/empty_pb.js");
const PROGRESS = require.resolve("../../providers/lifecycle/progress");
const URN = "urn:pulumi:s::p::pulumi-nodejs:dynamic/golden-ami:InstanceImage::web";

interface Logged { message: string; urn: string; ephemeral: boolean; severity: number }

describe("engine progress", function () {
    let server: any;
    let port: number;
    let logged: Logged[];
    let argv: string[];

    before(async function () {
        server = new grpc.Server();
        server.addService(engrpc.EngineService, {
            log: (call: any, callback: any) => {
                const r = call.request;
                logged.push({ message: r.getMessage(), urn: r.getUrn(), ephemeral: r.getEphemeral(), severity: r.getSeverity() });
                callback(null, new emptyproto.Empty());
            },
        });
        port = await new Promise<number>((resolve, reject) =>
            server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err: Error | null, p: number) => (err ? reject(err) : resolve(p))));
    });
    after(function () {
        server?.forceShutdown();
    });
    beforeEach(function () {
        logged = [];
        argv = process.argv;
        delete require.cache[PROGRESS];
    });
    afterEach(function () {
        process.argv = argv;
        delete require.cache[PROGRESS];
    });

    const fresh = (args: string[]) => {
        process.argv = [argv[0], ...args];
        return require(PROGRESS) as typeof import("../../providers/lifecycle/progress");
    };
    const host = () => ["/app/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", `127.0.0.1:${port}`];
    const arrived = (n: number) => pollUntil(async () => logged.length, (count) => count >= n, { timeoutMs: 20_000, what: `${n} log messages at the fake engine` });

    it("inside the dynamic-provider host: an ephemeral INFO log for the resource's URN", async function () {
        const { engineProgress } = fresh(host());
        engineProgress(URN)("image pending, snapshots 0/2 completed");
        await arrived(1);
        const engproto = require("@pulumi/pulumi/proto/engine_pb.js");
        assert.deepEqual(logged, [{ message: "image pending, snapshots 0/2 completed", urn: URN, ephemeral: true, severity: engproto.LogSeverity.INFO }]);
    });

    it("without a URN nothing is sent (a later line with one is)", async function () {
        const { engineProgress } = fresh(host());
        engineProgress(undefined)("no row to show it on");
        engineProgress(URN)("marker");
        await arrived(1);
        assert.deepEqual(logged.map((l) => l.message), ["marker"]);
    });

    it("outside the host (another script, or no engine address) it is silent", async function () {
        for (const args of [
            ["/app/index.js", `127.0.0.1:${port}`],
            [host()[0], "not-an-address"],
            [host()[0]],
            [host()[0], `--engine=127.0.0.1:${port}`], // an address inside another argument is none
            [host()[0], `127.0.0.1:${port} extra`],
        ]) {
            delete require.cache[PROGRESS];
            const { engineProgress } = fresh(args);
            engineProgress(URN)("outside");
        }
        // A host process sends, so a line that arrives shows the channel works and nothing else came before it.
        delete require.cache[PROGRESS];
        fresh(host()).engineProgress(URN)("marker");
        await arrived(1);
        assert.deepEqual(logged.map((l) => l.message), ["marker"]);
    });

    it("a warning: a lasting (not ephemeral) WARNING log for the resource's URN; none without a URN or outside the host", async function () {
        fresh([host()[0]]).engineWarning(URN)("outside: never sent");
        delete require.cache[PROGRESS];
        const { engineWarning } = fresh(host());
        engineWarning(undefined)("no row for it");
        engineWarning(URN)("left ami-1 on purpose");
        await arrived(1);
        const engproto = require("@pulumi/pulumi/proto/engine_pb.js");
        assert.deepEqual(logged, [{ message: "left ami-1 on purpose", urn: URN, ephemeral: false, severity: engproto.LogSeverity.WARNING }]);
    });

    it("an engine address with a host name is an address", async function () {
        fresh([host()[0], `localhost:${port}`]).engineProgress(URN)("by name");
        await arrived(1);
        assert.deepEqual(logged.map((l) => l.message), ["by name"]);
    });
});
