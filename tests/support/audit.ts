/**
 * Leak audit: every image and snapshot of the account, per region, in the emulator.
 * End-to-end tests end by asserting that nothing they did not expect remains.
 */
import { DescribeImagesCommand, DescribeSnapshotsCommand } from "@aws-sdk/client-ec2";
import { Emulator } from "./emulator";

export interface AccountInventory {
    /** region → image IDs owned by the account */
    images: Record<string, string[]>;
    /** region → snapshot IDs owned by the account */
    snapshots: Record<string, string[]>;
}

/** Account-owned images and snapshots in each region (moto ignores OwnerIds on snapshots: filter by owner-id). */
export async function inventory(emulator: Emulator, regions: string[], accountId = "123456789012"): Promise<AccountInventory> {
    const result: AccountInventory = { images: {}, snapshots: {} };
    for (const region of regions) {
        const client = emulator.ec2(region);
        const images = await client.send(new DescribeImagesCommand({ Owners: ["self"] }));
        result.images[region] = (images.Images ?? []).map((i) => i.ImageId!).sort();
        const snapshots = await client.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "owner-id", Values: [accountId] }] }));
        result.snapshots[region] = (snapshots.Snapshots ?? []).map((s) => s.SnapshotId!).sort();
    }
    return result;
}

/** Images and snapshots present now that were not in `before`. */
export async function leakedSince(emulator: Emulator, before: AccountInventory, regions: string[]): Promise<AccountInventory> {
    const now = await inventory(emulator, regions);
    const diff: AccountInventory = { images: {}, snapshots: {} };
    for (const region of regions) {
        diff.images[region] = now.images[region].filter((id) => !(before.images[region] ?? []).includes(id));
        diff.snapshots[region] = now.snapshots[region].filter((id) => !(before.snapshots[region] ?? []).includes(id));
    }
    return diff;
}

/** Total count of leaked images and snapshots. */
export function leakCount(leaks: AccountInventory): number {
    return [...Object.values(leaks.images), ...Object.values(leaks.snapshots)].reduce((n, ids) => n + ids.length, 0);
}
