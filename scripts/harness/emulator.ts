// Starts and stops golden-ami's EC2 emulator (tests/emulator/server.py: moto 5.2.1 plus
// our extensions) and gives tests, the demo and the bench one way to talk to it.
// Shared harness code: it lives outside tests/ because scripts/demo.ts and bench/ use it as
// much as the tests do (tests/support/emulator.ts re-exports it), so it imports no test framework.
import * as childProcess from "child_process";
import * as path from "path";
import * as ec2sdk from "@aws-sdk/client-ec2";

export interface EmulatorTiming {
    instancePending?: number;
    instanceStopping?: number;
    instanceStarting?: number;
    imagePending?: number;
    copyPending?: number;
    snapshotSeconds?: number;
    /** Added to each snapshot's duration per GiB of its volume: an image's snapshots complete at different times. */
    snapshotSecondsPerGiB?: number;
    /** An instance whose user data ends in a shutdown command powers itself off this long after it runs (unset: never). */
    userDataSeconds?: number;
    /** Status checks read `initializing` this long after an instance runs. */
    statusInitializing?: number;
    /** TerminateInstances: `shutting-down` this long, then `terminated`. */
    instanceTerminating?: number;
}
/** A timing update: a number sets a duration, null removes it (back to its default). */
export type EmulatorTimingUpdate = { [K in keyof EmulatorTiming]?: number | null };
export interface ThrottleSettings { fraction: number; actions?: string[]; seed?: number; }
export interface EmulatorCall {
    action: string;
    region: string;
    at: number;
    throttled: boolean;
    status: number;
    /** The access key ID that signed the call (from the SigV4 Authorization header). */
    accessKeyId: string;
    /** The ImageId or SnapshotId the request names (the first one), if any (ext_call_pacing.py). */
    target?: string;
}
/** When one snapshot of an image started and completes (epoch ms), and its volume's size. */
export interface EmulatorSnapshotEvent { volumeSize: number; startedAt: number; completedAt: number; }
export interface EmulatorImageEvent {
    kind: "create" | "copy";
    region: string;
    createdAt: number;
    availableAt: number;
    /** The state the image settles in once `availableAt` has passed. */
    state?: "available" | "failed";
    /** snapshot ID → when it completes. */
    snapshots?: Record<string, EmulatorSnapshotEvent>;
    /** CreateImage: the NoReboot the request gave, and the instance imaged. */
    noReboot?: boolean;
    instanceId?: string;
    /** CopyImage: the request's CopyImageTags and SnapshotCopyCompletionDurationMinutes (null when not given). */
    copyImageTags?: boolean;
    completionDurationMinutes?: number | null;
    sourceImageId?: string;
    sourceRegion?: string;
}
/** create/copy: the next image of that kind fails; status: the next instance launched fails that status check. */
export type FailNextSettings =
    | { kind: "create" | "copy"; code?: string; message?: string }
    | { kind: "status"; check?: "instance" | "system" };

/** The emulator's entry point, for callers that run it detached (the demo). */
export const SERVER_SCRIPT = path.resolve(__dirname, "..", "..", "tests", "emulator", "server.py");
/** The Python that runs the emulator (GA_EMULATOR_PYTHON, else python3). */
export const PYTHON = process.env.GA_EMULATOR_PYTHON || "python3";
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const READY_LINE = /golden-ami-emulator listening on (http:\/\/\S+)/;
/**
 * Dummy credentials: the emulator accepts anything non-empty. Never real ones. Distinctive, so
 * the secrets scan of every stack's state (tests/support/secrets-scan.ts) can look for them.
 */
const ACCESS_KEY_ID = "AKIAGAEMULATORDUMMY0";
const SECRET_ACCESS_KEY = "golden-ami/emulator/dummy-secret/0000000";

let motoReady: Promise<void> | undefined;

