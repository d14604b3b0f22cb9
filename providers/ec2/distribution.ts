/**
 * The distribution of a live image in EC2: apply a change of settings with exactly the calls
 * the difference needs, and read what is live (launch permissions, snapshot create-volume
 * permissions, deprecation, deregistration protection).
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
import { DistributionArgs, Normal, normalise, normalList, parseIsoTime } from "../core/distribution";
import { awsErrorCode, explainAwsError, GoldenAmiError } from "../core/errors";
import { ec2Client } from "./client";

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

/** `action`, with its AWS error explained as a failure of `doing` (also the copy share's, ec2/copy-share.ts). */
export async function call<T>(doing: string, action: () => Promise<T>, explain = explainAwsError): Promise<T> {
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

