/**
 * The distribution attributes of an image: who may launch it (accounts, organizations,
 * organizational units, everyone), who may create volumes from its snapshots, when it is
 * deprecated and whether it is protected from deregistration.
 *
 * Shared by InstanceImage and ImageCopy: both validate these inputs in `check`, compare them
 * in `diff`, change them in place in `create`/`update`, and read them back in `read`.
 * Everything works on differences, so an update touches exactly what changed and a refresh
 * right after an apply compares clean.
 */
import {
    CreateVolumePermission,
    DescribeImageAttributeCommand,
    DescribeImagesCommand,
    DescribeSnapshotAttributeCommand,
    DisableImageDeprecationCommand,
    DisableImageDeregistrationProtectionCommand,
    EC2Client,
    EnableImageDeprecationCommand,
    EnableImageDeregistrationProtectionCommand,
    LaunchPermission,
    ModifyImageAttributeCommand,
    ModifySnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import type * as pulumi from "@pulumi/pulumi";
import { CheckFailure, isUnknown } from "../checks";
import { ec2Client } from "./client";
import { awsErrorCode, explainAwsError, GoldenAmiError } from "./errors";

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

const ACCOUNT_ID = /^\d{12}$/;
// Organizations ID formats: o-[a-z0-9]{10,32}, ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}; all partitions.
const ORGANIZATION_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
const OU_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;
// Date, or date-time with a zone designator: without one, "local time" would depend on the machine.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

const MINUTE_MS = 60_000;
/** EC2 refuses a DeprecateAt more than 10 years ahead, and for public images more than 2 years after creation. */
const MAX_DEPRECATION_YEARS = 10;
const MAX_PUBLIC_DEPRECATION_YEARS = 2;

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

function addYears(epochMs: number, years: number): number {
    const d = new Date(epochMs);
    d.setUTCFullYear(d.getUTCFullYear() + years);
    return d.getTime();
}

function show(value: unknown): string {
    return typeof value === "string" ? JSON.stringify(value) : `${JSON.stringify(value) ?? String(value)} (${typeof value})`;
}

/**
 * Validates distribution inputs at preview, without calling AWS. Returns one failure per
 * problem, each naming the property (and element) and saying what to do; empty when valid.
 * Values still unknown at preview are skipped.
 *
 * @param now Epoch ms that `deprecateAt` must lie after; default: the current time.
 * @param olds The inputs of the last successful deployment, if any: a `deprecateAt` unchanged
 *   from them is not held against the clock again, so an image whose deprecation time has
 *   passed can still be updated.
 */
export function checkDistribution(args: DistributionArgs, now: number = Date.now(), olds?: DistributionArgs): CheckFailure[] {
    const failures: CheckFailure[] = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    const input = (args ?? {}) as Record<string, unknown>;

    // `noun` with its article ("a 12-digit AWS account ID"), `plural` for the whole list.
    const checkList = (property: string, valid: RegExp, noun: string, plural: string, example: string) => {
        const value = input[property];
        if (value === undefined || value === null || isUnknown(value)) return;
        if (!Array.isArray(value)) {
            fail(property, `${property}: must be a list of ${plural}, got ${show(value)}; write it as ["${example}"]`);
            return;
        }
        const seen = new Map<string, number>();
        value.forEach((item: unknown, i) => {
            if (isUnknown(item)) return;
            const at = `${property}[${i}]`;
            if (typeof item !== "string") {
                fail(property, `${at}: must be a string (${noun}), got ${show(item)}; write it as "${example}"`);
                return;
            }
            if (!valid.test(item)) {
                fail(property, `${at}: ${show(item)} is not ${noun}; it looks like "${example}"`);
                return;
            }
            const first = seen.get(item);
            if (first !== undefined) {
                fail(property, `${at}: ${show(item)} is listed twice (also at [${first}]); remove the duplicate`);
            } else {
                seen.set(item, i);
            }
        });
    };
    checkList("launchAccounts", ACCOUNT_ID, "a 12-digit AWS account ID", "12-digit AWS account IDs", "123456789012");
    checkList(
        "launchOrganizations",
        ORGANIZATION_ARN,
        "an organization ARN",
        "organization ARNs",
        "arn:aws:organizations::123456789012:organization/o-abcde12345",
    );
    checkList(
        "launchOrganizationalUnits",
        OU_ARN,
        "an organizational unit ARN",
        "organizational unit ARNs",
        "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abcdef12",
    );

    for (const property of ["public", "shareSnapshots", "deregistrationProtection"]) {
        const value = input[property];
        if (value === undefined || value === null || isUnknown(value) || typeof value === "boolean") continue;
        fail(property, `${property}: must be true or false, got ${show(value)}`);
    }

    // Snapshot permissions follow launchAccounts: with no accounts there is no one to give them to.
    const accounts = input.launchAccounts;
    if (input.shareSnapshots === true && !isUnknown(accounts) && !(Array.isArray(accounts) && accounts.length > 0)) {
        fail(
            "shareSnapshots",
            "shareSnapshots: snapshot permissions go to the accounts in launchAccounts, which is empty; " +
                "add accounts to launchAccounts or set shareSnapshots to false",
        );
    }

    const deprecateAt = input.deprecateAt;
    if (deprecateAt !== undefined && deprecateAt !== null && !isUnknown(deprecateAt)) {
        const at = typeof deprecateAt === "string" ? parseIsoTime(deprecateAt) : undefined;
        if (at === undefined) {
            fail(
                "deprecateAt",
                `deprecateAt: ${show(deprecateAt)} is not an ISO 8601 UTC time; write it like "2030-01-31T00:00:00Z"`,
            );
        } else if (!(olds && sameDeprecation(olds.deprecateAt, deprecateAt as string))) {
            const nowText = new Date(now).toISOString();
            if (at <= now) {
                fail(
                    "deprecateAt",
                    `deprecateAt: ${show(deprecateAt)} is not in the future (now is ${nowText}); choose a later time or remove deprecateAt`,
                );
            } else if (at > addYears(now, MAX_DEPRECATION_YEARS)) {
                fail(
                    "deprecateAt",
                    `deprecateAt: ${show(deprecateAt)} is more than ${MAX_DEPRECATION_YEARS} years after now (${nowText}), ` +
                        `which EC2 refuses; choose an earlier time`,
                );
            } else if (input.public === true && at > addYears(now, MAX_PUBLIC_DEPRECATION_YEARS)) {
                fail(
                    "deprecateAt",
                    `deprecateAt: ${show(deprecateAt)} is more than ${MAX_PUBLIC_DEPRECATION_YEARS} years ahead; EC2 deprecates ` +
                        `public images at most ${MAX_PUBLIC_DEPRECATION_YEARS} years after their creation; choose an earlier time`,
                );
            }
        }
    }
    return failures;
}

/** Deprecation times as EC2 keeps them: rounded to the nearest minute. */
function deprecationKey(value: unknown): unknown {
    if (typeof value !== "string") return value ?? undefined;
    const at = parseIsoTime(value);
    return at === undefined ? value : Math.round(at / MINUTE_MS) * MINUTE_MS;
}

function sameDeprecation(a: unknown, b: unknown): boolean {
    return deprecationKey(a) === deprecationKey(b);
}

/**
 * Sorted and de-duplicated; undefined for an empty list. Other values pass as they are: an
 * input unknown at preview (Pulumi's marker string) then differs from any list, i.e. "changed".
 */
function normalList(value: unknown): unknown {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) return value;
    const items = [...new Set(value)].sort();
    return items.length > 0 ? items : undefined;
}

