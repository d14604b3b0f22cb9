/**
 * The distribution settings of an image as data: who may launch it, snapshot sharing,
 * deprecation time and deregistration protection; and how two settings compare (lists as
 * sets, `false` as absent, deprecation times to the minute, as EC2 keeps them).
 */

/** Who may launch the image, and the rest of its distribution settings. All optional. */
export interface DistributionArgs {
    /** 12-digit AWS account IDs allowed to launch the image. */
    launchAccounts?: string[];
    /** Organization ARNs (arn:aws:organizations::123456789012:organization/o-xxxxxxxxxx). */
    launchOrganizations?: string[];
    /** Organizational unit ARNs (arn:aws:organizations::123456789012:ou/o-xxxxxxxxxx/ou-xxxx-xxxxxxxx). */
    launchOrganizationalUnits?: string[];
    /** Make the image public. Only on explicit opt-in; default false. */
    public?: boolean;
    /**
     * Also give `launchAccounts` create-volume permission on the image's snapshots (needed to
     * copy the image or create volumes from it in those accounts). Default false.
     */
    shareSnapshots?: boolean;
    /**
     * ISO 8601 UTC time at which EC2 marks the image deprecated, e.g. `2030-01-31T00:00:00Z`.
     * EC2 rounds it to the nearest minute. Omit/undefined to have none (clears an existing one).
     */
    deprecateAt?: string;
    /** Deregistration protection on/off. Default false. */
    deregistrationProtection?: boolean;
}

/** The properties of {@link DistributionArgs}, in the order diffs and calls report them. */
export const DISTRIBUTION_PROPERTIES = [
    "launchAccounts",
    "launchOrganizations",
    "launchOrganizationalUnits",
    "public",
    "shareSnapshots",
    "deprecateAt",
    "deregistrationProtection",
] as const;

// Date, or date-time with a zone designator: without one, "local time" would depend on the machine.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

const MINUTE_MS = 60_000;
/**
 * Parses an ISO 8601 time (`2030-01-31`, `2030-01-31T12:00Z`, `2030-01-31T12:00:00.000+02:00`)
 * to epoch ms; undefined if it is not one or names an impossible date (February 30th).
 */
export function parseIsoTime(text: string): number | undefined {
    const m = ISO_8601.exec(text);
    if (!m) return undefined;
    const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number);
    const ms = Math.floor(Number(`0.${m[7] ?? "0"}`) * 1000);
    const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
    local.setUTCFullYear(year); // Date.UTC maps years 0-99 to 1900-1999
    if (
        local.getUTCFullYear() !== year || local.getUTCMonth() !== month - 1 || local.getUTCDate() !== day ||
        local.getUTCHours() !== hour || local.getUTCMinutes() !== minute || local.getUTCSeconds() !== second
    ) {
        return undefined;
    }
    const zone = m[8];
    let offsetMinutes = 0;
    if (zone && zone !== "Z") {
        const [h, mm] = zone.slice(1).split(":").map(Number);
        if (h > 23 || mm > 59) return undefined;
        offsetMinutes = (zone[0] === "-" ? -1 : 1) * (h * 60 + mm);
    }
    return local.getTime() - offsetMinutes * MINUTE_MS;
}

/** Deprecation times as EC2 keeps them: rounded to the nearest minute. */
function deprecationKey(value: unknown): unknown {
    if (typeof value !== "string") return value ?? undefined;
    const at = parseIsoTime(value);
    return at === undefined ? value : Math.round(at / MINUTE_MS) * MINUTE_MS;
}

export function sameDeprecation(a: unknown, b: unknown): boolean {
    return deprecationKey(a) === deprecationKey(b);
}

/**
 * Sorted and de-duplicated; undefined for an empty list. Other values pass as they are: an
 * input unknown at preview (Pulumi's marker string) then differs from any list, i.e. "changed".
 */
export function normalList(value: unknown): unknown {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) return value;
    const items = [...new Set(value)].sort();
    return items.length > 0 ? items : undefined;
}

function normalFlag(value: unknown): unknown {
    if (value === undefined || value === null || value === false) return undefined;
    return value;
}

export type Normal = Record<(typeof DISTRIBUTION_PROPERTIES)[number], unknown>;

export function normalise(args: DistributionArgs | undefined): Normal {
    const a = (args ?? {}) as Record<string, unknown>;
    return {
        launchAccounts: normalList(a.launchAccounts),
        launchOrganizations: normalList(a.launchOrganizations),
        launchOrganizationalUnits: normalList(a.launchOrganizationalUnits),
        public: normalFlag(a.public),
        shareSnapshots: normalFlag(a.shareSnapshots),
        deprecateAt: deprecationKey(a.deprecateAt),
        deregistrationProtection: normalFlag(a.deregistrationProtection),
    };
}

/**
 * The names of the distribution properties whose meaning differs between `olds` and `news`,
 * in {@link DISTRIBUTION_PROPERTIES} order. Order and repeats in lists, `false` versus absent,
 * `[]` versus absent, and deprecation times within the same minute do not count as changes.
 * All of these properties are changed in place: none requires replacing the image.
 */
export function distributionDiff(olds: DistributionArgs, news: DistributionArgs): string[] {
    const o = normalise(olds);
    const n = normalise(news);
    return DISTRIBUTION_PROPERTIES.filter((p) => JSON.stringify(o[p]) !== JSON.stringify(n[p]));
}

/** The distribution properties of an inputs or outputs object (absent ones left out). */
export function pickDistribution(source: object | undefined): DistributionArgs {
    const from = (source ?? {}) as Record<string, unknown>;
    const picked: Record<string, unknown> = {};
    for (const key of DISTRIBUTION_PROPERTIES) if (from[key] !== undefined && from[key] !== null) picked[key] = from[key];
    return picked as DistributionArgs;
}

/** True when the arguments ask for any distribution at all (a fresh image then needs {@link applyDistribution}). */
export function hasDistribution(args: DistributionArgs | undefined): boolean {
    return distributionDiff({}, args ?? {}).length > 0;
}

/**
 * What to keep in state for the distribution: per property, the `declared` value (in the form
 * the user wrote it: list order, `false`, a deprecation time within the same minute) when the
 * live value means the same, otherwise the live value. So a refresh right after an apply keeps
 * the state exactly as it was (no diff), and one after a change made outside Pulumi reports it.
 */
export function reconcileDistribution(declared: DistributionArgs | undefined, live: DistributionArgs): DistributionArgs {
    const mine = pickDistribution(declared);
    const changed = new Set<string>(distributionDiff(mine, live));
    const result: Record<string, unknown> = {};
    for (const key of DISTRIBUTION_PROPERTIES) {
        const value = changed.has(key) ? live[key] : mine[key];
        if (value !== undefined) result[key] = value;
    }
    return result as DistributionArgs;
}

/** The inputs (or outputs) without their distribution properties. */
export function withoutDistribution<T extends object>(inputs: T): T {
    const rest = { ...inputs } as Record<string, unknown>;
    for (const key of DISTRIBUTION_PROPERTIES) delete rest[key];
    return rest as T;
}

