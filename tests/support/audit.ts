/**
 * Leak audit: what the account owns in the emulator, per region, so a test can assert that
 * nothing it did not expect remains. Tests call `inventory` / `leakedSince` (images and
 * snapshots); the audit after every e2e test (tests/support/root-hooks.ts) asks for every kind
 * golden-ami makes or changes: images, snapshots, instances that are not terminated, SSM
 * parameters, the launch permissions of the images and the create-volume permissions of the
 * snapshots (an AMI shared with an account shares its snapshots too: either left behind gives
 * the account access).
 */
import {
    DescribeImageAttributeCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeSnapshotAttributeCommand, DescribeSnapshotsCommand,
} from "@aws-sdk/client-ec2";
import { DescribeParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { Emulator } from "./emulator";

export const ACCOUNT_ID = "123456789012";

export type InventoryKind = "images" | "snapshots" | "instances" | "parameters" | "launchPermissions" | "volumePermissions";
/** What `inventory` collects unless asked for more. */
export const DEFAULT_KINDS: readonly InventoryKind[] = ["images", "snapshots"];
export const ALL_KINDS: readonly InventoryKind[] = ["images", "snapshots", "instances", "parameters", "launchPermissions", "volumePermissions"];

export interface AccountInventory {
    /** region → image IDs owned by the account */
    images: Record<string, string[]>;
    /** region → snapshot IDs owned by the account */
    snapshots: Record<string, string[]>;
    /** region → IDs of the account's instances that are not terminated (when asked for) */
    instances?: Record<string, string[]>;
    /** region → names of the account's SSM parameters (when asked for) */
    parameters?: Record<string, string[]>;
    /** region → image ID → who may launch it ("all", account IDs, organisation ARNs) (when asked for) */
    launchPermissions?: Record<string, Record<string, string[]>>;
    /** region → snapshot ID → who may create volumes from it ("all", account IDs) (when asked for) */
    volumePermissions?: Record<string, Record<string, string[]>>;
    /** snapshot ID → its description (EC2 names the image it was made for), with snapshots */
    snapshotDescriptions?: Record<string, string>;
}

async function each<T>(items: T[], f: (item: T) => Promise<void>): Promise<void> {
    await Promise.all(items.map(f));
}

/**
 * What the account owns in each region (moto ignores OwnerIds on snapshots: filter by owner-id).
 * `kinds` picks what to collect; images and snapshots by default.
 */
export async function inventory(
    emulator: Emulator,
    regions: string[],
    accountId = ACCOUNT_ID,
    kinds: readonly InventoryKind[] = DEFAULT_KINDS,
): Promise<AccountInventory> {
    const result: AccountInventory = { images: {}, snapshots: {}, snapshotDescriptions: {} };
    if (kinds.includes("instances")) result.instances = {};
    if (kinds.includes("parameters")) result.parameters = {};
    if (kinds.includes("launchPermissions")) result.launchPermissions = {};
    if (kinds.includes("volumePermissions")) result.volumePermissions = {};
    await each(regions, async (region) => {
        const client = emulator.ec2(region, accountId === ACCOUNT_ID ? undefined : accountId);
        const images = await client.send(new DescribeImagesCommand({ Owners: ["self"], IncludeDisabled: true }));
        const live = (images.Images ?? []).filter((i) => i.State !== "deregistered");
        result.images[region] = (images.Images ?? []).map((i) => i.ImageId!).sort();
        const snapshots = await client.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "owner-id", Values: [accountId] }] }));
        result.snapshots[region] = (snapshots.Snapshots ?? []).map((s) => s.SnapshotId!).sort();
        for (const s of snapshots.Snapshots ?? []) result.snapshotDescriptions![s.SnapshotId!] = s.Description ?? "";
        if (result.instances) {
            const out = await client.send(new DescribeInstancesCommand({}));
            result.instances[region] = (out.Reservations ?? [])
                .filter((r) => r.OwnerId === undefined || r.OwnerId === accountId)
                .flatMap((r) => r.Instances ?? [])
                .filter((i) => i.State?.Name !== "terminated")
                .map((i) => i.InstanceId!)
                .sort();
        }
        if (result.parameters) {
            const env = emulator.env(region);
            const ssm = new SSMClient({
                region, endpoint: emulator.endpoint, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
            });
            try {
                const names: string[] = [];
                let token: string | undefined;
                do {
                    const out = await ssm.send(new DescribeParametersCommand({ NextToken: token, MaxResults: 50 }));
                    names.push(...(out.Parameters ?? []).map((p) => p.Name!).filter((n) => !n.startsWith("/aws/")));
                    token = out.NextToken;
                } while (token);
                result.parameters[region] = names.sort();
            } finally {
                ssm.destroy();
            }
        }
        if (result.launchPermissions) {
            const permissions: Record<string, string[]> = {};
            await each(live, async (image) => {
                const out = await client.send(new DescribeImageAttributeCommand({ ImageId: image.ImageId!, Attribute: "launchPermission" }));
                permissions[image.ImageId!] = (out.LaunchPermissions ?? [])
                    .map((p) => p.Group ?? p.UserId ?? p.OrganizationArn ?? p.OrganizationalUnitArn ?? JSON.stringify(p))
                    .sort();
            });
            result.launchPermissions[region] = permissions;
        }
        if (result.volumePermissions) {
            const permissions: Record<string, string[]> = {};
            await each(snapshots.Snapshots ?? [], async (snapshot) => {
                const out = await client.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snapshot.SnapshotId!, Attribute: "createVolumePermission" }));
                permissions[snapshot.SnapshotId!] = (out.CreateVolumePermissions ?? []).map((p) => p.Group ?? p.UserId ?? JSON.stringify(p)).sort();
            });
            result.volumePermissions[region] = permissions;
        }
    });
    return result;
}