function normalFlag(value: unknown): unknown {
    if (value === undefined || value === null || value === false) return undefined;
    return value;
}

type Normal = Record<(typeof DISTRIBUTION_PROPERTIES)[number], unknown>;

function normalise(args: DistributionArgs | undefined): Normal {
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

function strings(value: unknown): string[] {
    return Array.isArray(value) ? (value as string[]) : [];
}

function minus(a: string[], b: string[]): string[] {
    const drop = new Set(b);
    return a.filter((x) => !drop.has(x));
}

/** Accounts that should hold create-volume permission on the snapshots. */
function snapshotAccounts(n: Normal): string[] {
    return n.shareSnapshots === true ? strings(n.launchAccounts) : [];
}

function describePermissions(perms: LaunchPermission[]): string {
    return perms.map((p) => p.UserId ?? p.OrganizationArn ?? p.OrganizationalUnitArn ?? (p.Group === "all" ? "everyone" : "?")).join(", ");
}

async function call<T>(doing: string, action: () => Promise<T>, explain = explainAwsError): Promise<T> {
    try {
        return await action();
    } catch (err) {
        throw explain(err, doing);
    }
}

/**
 * EC2 answers a public share blocked by "block public access for AMIs" with the generic
 * `OperationNotPermitted` code (also used for deregistration protection), so it is told
 * apart by its message and given a refined code whose advice says how to lift the block.
 */
function explainPublicShareError(err: unknown, doing: string): GoldenAmiError {
    const message = err instanceof Error ? err.message : String(err);
    if (awsErrorCode(err) === "OperationNotPermitted" && /block public access/i.test(message)) {
        return explainAwsError(Object.assign(new Error(message), { Code: "OperationNotPermitted.ImageBlockPublicAccess" }), doing);
    }
    return explainAwsError(err, doing);
}

/**
 * Changes the image's distribution from `olds` to `news`, making exactly the calls the
 * difference needs (none when nothing changed): launch permissions added or removed one
 * account / organization / OU at a time, public on or off, snapshot create-volume permissions
 * for `launchAccounts` when `shareSnapshots`, deprecation time set or cleared, deregistration
 * protection on (without cooldown) or off.
 *
 * Removals come before additions, and making the image public comes last, so a failure never
 * leaves more access than either the old or the new settings grant. On failure some changes
 * may already be in place; {@link readDistribution} tells what is live. Every step is safe to
 * repeat, so applying the same `olds` → `news` again completes the change.
 *
 * @param snapshotIds The image's EBS snapshots (for `shareSnapshots`).
 * @throws GoldenAmiError naming the step and what to do, e.g. how to lift the account's
 *   block public access for AMIs when `public` is refused.
 */
export async function applyDistribution(
    region: string,
    imageId: string,
    snapshotIds: string[],
    olds: DistributionArgs,
    news: DistributionArgs,
): Promise<void> {
    const o = normalise(olds);
    const n = normalise(news);
    const client: EC2Client = ec2Client(region);
    const where = `image ${imageId} in ${region}`;

    if (o.deregistrationProtection !== n.deregistrationProtection && n.deregistrationProtection === true) {
        // Without cooldown: turning protection off later (or deleting the image) must not wait 24 hours.
        await call(`turning on deregistration protection of ${where}`, () =>
            client.send(new EnableImageDeregistrationProtectionCommand({ ImageId: imageId, WithCooldown: false })),
        );
    }

    if (o.deprecateAt !== n.deprecateAt) {
        const deprecateAt = news.deprecateAt;
        if (n.deprecateAt === undefined || deprecateAt === undefined) {
            await call(`clearing the deprecation time of ${where}`, () =>
                client.send(new DisableImageDeprecationCommand({ ImageId: imageId })),
            );
        } else {
            const at = parseIsoTime(deprecateAt);
            if (at === undefined) {
                throw new GoldenAmiError(`golden-ami: deprecateAt ${JSON.stringify(deprecateAt)} of ${where} is not an ISO 8601 UTC time.`);
            }
            await call(`setting the deprecation time of ${where} to ${new Date(at).toISOString()}`, () =>
                client.send(new EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: new Date(at) })),
            );
        }
    }

    const launch = (key: "UserId" | "OrganizationArn" | "OrganizationalUnitArn", property: keyof Normal) => ({
        add: minus(strings(n[property]), strings(o[property])).map((v): LaunchPermission => ({ [key]: v })),
        remove: minus(strings(o[property]), strings(n[property])).map((v): LaunchPermission => ({ [key]: v })),
    });
    const changes = [
        launch("UserId", "launchAccounts"),
        launch("OrganizationArn", "launchOrganizations"),
        launch("OrganizationalUnitArn", "launchOrganizationalUnits"),
    ];
    const removeLaunch = changes.flatMap((c) => c.remove);
    const addLaunch = changes.flatMap((c) => c.add);
    if (o.public === true && n.public !== true) removeLaunch.unshift({ Group: "all" });

    const oldShare = snapshotAccounts(o);
    const newShare = snapshotAccounts(n);
    const removeVolume = minus(oldShare, newShare).map((UserId): CreateVolumePermission => ({ UserId }));
    const addVolume = minus(newShare, oldShare).map((UserId): CreateVolumePermission => ({ UserId }));

    if (removeLaunch.length > 0) {
        await call(`removing launch permissions (${describePermissions(removeLaunch)}) from ${where}`, () =>
            client.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Remove: removeLaunch } })),
        );
    }
    const modifySnapshots = (perms: CreateVolumePermission[], op: "Add" | "Remove", doing: string) =>
        Promise.all(
            snapshotIds.map((snapshotId) =>
                call(`${doing} create-volume permission (${perms.map((p) => p.UserId).join(", ")}) on snapshot ${snapshotId} of ${where}`, () =>
                    client.send(
                        new ModifySnapshotAttributeCommand({
                            SnapshotId: snapshotId,
                            Attribute: "createVolumePermission",
                            CreateVolumePermission: { [op]: perms },
                        }),
                    ),
                ),
            ),
        );
    if (removeVolume.length > 0) await modifySnapshots(removeVolume, "Remove", "removing");
    // Snapshots before the image: an account that can see the image can then also copy it.
    if (addVolume.length > 0) await modifySnapshots(addVolume, "Add", "granting");
    if (addLaunch.length > 0) {
        await call(`granting launch permissions (${describePermissions(addLaunch)}) on ${where}`, () =>
            client.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: addLaunch } })),
        );
    }
    if (o.public !== true && n.public === true) {
        await call(
            `making ${where} public`,
            () => client.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ Group: "all" }] } })),
            explainPublicShareError,
        );
    }

    if (o.deregistrationProtection !== n.deregistrationProtection && n.deregistrationProtection !== true) {
        await call(`turning off deregistration protection of ${where}`, () =>
            client.send(new DisableImageDeregistrationProtectionCommand({ ImageId: imageId })),
        );
    }
}

