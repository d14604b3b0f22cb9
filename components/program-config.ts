/**
 * The configuration of golden-ami's own Pulumi program (index.ts), checked before anything is
 * made: every `golden-ami:*` key must be one the program reads, in the stack's mode, with a
 * value of the right type. Pulumi itself ignores keys nobody reads, so a typo
 * (`copyToRegion`, `stopBeforeImge`) would otherwise be silently ignored.
 */
import * as pulumi from "@pulumi/pulumi";

export type Mode = "build" | "regional" | "consumer";
export const MODES: readonly Mode[] = ["build", "regional", "consumer"];

type ValueType = "string" | "number" | "boolean" | "object" | "list";

const ALL: readonly Mode[] = MODES;
const BUILD: readonly Mode[] = ["build"];
const IMAGES: readonly Mode[] = ["build", "regional"];
const CONSUMER: readonly Mode[] = ["consumer"];

/** Every key the program reads: its type and the modes it means something in. */
export const PROGRAM_CONFIG: Readonly<Record<string, { type: ValueType; modes: readonly Mode[] }>> = {
    mode: { type: "string", modes: ALL },
    builder: { type: "object", modes: BUILD },
    existingInstanceId: { type: "string", modes: BUILD },
    readiness: { type: "string", modes: BUILD },
    provisioningTimeoutMinutes: { type: "number", modes: BUILD },
    keepBuilder: { type: "boolean", modes: BUILD },
    verify: { type: "object", modes: BUILD },
    namePrefix: { type: "string", modes: BUILD },
    blockDeviceMappings: { type: "list", modes: BUILD },
    stopBeforeImage: { type: "boolean", modes: BUILD },
    afterImage: { type: "string", modes: BUILD },
    stopTimeoutMinutes: { type: "number", modes: BUILD },
    copyToRegions: { type: "list", modes: BUILD },
    description: { type: "string", modes: IMAGES },
    tags: { type: "object", modes: IMAGES },
    snapshotTags: { type: "object", modes: IMAGES },
    imageTimeoutMinutes: { type: "number", modes: IMAGES },
    copies: { type: "object", modes: IMAGES },
    distribution: { type: "object", modes: IMAGES },
    retention: { type: "object", modes: IMAGES },
    onDestroy: { type: "string", modes: IMAGES },
    publish: { type: "object", modes: BUILD },
    sourceStack: { type: "string", modes: ["regional", "consumer"] },
    launch: { type: "boolean", modes: CONSUMER },
    instanceType: { type: "string", modes: CONSUMER },
    instanceCount: { type: "number", modes: CONSUMER },
    keyName: { type: "string", modes: CONSUMER },
    iamInstanceProfile: { type: "string", modes: CONSUMER },
    securityGroupIds: { type: "list", modes: CONSUMER },
    userData: { type: "string", modes: CONSUMER },
    subnetIds: { type: "list", modes: CONSUMER },
};

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diagonal = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            diagonal = above;
        }
    }
    return row[b.length];
}

function nearest(key: string): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const known of Object.keys(PROGRAM_CONFIG)) {
        const d = distance(key, known);
        if (d < bestDistance) [best, bestDistance] = [known, d];
    }
    return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** The type of a configuration value as Pulumi hands it over (a string; JSON for objects, lists, numbers, booleans). */
function typeOf(raw: string): ValueType {
    try {
        const value = JSON.parse(raw);
        if (Array.isArray(value)) return "list";
        if (value !== null && typeof value === "object") return "object";
        if (typeof value === "number" || typeof value === "boolean") return typeof value as ValueType;
    } catch {
        // a plain string
    }
    return "string";
}

/**
 * The problems of the program's configuration (`config`: key without namespace → raw value),
 * each naming the key and the fix; empty when it is fine. Values of any type are accepted
 * where a string is wanted (an ID or a name that happens to look like a number).
 */
export function programConfigProblems(config: Record<string, string>): string[] {
    const problems: string[] = [];
    const mode = config.mode as Mode | undefined;
    if (mode === undefined) problems.push("golden-ami:mode is not set: pulumi config set golden-ami:mode build (or regional, consumer)");
    else if (!MODES.includes(mode)) problems.push(`golden-ami:mode must be one of ${MODES.join(", ")}, not ${JSON.stringify(mode)}: pulumi config set golden-ami:mode build`);
    for (const [key, raw] of Object.entries(config).sort(([a], [b]) => a.localeCompare(b))) {
        const spec = PROGRAM_CONFIG[key];
        if (!spec) {
            const guess = nearest(key);
            problems.push(
                `golden-ami:${key} is not a setting of this program${guess ? `; did you mean golden-ami:${guess}?` : ""} ` +
                    `Remove it with: pulumi config rm golden-ami:${key} (every setting is listed at the top of index.ts)`,
            );
            continue;
        }
        if (mode && MODES.includes(mode) && !spec.modes.includes(mode)) {
            problems.push(`golden-ami:${key} has no effect in ${mode} mode (it is a setting of ${spec.modes.join(" and ")} mode); remove it with: pulumi config rm golden-ami:${key}`);
        }
        const actual = typeOf(raw);
        if (spec.type !== "string" && actual !== spec.type) {
            const how = spec.type === "list" || spec.type === "object" ? `set it with --path, e.g. pulumi config set --path 'golden-ami:${key}${spec.type === "list" ? "[0]" : ".<name>"}' <value>` : `e.g. pulumi config set golden-ami:${key} ${spec.type === "boolean" ? "true" : "30"}`;
            problems.push(`golden-ami:${key} must be a ${spec.type}, not ${actual} ${JSON.stringify(raw)}; ${how}`);
        }
    }
    return problems;
}

/** The stack's `golden-ami:*` configuration, checked; a RunError listing every problem otherwise. */
export function checkedProgramConfig(namespace = "golden-ami"): Mode {
    const prefix = `${namespace}:`;
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) config[key.slice(prefix.length)] = value;
    }
    const problems = programConfigProblems(config);
    if (problems.length > 0) {
        throw new pulumi.RunError(`golden-ami: the stack configuration has ${problems.length === 1 ? "a problem" : `${problems.length} problems`}:\n- ${problems.join("\n- ")}`);
    }
    return config.mode as Mode;
}
