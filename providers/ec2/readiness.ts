/**
 * Builder readiness: the image is never taken mid-customisation.
 *
 * - "stopped": the builder runs its user data and powers itself off at the end
 *   (`shutdown -h now` with instanceInitiatedShutdownBehavior "stop"). We wait, up to the
 *   provisioning timeout, for it to reach `stopped` on its own; on timeout the error shows
 *   the tail of its console output, which is where a failed customisation script says why.
 * - "status-ok": for builders with nothing to run: running, with both status checks passed.
 * - "none": the instance is ready as it is (an existing server customised by hand).
 *
 * A customisation that fails is told apart from one still running: a builder that powers off
 * with FAILURE_MARKER in its console output, or that terminates itself, failed
 * (BuilderFailedError, with the console tail); so does one that runs out of time.
 */
import { DescribeInstanceStatusCommand, GetConsoleOutputCommand } from "@aws-sdk/client-ec2";
import { realClock } from "../core/context";
import { BuilderReadiness, FAILURE_MARKER } from "../core/options";
import { explainAwsError, GoldenAmiError } from "../core/errors";
import { ec2Client } from "./client";
import { waitForInstanceState, InstanceWaitOptions } from "./instances";
import { formatDuration, waitUntil, WaitFailedError, WaitTimeoutError } from "./waiter";

/** The builder's customisation failed or ran out of time; `consoleTail` is what its console said last. */
export class BuilderFailedError extends GoldenAmiError {
    constructor(message: string, code: string, readonly consoleTail: string) {
        super(message, code);
        this.name = "BuilderFailedError";
    }
}


/** The last `lines` lines of the instance's console output ("" when EC2 has none yet). */
export async function consoleTail(region: string, instanceId: string, lines = 20): Promise<string> {
    try {
        const out = await ec2Client(region).send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: true }));
        const text = out.Output ? Buffer.from(out.Output, "base64").toString("utf8") : "";
        return text.trimEnd().split(/\r?\n/).slice(-lines).join("\n");
    } catch (err) {
        return `(console output unavailable: ${explainAwsError(err, "reading the console output").message})`;
    }
}

/** Waits until the builder is ready to be imaged, by the given rule. */
export async function waitForBuilder(region: string, instanceId: string, readiness: BuilderReadiness, options: InstanceWaitOptions): Promise<void> {
    if (readiness === "none") return;
    try {
        if (readiness === "stopped") {
            options.onProgress?.(`waiting for builder ${instanceId} to finish its user data and power off`);
            await waitForInstanceState(region, instanceId, "stopped", options);
            const tail = await consoleTail(region, instanceId, 40);
            if (tail.includes(FAILURE_MARKER)) {
                throw new BuilderFailedError(
                    `golden-ami: the customisation of builder ${instanceId} in ${region} failed: it powered off with ${FAILURE_MARKER} in its console output. ` +
                        `What to do: fix the user data (the console output below says where it stopped) and run \`pulumi up\` again. Last console output:\n${tail}`,
                    "BuilderFailed",
                    tail,
                );
            }
            return;
        }
        const clock = options.clock ?? realClock;
        const started = clock.now();
        await waitForInstanceState(region, instanceId, "running", options);
        await waitUntil({
            description: `builder ${instanceId} in ${region} to pass its status checks`,
            timeoutMs: Math.max(1, options.timeoutMs - (clock.now() - started)),
            clock,
            timeScale: options.timeScale,
            delays: options.delays,
            onProgress: options.onProgress,
            observe: async () => {
                const out = await ec2Client(region).send(new DescribeInstanceStatusCommand({ InstanceIds: [instanceId], IncludeAllInstances: true }));
                return out.InstanceStatuses?.[0];
            },
            judge: (status) => {
                const system = status?.SystemStatus?.Status ?? "unknown";
                const instance = status?.InstanceStatus?.Status ?? "unknown";
                if (system === "ok" && instance === "ok") return { state: "done" };
                if (system === "impaired" || instance === "impaired") {
                    return { state: "failed", reason: `status checks failed (system ${system}, instance ${instance})` };
                }
                return { state: "pending", status: `status checks: system ${system}, instance ${instance}` };
            },
        });
    } catch (err) {
        if (err instanceof WaitFailedError) {
            const tail = await consoleTail(region, instanceId);
            throw new BuilderFailedError(
                `${err.message}. What to do: check the user data (a script that terminates its own instance, or one that breaks ` +
                    `the instance's status checks). Last console output:\n${tail || "(none)"}`,
                "BuilderFailed",
                tail,
            );
        }
        if (err instanceof WaitTimeoutError) {
            const tail = await consoleTail(region, instanceId);
            throw new BuilderFailedError(
                `golden-ami: builder ${instanceId} in ${region} was not ready (${readiness === "stopped" ? "powered off" : "status checks passed"}) ` +
                    `within ${formatDuration(options.timeoutMs)} (last seen: ${err.lastStatus}). What to do: check that the user data ` +
                    `finishes with \`shutdown -h now\` and succeeds, or raise provisioningTimeoutMinutes. Last console output:\n${tail || "(none yet)"}`,
                "BuilderNotReady",
                tail,
            );
        }
        throw err;
    }
}