/**
 * The image's distribution as it is live in EC2, normalised like the inputs after an apply:
 * lists sorted, and properties that are empty or false left out. So `distributionDiff(applied,
 * await readDistribution(...))` is empty right after `applyDistribution(..., applied)`.
 *
 * `shareSnapshots` is true when every snapshot grants create-volume permission to every launch
 * account. `deregistrationProtection` is true while protection is enabled (with or without
 * cooldown); a "disabled-until" cooldown reads as false, since it was turned off.
 *
 * @throws GoldenAmiError with code `InvalidAMIID.NotFound` when the image does not exist.
 */
export async function readDistribution(region: string, imageId: string, snapshotIds: string[]): Promise<DistributionArgs> {
    const client = ec2Client(region);
    const where = `image ${imageId} in ${region}`;
    const [attribute, described] = await Promise.all([
        call(`reading the launch permissions of ${where}`, () =>
            client.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "launchPermission" })),
        ),
        call(`describing ${where}`, () =>
            // An image deprecated by its owner is still described to its owner; ask explicitly anyway.
            client.send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDeprecated: true })),
        ),
    ]);
    const image = described.Images?.find((i) => i.ImageId === imageId);
    if (!image) {
        throw new GoldenAmiError(
            `golden-ami: ${where} does not exist (any more). What to do: check the ID and the region, or run \`pulumi refresh\`.`,
            "InvalidAMIID.NotFound",
        );
    }

    const perms = attribute.LaunchPermissions ?? [];
    const pick = (key: "UserId" | "OrganizationArn" | "OrganizationalUnitArn") =>
        normalList(perms.map((p) => p[key]).filter((v): v is string => typeof v === "string")) as string[] | undefined;
    const result: DistributionArgs = {
        launchAccounts: pick("UserId"),
        launchOrganizations: pick("OrganizationArn"),
        launchOrganizationalUnits: pick("OrganizationalUnitArn"),
        public: perms.some((p) => p.Group === "all") || undefined,
    };

    const accounts = result.launchAccounts ?? [];
    if (accounts.length > 0 && snapshotIds.length > 0) {
        const granted = await Promise.all(
            snapshotIds.map(async (snapshotId) => {
                const answer = await call(`reading the create-volume permissions of snapshot ${snapshotId} of ${where}`, () =>
                    client.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" })),
                );
                return new Set((answer.CreateVolumePermissions ?? []).map((p) => p.UserId));
            }),
        );
        result.shareSnapshots = granted.every((users) => accounts.every((a) => users.has(a))) || undefined;
    }

    const deprecation = image.DeprecationTime ? Date.parse(image.DeprecationTime) : NaN;
    if (!Number.isNaN(deprecation)) result.deprecateAt = new Date(deprecation).toISOString();
    if ((image.DeregistrationProtection ?? "").startsWith("enabled")) result.deregistrationProtection = true;

    for (const key of Object.keys(result) as (keyof DistributionArgs)[]) {
        if (result[key] === undefined) delete result[key];
    }
    return result;
}