/** Images and snapshots present now that were not in `before`. */
export async function leakedSince(emulator: Emulator, before: AccountInventory, regions: string[], accountId = ACCOUNT_ID): Promise<AccountInventory> {
    const now = await inventory(emulator, regions, accountId);
    const diff: AccountInventory = { images: {}, snapshots: {} };
    for (const region of regions) {
        diff.images[region] = now.images[region].filter((id) => !(before.images[region] ?? []).includes(id));
        diff.snapshots[region] = now.snapshots[region].filter((id) => !(before.snapshots[region] ?? []).includes(id));
    }
    return diff;
}

/** Total count of leaked images and snapshots (and of the other kinds, when the inventory has them). */
export function leakCount(leaks: AccountInventory): number {
    const lists = [
        ...Object.values(leaks.images),
        ...Object.values(leaks.snapshots),
        ...Object.values(leaks.instances ?? {}),
        ...Object.values(leaks.parameters ?? {}),
        ...Object.values(leaks.launchPermissions ?? {}).flatMap((byImage) => Object.values(byImage)),
        ...Object.values(leaks.volumePermissions ?? {}).flatMap((bySnapshot) => Object.values(bySnapshot)),
    ];
    return lists.reduce((n, ids) => n + ids.length, 0);
}

/** What the audit may ignore: resources the test harness made itself, and what live stacks hold. */
export interface Expected {
    /** Resource IDs the harness made outside golden-ami (test fixtures), e.g. builder instances. */
    made: ReadonlySet<string>;
    /** True when a live Pulumi stack's state mentions the ID (the resource is still managed). */
    managed: (id: string) => Promise<boolean>;
}

/**
 * What is in `now` and was not in `before`, and is neither a harness fixture nor held by a live
 * stack, of every kind: new images, snapshots (a snapshot of a fixture image is a fixture),
 * non-terminated instances and SSM parameters; plus launch permissions added to an image, and
 * create-volume permissions added to a snapshot, that remains and that no live stack manages.
 */
export async function unexpected(before: AccountInventory, now: AccountInventory, expected: Expected): Promise<AccountInventory> {
    const fixtureSnapshot = (id: string) => {
        const description = now.snapshotDescriptions?.[id] ?? "";
        return [...expected.made].some((made) => made.startsWith("ami-") && new RegExp(`for (DestinationAmi )?${made} from`).test(description));
    };
    // A snapshot of an image a live stack holds (a retired generation in a retention report, too) is held with it.
    const ofManagedImage = async (id: string) => {
        const image = /\b(ami-[0-9a-f]+)\b/.exec(now.snapshotDescriptions?.[id] ?? "")?.[1];
        return image !== undefined && (now.images ? Object.values(now.images).some((ids) => ids.includes(image)) : false) && (await expected.managed(image));
    };
    const fresh = async (nowIds: string[] | undefined, beforeIds: string[] | undefined, isFixture: (id: string) => boolean = () => false, heldWith?: (id: string) => Promise<boolean>) => {
        const out: string[] = [];
        for (const id of nowIds ?? []) {
            if ((beforeIds ?? []).includes(id) || expected.made.has(id) || isFixture(id)) continue;
            if (await expected.managed(id)) continue;
            if (heldWith && (await heldWith(id))) continue;
            out.push(id);
        }
        return out;
    };
    const diff: AccountInventory = { images: {}, snapshots: {}, instances: {}, parameters: {}, launchPermissions: {}, volumePermissions: {} };
    const added = async (nowWho: Record<string, string[]> | undefined, beforeWho: Record<string, string[]> | undefined) => {
        const out: Record<string, string[]> = {};
        for (const [id, who] of Object.entries(nowWho ?? {})) {
            const had = beforeWho?.[id] ?? [];
            const fresh = who.filter((w) => !had.includes(w));
            if (fresh.length && !(await expected.managed(id))) out[id] = fresh;
        }
        return out;
    };
    for (const region of Object.keys(now.images)) {
        diff.images[region] = await fresh(now.images[region], before.images[region]);
        diff.snapshots[region] = await fresh(now.snapshots[region], before.snapshots[region], fixtureSnapshot, ofManagedImage);
        diff.instances![region] = await fresh(now.instances?.[region], before.instances?.[region]);
        diff.parameters![region] = await fresh(now.parameters?.[region], before.parameters?.[region]);
        diff.launchPermissions![region] = await added(now.launchPermissions?.[region], before.launchPermissions?.[region]);
        diff.volumePermissions![region] = await added(now.volumePermissions?.[region], before.volumePermissions?.[region]);
    }
    return diff;
}

/** "us-east-1 images ami-1; eu-west-1 launch permission on ami-2 for all", or "" when nothing leaked. */
export function describeLeaks(leaks: AccountInventory): string {
    const parts: string[] = [];
    for (const kind of ["images", "snapshots", "instances", "parameters"] as const) {
        for (const [region, ids] of Object.entries(leaks[kind] ?? {})) if (ids.length) parts.push(`${region} ${kind} ${ids.join(" ")}`);
    }
    for (const [region, byImage] of Object.entries(leaks.launchPermissions ?? {})) {
        for (const [imageId, who] of Object.entries(byImage)) parts.push(`${region} launch permission on ${imageId} for ${who.join(" ")}`);
    }
    for (const [region, bySnapshot] of Object.entries(leaks.volumePermissions ?? {})) {
        for (const [snapshotId, who] of Object.entries(bySnapshot)) parts.push(`${region} create-volume permission on ${snapshotId} for ${who.join(" ")}`);
    }
    return parts.join("; ");
}
