/** The bench's command line: what to run, how often, how compressed, where to write the results. */
import * as path from "path";
import { REPO_ROOT } from "../../scripts/harness/pulumi-stack";

export interface Options {
    scale: number;
    /** Compression of the fleet part (its schedule has up to five rounds in a row, each paying the engine's real-time hand-off). */
    fleetScale: number;
    /** Compression of the Packer comparison: Packer's 15 s waiter delay ÷ F must be whole seconds. */
    packerScale: number;
    repeat: number;
    quick: boolean;
    waits: number[];
    parts: Set<string>;
    out: string;
}

export function parseOptions(argv: string[]): Options {
    const opts: Options = {
        scale: 10,
        fleetScale: 20,
        packerScale: 5,
        repeat: 5,
        quick: false,
        waits: [10, 60, 600],
        parts: new Set(["latency", "fanout", "noop", "fleet", "startup", "packer"]),
        out: path.join(REPO_ROOT, "bench", "results", "latest.json"),
    };
    let repeatGiven = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            const v = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
            if (v === undefined) throw new Error(`${arg} needs a value`);
            return v;
        };
        if (arg.startsWith("--scale")) opts.scale = Number(value());
        else if (arg.startsWith("--fleet-scale")) opts.fleetScale = Number(value());
        else if (arg.startsWith("--packer-scale")) opts.packerScale = Number(value());
        else if (arg.startsWith("--repeat")) {
            opts.repeat = Number(value());
            repeatGiven = true;
        } else if (arg === "--quick") opts.quick = true;
        else if (arg.startsWith("--only")) opts.parts = new Set(value().split(","));
        else if (arg.startsWith("--out")) opts.out = path.resolve(value());
        else if (arg === "--help" || arg === "-h") {
            console.log("usage: npm run bench -- [--scale F (10)] [--fleet-scale F (20)] [--packer-scale F (5)] [--repeat N (5)] [--quick] [--only latency,fanout,noop,fleet,startup,packer] [--out file]");
            process.exit(0);
        } else throw new Error(`unknown argument ${arg} (try --help)`);
    }
    if (opts.quick) {
        if (!repeatGiven) opts.repeat = 1;
        opts.waits = opts.waits.filter((w) => w < 600);
    }
    if (!(opts.scale >= 1)) throw new Error(`--scale must be a number >= 1, not ${opts.scale}`);
    if (!(opts.fleetScale >= 1)) throw new Error(`--fleet-scale must be a number >= 1, not ${opts.fleetScale}`);
    if (!(Number.isInteger(opts.repeat) && opts.repeat >= 1)) throw new Error(`--repeat must be a positive integer`);
    if (!(Number.isInteger(15 / opts.packerScale) && 15 / opts.packerScale >= 1)) {
        throw new Error(`--packer-scale must divide Packer's 15 s waiter delay into whole seconds (AWS_POLL_DELAY_SECONDS): 1, 3, 5 or 15, not ${opts.packerScale}`);
    }
    for (const p of opts.parts) if (!["latency", "fanout", "noop", "fleet", "startup", "packer"].includes(p)) throw new Error(`--only: unknown part ${p}`);
    return opts;
}