/**
 * The distribution arguments of a resource (InstanceImage, ImageCopy): {@link DistributionArgs}
 * with every field a Pulumi input. All of them are changed in place, never by a new image.
 */
export interface DistributionInputs {
    /** 12-digit AWS account IDs allowed to launch the image. Changed in place (exactly the difference). */
    launchAccounts?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Organization ARNs whose accounts may launch the image
     * (`arn:aws:organizations::123456789012:organization/o-xxxxxxxxxx`). Changed in place.
     */
    launchOrganizations?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Organizational unit ARNs whose accounts may launch the image
     * (`arn:aws:organizations::123456789012:ou/o-xxxxxxxxxx/ou-xxxx-xxxxxxxx`). Changed in place.
     */
    launchOrganizationalUnits?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Make the image public (launchable by every AWS account). Only on explicit opt-in; default
     * false. Refused by EC2 while the account's block public access for AMIs is on.
     */
    public?: pulumi.Input<boolean>;
    /**
     * Also give the `launchAccounts` create-volume permission on the image's snapshots, so they
     * can copy the image or create volumes from it. Needs `launchAccounts`. Default false.
     */
    shareSnapshots?: pulumi.Input<boolean>;
    /**
     * ISO 8601 time (with `Z` or an offset) at which EC2 marks the image deprecated, e.g.
     * `2030-01-31T00:00:00Z`; at most 10 years ahead (2 for public images). EC2 rounds it to the
     * nearest minute; a value within the same minute counts as unchanged. Remove it to clear.
     */
    deprecateAt?: pulumi.Input<string>;
    /**
     * Deregistration protection (without cooldown): the image cannot be deregistered, and so
     * `pulumi destroy` of it fails, until this is false again. Default false.
     */
    deregistrationProtection?: pulumi.Input<boolean>;
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

/**
 * The distribution properties of a resource's args, each present (possibly undefined), for the
 * props a resource class hands to Pulumi: only properties present there are read back as outputs.
 */
export function distributionOutputSlots(args: DistributionInputs): Record<keyof DistributionInputs, unknown> {
    return {
        launchAccounts: args.launchAccounts,
        launchOrganizations: args.launchOrganizations,
        launchOrganizationalUnits: args.launchOrganizationalUnits,
        public: args.public,
        shareSnapshots: args.shareSnapshots,
        deprecateAt: args.deprecateAt,
        deregistrationProtection: args.deregistrationProtection,
    };
}