/** `import moto` (with its server extras); if that fails, pip-install moto once, then retry. */
export function ensureMoto(): Promise<void> {
    if (!motoReady) {
        motoReady = (async () => {
            const probe = () => childProcess.spawnSync(PYTHON, ["-c", "import moto, flask, werkzeug"], { encoding: "utf8" });
            let result = probe();
            if (result.status === 0) return;
            const install = childProcess.spawnSync(
                PYTHON, ["-m", "pip", "install", "--quiet", "moto[server]==5.2.1"],
                { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
            );
            result = probe();
            if (result.status !== 0) {
                throw new Error(
                    `golden-ami emulator: "${PYTHON} -c 'import moto'" fails even after ` +
                    `"pip install moto[server]==5.2.1" (exit ${install.status}).\n` +
                    `pip stderr: ${(install.stderr || "").slice(-2000)}\nimport stderr: ${(result.stderr || "").slice(-2000)}`,
                );
            }
        })();
        motoReady.catch(() => { motoReady = undefined; });
    }
    return motoReady;
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `probe` every `intervalMs` until `done(value)` holds, and returns that value; throws
 * after `timeoutMs` with the last value seen. A bounded poll, for tests, the demo and the bench.
 */
export async function pollUntil<T>(
    probe: () => Promise<T>,
    done: (value: T) => boolean,
    options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const intervalMs = options.intervalMs ?? 100;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe();
        if (done(value)) return value;
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? "a condition"}; last value: ${JSON.stringify(value)}`);
        }
        await sleep(intervalMs);
    }
}

/**
 * The most snapshot copies into `region` in flight at one moment, from the call log's image
 * records (what the emulator's copy limit counts: each copied snapshot from its start to its completion).
 */
export function peakCopiesInFlight(images: Record<string, EmulatorImageEvent>, region: string): number {
    const edges: Array<[number, number]> = [];
    for (const e of Object.values(images)) {
        if (e.kind !== "copy" || e.region !== region) continue;
        for (const s of Object.values(e.snapshots ?? {})) edges.push([s.startedAt, 1], [s.completedAt, -1]);
    }
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // a copy that ends frees its slot before one starting the same ms
    let now = 0;
    let peak = 0;
    for (const [, d] of edges) peak = Math.max(peak, (now += d));
    return peak;
}

export class Emulator {
    /** Emulators this process started and has not stopped (the leak audit after each e2e test looks at them). */
    static readonly running = new Set<Emulator>();
    /** Called with every EC2Client `ec2()` makes (the leak audit notes what the harness itself creates). */
    static readonly clientHooks: Array<(client: ec2sdk.EC2Client, emulator: Emulator) => void> = [];
    readonly endpoint: string;
    private readonly child: childProcess.ChildProcess;
    private readonly stderrTail: () => string;
    private readonly exited: Promise<number | null>;
    private readonly clients = new Map<string, ec2sdk.EC2Client>();

    private constructor(endpoint: string, child: childProcess.ChildProcess, stderrTail: () => string, exited: Promise<number | null>) {
        this.endpoint = endpoint;
        this.child = child;
        this.stderrTail = stderrTail;
        this.exited = exited;
    }

    static async start(options: { timing?: EmulatorTiming; throttle?: ThrottleSettings; copyLimit?: number } = {}): Promise<Emulator> {
        await ensureMoto();
        const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" };
        delete env.GA_EMULATOR_TIMING;
        delete env.GA_EMULATOR_THROTTLE;
        delete env.GA_EMULATOR_COPY_LIMIT;
        if (options.copyLimit !== undefined) env.GA_EMULATOR_COPY_LIMIT = String(options.copyLimit);
        if (options.timing) env.GA_EMULATOR_TIMING = JSON.stringify(options.timing);
        if (options.throttle) env.GA_EMULATOR_THROTTLE = JSON.stringify(options.throttle);

        const child = childProcess.spawn(
            PYTHON, [SERVER_SCRIPT, "--host", "127.0.0.1", "--port", "0", "--exit-on-stdin-close"],
            { env, stdio: ["pipe", "pipe", "pipe"] },
        );
        let stderr = "";
        child.stderr!.setEncoding("utf8");
        child.stderr!.on("data", (chunk: string) => { stderr = (stderr + chunk).slice(-20_000); });
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

        const endpoint = await new Promise<string>((resolve, reject) => {
            let stdout = "";
            const onError = (error: Error) => fail(`cannot run ${PYTHON}: ${error.message}`);
            const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
                fail(`the process exited (code ${code}, signal ${signal})`);
            const settle = () => {
                clearTimeout(timer);
                child.off("error", onError);
                child.off("exit", onExit);
                child.stdout!.off("data", onData);
            };
            const fail = (why: string) => {
                settle();
                child.kill("SIGKILL");
                // stderr may still be arriving; give it a moment so the message is useful.
                setTimeout(() => reject(new Error(
                    `golden-ami emulator did not start: ${why}\n--- stderr ---\n${stderr.slice(-4000)}`,
                )), 100);
            };
            const onData = (chunk: string) => {
                stdout += chunk;
                const match = READY_LINE.exec(stdout);
                if (match) {
                    settle();
                    resolve(match[1]);
                }
            };
            const timer = setTimeout(() => fail(`no "listening on" line within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
            child.on("error", onError);
            child.on("exit", onExit);
            child.stdout!.setEncoding("utf8");
            child.stdout!.on("data", onData);
        });
        child.stdout!.resume(); // keep draining
        // Do not keep the runner alive for the server's sake: if a test forgets stop(),
        // the runner exits, stdin closes and the server exits (--exit-on-stdin-close).
        child.unref();
        for (const stream of [child.stdin, child.stdout, child.stderr]) {
            (stream as unknown as { unref?: () => void } | null)?.unref?.();
        }
        const emulator = new Emulator(endpoint, child, () => stderr, exited);
        Emulator.running.add(emulator);
        return emulator;
    }

    /** Environment for a child process (pulumi, the provider, scripts). */
    env(region = "us-east-1"): Record<string, string> {
        return {
            AWS_ENDPOINT_URL: this.endpoint,
            AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
            AWS_REGION: region,
            AWS_DEFAULT_REGION: region,
            AWS_EC2_METADATA_DISABLED: "true",
        };
    }

    /**
     * An EC2Client pointed at the emulator, for set-up and assertions; with `accountId`, one
     * that acts in that account (moto's `x-moto-account-id` header, docs/multi_account.rst).
     */
    ec2(region: string, accountId?: string): ec2sdk.EC2Client {
        const key = accountId ? `${region}/${accountId}` : region;
        let client = this.clients.get(key);
        if (!client) {
            client = new ec2sdk.EC2Client({
                region,
                endpoint: this.endpoint,
                credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
            });
            if (accountId) {
                client.middlewareStack.add(
                    (next) => async (args) => {
                        (args.request as { headers: Record<string, string> }).headers["x-moto-account-id"] = accountId;
                        return next(args);
                    },
                    { step: "build", name: "motoAccountId" },
                );
            }
            this.clients.set(key, client);
            for (const hook of Emulator.clientHooks) hook(client, this);
        }
        return client;
    }

    /**
     * Partial update: given timing keys replace the current ones (null removes a key, back to
     * its default), `throttle: null` clears throttling, `failNext` queues one failure,
     * `copyLimit` caps snapshot copies in flight per destination region (null: no cap),
     * `latency` slows chosen actions.
     */
    async configure(settings: {
        timing?: EmulatorTimingUpdate;
        throttle?: ThrottleSettings | null;
        failNext?: FailNextSettings;
        /** AMI ID → the status check its instances fail (`null` removes one). */
        statusFailures?: Record<string, "instance" | "system" | null>;
        copyLimit?: number | null;
        /** EC2 action → seconds its requests wait before they are handled (`null` removes one; `latency: null` all). */
        latency?: Record<string, number | null> | null;
    }): Promise<void> {
        await this.control("POST", "/_golden-ami/config", settings);
    }

    async calls(): Promise<{ calls: EmulatorCall[]; images: Record<string, EmulatorImageEvent> }> {
        return (await this.control("GET", "/_golden-ami/calls")) as { calls: EmulatorCall[]; images: Record<string, EmulatorImageEvent> };
    }

    /**
     * Every credential the emulator's STS has issued (AssumeRole, also inside a profile's
     * role_arn or the SDK's credential providers), from moto's model dump: what the secrets scan
     * looks for besides the environment's.
     */
    async issuedCredentials(): Promise<Array<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>> {
        const data = (await this.control("GET", "/moto-api/data.json")) as { sts?: { AssumedRole?: Array<Record<string, string>> } };
        return (data.sts?.AssumedRole ?? []).map((r) => ({ accessKeyId: r.access_key_id, secretAccessKey: r.secret_access_key, sessionToken: r.session_token }));
    }

    async resetCalls(): Promise<void> {
        await this.control("POST", "/_golden-ami/calls/reset", {});
    }

    /** moto's state and the extensions' state (back to the start-up timing/throttle). */
    async reset(): Promise<void> {
        await this.control("POST", "/moto-api/reset", {});
    }

    /** One of moto's default Amazon Linux 2 AMIs in `region` (what builders launch from). */
    async baseImage(region: string, accountId?: string): Promise<ec2sdk.Image> {
        const images = await this.ec2(region, accountId).send(new ec2sdk.DescribeImagesCommand({
            Owners: ["amazon"],
            Filters: [{ Name: "name", Values: ["amzn2-ami-hvm-*"] }],
        }));
        const image = images.Images?.find((i) => i.ImageId);
        if (!image) throw new Error(`golden-ami emulator: no Amazon Linux 2 AMI in ${region}`);
        return image;
    }

    /**
     * RunInstances with a default moto Amazon Linux 2 AMI; waits until running. `userData` is
     * the script (base64-encoded here); `volumeSizes` gives the instance exactly these EBS
     * volumes, in GiB: the first at the AMI's root device, the others at /dev/sdf, /dev/sdg, ...
     */
    async launchInstance(region: string, options: { tags?: Record<string, string>; userData?: string; volumeSizes?: number[]; accountId?: string } = {}): Promise<string> {
        const client = this.ec2(region, options.accountId);
        const image = await this.baseImage(region, options.accountId);
        const imageId = image.ImageId!;
        const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
        const devices = [image.RootDeviceName ?? "/dev/xvda", "/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/sdi"];
        const run = await client.send(new ec2sdk.RunInstancesCommand({
            ImageId: imageId,
            InstanceType: "t3.micro",
            MinCount: 1,
            MaxCount: 1,
            TagSpecifications: tags.length ? [{ ResourceType: "instance", Tags: tags }] : undefined,
            UserData: options.userData === undefined ? undefined : Buffer.from(options.userData).toString("base64"),
            BlockDeviceMappings: options.volumeSizes?.map((size, i) => ({
                DeviceName: devices[i],
                Ebs: { VolumeSize: size, VolumeType: "gp3", DeleteOnTermination: true },
            })),
        }));
        const instanceId = run.Instances?.[0]?.InstanceId;
        if (!instanceId) throw new Error("golden-ami emulator: RunInstances returned no instance");
        const deadline = Date.now() + 120_000;
        for (;;) {
            const described = await client.send(new ec2sdk.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
            const state = described.Reservations?.[0]?.Instances?.[0]?.State?.Name;
            if (state === "running") return instanceId;
            if (state !== "pending") throw new Error(`golden-ami emulator: instance ${instanceId} is ${state}, not running`);
            if (Date.now() > deadline) throw new Error(`golden-ami emulator: instance ${instanceId} still pending after 120 s`);
            await sleep(100);
        }
    }

    async stop(): Promise<void> {
        Emulator.running.delete(this);
        for (const client of this.clients.values()) client.destroy();
        this.clients.clear();
        if (this.child.exitCode !== null || this.child.signalCode !== null) return;
        this.child.kill("SIGTERM");
        const timedOut = Symbol("timeout");
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
            this.exited,
            new Promise<typeof timedOut>((resolve) => { timer = setTimeout(() => resolve(timedOut), STOP_TIMEOUT_MS); }),
        ]);
        clearTimeout(timer);
        if (outcome === timedOut) {
            this.child.kill("SIGKILL");
            await this.exited;
        }
    }

    private async control(method: "GET" | "POST", route: string, body?: unknown): Promise<unknown> {
        const response = await fetch(this.endpoint + route, {
            method,
            headers: body === undefined ? undefined : { "content-type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        if (!response.ok) {
            throw new Error(`golden-ami emulator: ${method} ${route} -> HTTP ${response.status}: ${text}\n${this.stderrTail().slice(-2000)}`);
        }
        return text ? JSON.parse(text) : undefined;
    }
}
