/**
 * Progress during long waits, where the person running `pulumi up` sees it.
 *
 * Pulumi's dynamic-provider host is started with the engine's gRPC address as its first
 * argument. Sending that engine an *ephemeral* log message for a resource URN shows it in
 * the live progress display, on that resource's row ("creating (95s) image pending,
 * snapshots 0/1 completed (slowest 40%)"), without cluttering the final diagnostics.
 * Outside the provider host (unit tests, scripts) it is silent.
 */
import * as path from "path";
import { ProgressFn } from "../core/context";

type EngineLog = (urn: string, message: string, warning?: boolean) => void;

let engineLog: EngineLog | null | undefined;

function engineAddressFromArgv(): string | undefined {
    const script = process.argv[1] ?? "";
    const address = process.argv[2] ?? "";
    return script.includes("dynamic-provider") && /^[\w.\-\[\]:]+:\d+$/.test(address) ? address : undefined;
}

/** Lazily connects to the engine, with the gRPC stubs of the @pulumi/pulumi in this process. */
function connect(): EngineLog | null {
    const address = engineAddressFromArgv();
    if (!address) return null;
    try {
        const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
        const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] }));
        const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb.js");
        const engproto = require("@pulumi/pulumi/proto/engine_pb.js");
        const client = new engrpc.EngineClient(address, grpc.credentials.createInsecure());
        return (urn, message, warning) => {
            const req = new engproto.LogRequest();
            req.setSeverity(warning ? engproto.LogSeverity.WARNING : engproto.LogSeverity.INFO);
            req.setMessage(message);
            req.setUrn(urn);
            req.setEphemeral(!warning);
            client.log(req, () => undefined); // best effort: progress must never fail a build
        };
    } catch {
        return null;
    }
}


/** Progress reporter for the resource with this URN; silent with no engine (outside the provider host). */
export function engineProgress(urn: string | undefined): ProgressFn {
    if (engineLog === undefined) engineLog = connect();
    const log = engineLog;
    if (log && urn) return (message) => log(urn, message);
    return () => undefined;
}

/**
 * A warning on the resource's row that stays in the diagnostics after the run (what golden-ami
 * left on purpose and what to do about it); silent with no engine.
 */
export function engineWarning(urn: string | undefined): ProgressFn {
    if (engineLog === undefined) engineLog = connect();
    const log = engineLog;
    if (log && urn) return (message) => log(urn, message, true);
    return () => undefined;
}
