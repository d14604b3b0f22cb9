import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { applyDistribution, readDistribution } from "../../providers/ec2/distribution";
import { checkDistribution } from "../../providers/lifecycle/check-distribution";
import { DistributionArgs, distributionDiff, parseIsoTime } from "../../providers/core/distribution";
import { GoldenAmiError } from "../../providers/core/errors";
import { awsError, RecordedCall, rejection, stubEc2 } from "../support/fakes";

const REGION = "us-east-1";
const IMAGE = "ami-0123456789abcdef0";
const SNAPSHOTS = ["snap-0000000000000000a", "snap-0000000000000000b"];
const A = "111111111111";
const B = "222222222222";
const C = "333333333333";
const ORG = "arn:aws:organizations::123456789012:organization/o-abcde12345";
const OU = "arn:aws:organizations::123456789012:ou/o-abcde12345/ou-ab12-abcdef12";
const NOW = Date.parse("2026-01-01T00:00:00Z");
/** Pulumi's marker for a value unknown at preview, as check/diff receive it. */
const UNKNOWN: string = pulumi.runtime.unknownValue;

type Call = RecordedCall;
type Handler = (action: string, input: Record<string, unknown>) => unknown;

/** The shared EC2 stub on REGION, answering `{}` where the handler has nothing to say. */
function stubbed(handler: Handler = () => ({})): { calls: Call[]; restore: () => void } {
    return stubEc2(REGION, async (action, input) => (await handler(action, input)) ?? {});
}

describe("distribution: checkDistribution", () => {
    const valid: [string, DistributionArgs, DistributionArgs?][] = [
        ["nothing", {}],
        [
            "everything",
            {
                launchAccounts: [A, B],
                launchOrganizations: [ORG],
                launchOrganizationalUnits: [OU],
                public: false,
                shareSnapshots: true,
                deprecateAt: "2027-06-30T12:00:00Z",
                deregistrationProtection: true,
            },
        ],
        ["empty lists", { launchAccounts: [], launchOrganizations: [], launchOrganizationalUnits: [] }],
        ["a date only (midnight UTC)", { deprecateAt: "2027-01-01" }],
        ["a time with an offset", { deprecateAt: "2027-01-01T10:00:00.123+02:00" }],
        ["a time without seconds", { deprecateAt: "2027-01-01T10:00Z" }],
        ["public, deprecated within 2 years", { public: true, deprecateAt: "2027-12-31T00:00:00Z" }],
        ["an aws-cn organization", { launchOrganizations: ["arn:aws-cn:organizations::123456789012:organization/o-abcde12345"] }],
        [
            "unknowns at preview",
            {
                launchAccounts: UNKNOWN as unknown as string[],
                launchOrganizations: [UNKNOWN],
                public: UNKNOWN as unknown as boolean,
                shareSnapshots: true,
                deprecateAt: UNKNOWN,
            },
        ],
        ["shareSnapshots with accounts still unknown", { launchAccounts: UNKNOWN as unknown as string[], shareSnapshots: true }],
        // EC2 accepted it when it was in the future; an unchanged value must not block later updates.
        ["a past deprecateAt unchanged from olds", { deprecateAt: "2025-06-01T00:00:00Z" }, { deprecateAt: "2025-06-01T00:00:00.000Z" }],
    ];
    for (const [name, args, olds] of valid) {
        it(`accepts ${name}`, () => {
            assert.deepEqual(checkDistribution(args, NOW, olds), []);
        });
    }

    const invalid: [string, unknown, string, string, DistributionArgs?][] = [
        ["a short account ID", { launchAccounts: [A, "12345"] }, "launchAccounts", 'launchAccounts[1]: "12345" is not a 12-digit AWS account ID'],
        ["an account ID with letters", { launchAccounts: ["12345678901x"] }, "launchAccounts", 'launchAccounts[0]: "12345678901x" is not a 12-digit AWS account ID'],
        ["an account ID as a number", { launchAccounts: [111111111111] }, "launchAccounts", "launchAccounts[0]: must be a string"],
        ["accounts as a string", { launchAccounts: A }, "launchAccounts", "launchAccounts: must be a list of 12-digit AWS account IDs"],
        ["a duplicate account", { launchAccounts: [A, B, A] }, "launchAccounts", `launchAccounts[2]: "${A}" is listed twice (also at [0]); remove the duplicate`],
        ["an OU ARN as an organization", { launchOrganizations: [OU] }, "launchOrganizations", `launchOrganizations[0]: "${OU}" is not an organization ARN`],
        ["a bare organization ID", { launchOrganizations: ["o-abcde12345"] }, "launchOrganizations", 'launchOrganizations[0]: "o-abcde12345" is not an organization ARN'],
        ["a duplicate organization", { launchOrganizations: [ORG, ORG] }, "launchOrganizations", "launchOrganizations[1]"],
        ["an organization ARN as an OU", { launchOrganizationalUnits: [ORG] }, "launchOrganizationalUnits", `launchOrganizationalUnits[0]: "${ORG}" is not an organizational unit ARN`],
        ["an OU ARN without its organization", { launchOrganizationalUnits: ["arn:aws:organizations::123456789012:ou/ou-ab12-abcdef12"] }, "launchOrganizationalUnits", "is not an organizational unit ARN"],
        ["public as a string", { public: "true" }, "public", 'public: must be true or false, got "true"'],
        ["shareSnapshots as a number", { launchAccounts: [A], shareSnapshots: 1 }, "shareSnapshots", "shareSnapshots: must be true or false"],
        ["deregistrationProtection as a string", { deregistrationProtection: "yes" }, "deregistrationProtection", "deregistrationProtection: must be true or false"],
        ["shareSnapshots without accounts", { shareSnapshots: true }, "shareSnapshots", "shareSnapshots: snapshot permissions go to the accounts in launchAccounts, which is empty"],
        ["shareSnapshots with an empty account list", { launchAccounts: [], shareSnapshots: true }, "shareSnapshots", "add accounts to launchAccounts or set shareSnapshots to false"],
        ["deprecateAt without a time zone", { deprecateAt: "2027-01-01T00:00:00" }, "deprecateAt", 'deprecateAt: "2027-01-01T00:00:00" is not an ISO 8601 UTC time; write it like "2030-01-31T00:00:00Z"'],
        ["deprecateAt with a space", { deprecateAt: "2027-01-01 00:00:00Z" }, "deprecateAt", "is not an ISO 8601 UTC time"],
        ["deprecateAt on February 30th", { deprecateAt: "2027-02-30T00:00:00Z" }, "deprecateAt", "is not an ISO 8601 UTC time"],
        ["deprecateAt in words", { deprecateAt: "next tuesday" }, "deprecateAt", "is not an ISO 8601 UTC time"],
        ["deprecateAt as epoch ms", { deprecateAt: 1830297600000 }, "deprecateAt", "is not an ISO 8601 UTC time"],
        ["deprecateAt in the past", { deprecateAt: "2025-06-01T00:00:00Z" }, "deprecateAt", 'deprecateAt: "2025-06-01T00:00:00Z" is not in the future (now is 2026-01-01T00:00:00.000Z); choose a later time or remove deprecateAt'],
        ["deprecateAt exactly now", { deprecateAt: "2026-01-01T00:00:00Z" }, "deprecateAt", "is not in the future"],
        ["deprecateAt past and changed from olds", { deprecateAt: "2025-06-01T00:00:00Z" }, "deprecateAt", "is not in the future", { deprecateAt: "2025-05-01T00:00:00Z" }],
        ["deprecateAt beyond 10 years", { deprecateAt: "2036-01-01T00:01:00Z" }, "deprecateAt", "is more than 10 years after now"],
        ["a public image deprecated after 2 years", { public: true, deprecateAt: "2028-06-01T00:00:00Z" }, "deprecateAt", "public images at most 2 years after their creation"],
    ];
    for (const [name, args, property, fragment, olds] of invalid) {
        it(`rejects ${name}`, () => {
            const failures = checkDistribution(args as DistributionArgs, NOW, olds);
            assert.equal(failures.length, 1, JSON.stringify(failures));
            assert.equal(failures[0].property, property);
            assert.ok(failures[0].reason.includes(fragment), `"${failures[0].reason}" should contain "${fragment}"`);
        });
    }

    it("reports every problem at once", () => {
        const failures = checkDistribution(
            { launchAccounts: ["1", "2"], public: "no" as unknown as boolean, deprecateAt: "soon" },
            NOW,
        );
        assert.deepEqual(failures.map((f) => f.property), ["launchAccounts", "launchAccounts", "public", "deprecateAt"]);
    });

    it("measures the future from the current time by default", () => {
        assert.equal(checkDistribution({ deprecateAt: new Date(Date.now() + 3_600_000).toISOString() }).length, 0);
        assert.equal(checkDistribution({ deprecateAt: new Date(Date.now() - 3_600_000).toISOString() }).length, 1);
    });
});

describe("distribution: parseIsoTime", () => {
    it("reads dates, times, fractions and offsets", () => {
        assert.equal(parseIsoTime("2030-01-31"), Date.parse("2030-01-31T00:00:00Z"));
        assert.equal(parseIsoTime("2030-01-31T12:34Z"), Date.parse("2030-01-31T12:34:00Z"));
        assert.equal(parseIsoTime("2030-01-31T12:34:56.789Z"), Date.parse("2030-01-31T12:34:56.789Z"));
        assert.equal(parseIsoTime("2030-01-31T12:00:00-05:30"), Date.parse("2030-01-31T17:30:00Z"));
        assert.equal(parseIsoTime("2028-02-29T00:00:00Z"), Date.parse("2028-02-29T00:00:00Z"));
    });
    it("refuses impossible dates and other formats", () => {
        for (const text of ["2027-02-29", "2030-13-01", "2030-01-01T24:00:00Z", "2030-01-01T00:60:00Z", "30-01-01", "2030-01-01T00:00:00", ""]) {
            assert.equal(parseIsoTime(text), undefined, text);
        }
    });
});

describe("distribution: distributionDiff", () => {
    it("is empty for the same meaning written differently", () => {
        assert.deepEqual(
            distributionDiff(
                { launchAccounts: [B, A], public: false, launchOrganizations: [], deprecateAt: "2030-01-01T00:00:00Z" },
                { launchAccounts: [A, B, A], deregistrationProtection: false, deprecateAt: "2030-01-01T00:00:20.000Z" },
            ),
            [],
        );
        assert.deepEqual(distributionDiff({}, {}), []);
        assert.deepEqual(distributionDiff({ deprecateAt: "2030-01-01" }, { deprecateAt: "2030-01-01T01:00:00+01:00" }), []);
    });

    it("names each changed property, in declaration order", () => {
        assert.deepEqual(
            distributionDiff(
                { launchAccounts: [A], public: true, deprecateAt: "2030-01-01T00:00:00Z" },
                {
                    launchAccounts: [A, B],
                    launchOrganizations: [ORG],
                    launchOrganizationalUnits: [OU],
                    shareSnapshots: true,
                    deprecateAt: "2030-01-01T00:01:00Z",
                    deregistrationProtection: true,
                },
            ),
            ["launchAccounts", "launchOrganizations", "launchOrganizationalUnits", "public", "shareSnapshots", "deprecateAt", "deregistrationProtection"],
        );
        assert.deepEqual(distributionDiff({ deprecateAt: "2030-01-01T00:00:00Z" }, {}), ["deprecateAt"]);
        assert.deepEqual(distributionDiff({ launchAccounts: [A] }, { launchAccounts: [] }), ["launchAccounts"]);
    });

    it("counts a value unknown at preview as a change", () => {
        assert.deepEqual(distributionDiff({ launchAccounts: [A] }, { launchAccounts: UNKNOWN as unknown as string[] }), ["launchAccounts"]);
        assert.deepEqual(distributionDiff({ public: true }, { public: UNKNOWN as unknown as boolean }), ["public"]);
    });
});

describe("distribution: applyDistribution (stubbed EC2)", () => {
    let stub: { calls: Call[]; restore: () => void } | undefined;
    const apply = async (olds: DistributionArgs, news: DistributionArgs, handler?: Handler): Promise<Call[]> => {
        stub = stubbed(handler);
        await applyDistribution(REGION, IMAGE, SNAPSHOTS, olds, news);
        return stub.calls;
    };
    afterEach(() => {
        stub?.restore();
        stub = undefined;
    });

    it("makes no call when nothing changed", async () => {
        assert.deepEqual(await apply({}, {}), []);
        assert.deepEqual(
            await apply(
                { launchAccounts: [A, B], shareSnapshots: true, deprecateAt: "2030-01-01T00:00:00Z", deregistrationProtection: true },
                { launchAccounts: [B, A], shareSnapshots: true, deprecateAt: "2030-01-01T00:00:10Z", deregistrationProtection: true },
            ),
            [],
        );
    });

    it("sharing with [A, B] then [A] sends exactly one Remove for B", async () => {
        assert.deepEqual(await apply({ launchAccounts: [A, B] }, { launchAccounts: [A] }), [
            { action: "ModifyImageAttribute", input: { ImageId: IMAGE, LaunchPermission: { Remove: [{ UserId: B }] } } },
        ]);
    });

    it("adds accounts, organizations and OUs in one call", async () => {
        assert.deepEqual(await apply({}, { launchAccounts: [B, A], launchOrganizations: [ORG], launchOrganizationalUnits: [OU] }), [
            {
                action: "ModifyImageAttribute",
                input: {
                    ImageId: IMAGE,
                    LaunchPermission: { Add: [{ UserId: A }, { UserId: B }, { OrganizationArn: ORG }, { OrganizationalUnitArn: OU }] },
                },
            },
        ]);
    });

    it("removes before it adds, and only the difference", async () => {
        const calls = await apply(
            { launchAccounts: [A, B], launchOrganizations: [ORG], public: true },
            { launchAccounts: [B, C], launchOrganizationalUnits: [OU] },
        );
        assert.deepEqual(calls, [
            {
                action: "ModifyImageAttribute",
                input: { ImageId: IMAGE, LaunchPermission: { Remove: [{ Group: "all" }, { UserId: A }, { OrganizationArn: ORG }] } },
            },
            {
                action: "ModifyImageAttribute",
                input: { ImageId: IMAGE, LaunchPermission: { Add: [{ UserId: C }, { OrganizationalUnitArn: OU }] } },
            },
        ]);
    });

    it("makes the image public last, in a call of its own", async () => {
        assert.deepEqual(await apply({}, { launchAccounts: [A], public: true }), [
            { action: "ModifyImageAttribute", input: { ImageId: IMAGE, LaunchPermission: { Add: [{ UserId: A }] } } },
            { action: "ModifyImageAttribute", input: { ImageId: IMAGE, LaunchPermission: { Add: [{ Group: "all" }] } } },
        ]);
        assert.deepEqual(await apply({ public: true }, { public: false }), [
            { action: "ModifyImageAttribute", input: { ImageId: IMAGE, LaunchPermission: { Remove: [{ Group: "all" }] } } },
        ]);
    });

    it("grants snapshot permissions to launch accounts, on every snapshot, before the launch permission", async () => {
        const calls = await apply({}, { launchAccounts: [A], shareSnapshots: true });
        assert.deepEqual(calls, [
            ...SNAPSHOTS.map((id) => ({
                action: "ModifySnapshotAttribute",
                input: { SnapshotId: id, Attribute: "createVolumePermission", CreateVolumePermission: { Add: [{ UserId: A }] } },
            })),
            { action: "ModifyImageAttribute", input: { ImageId: IMAGE, LaunchPermission: { Add: [{ UserId: A }] } } },
        ]);
    });

    it("removes the snapshot permission of a removed account, and of all when shareSnapshots is turned off", async () => {
        assert.deepEqual(await apply({ launchAccounts: [A, B], shareSnapshots: true }, { launchAccounts: [A], shareSnapshots: true }), [
            { action: "ModifyImageAttribute", input: { ImageId: IMAGE, LaunchPermission: { Remove: [{ UserId: B }] } } },
            ...SNAPSHOTS.map((id) => ({
                action: "ModifySnapshotAttribute",
                input: { SnapshotId: id, Attribute: "createVolumePermission", CreateVolumePermission: { Remove: [{ UserId: B }] } },
            })),
        ]);
        assert.deepEqual(await apply({ launchAccounts: [A, B], shareSnapshots: true }, { launchAccounts: [A, B] }), [
            ...SNAPSHOTS.map((id) => ({
                action: "ModifySnapshotAttribute",
                input: { SnapshotId: id, Attribute: "createVolumePermission", CreateVolumePermission: { Remove: [{ UserId: A }, { UserId: B }] } },
            })),
        ]);
    });

    it("sets, moves and clears the deprecation time", async () => {
        assert.deepEqual(await apply({}, { deprecateAt: "2030-01-31T12:00:00+01:00" }), [
            { action: "EnableImageDeprecation", input: { ImageId: IMAGE, DeprecateAt: new Date("2030-01-31T11:00:00Z") } },
        ]);
        assert.deepEqual(await apply({ deprecateAt: "2030-01-31T11:00:00Z" }, { deprecateAt: "2030-02-01T00:00:00Z" }), [
            { action: "EnableImageDeprecation", input: { ImageId: IMAGE, DeprecateAt: new Date("2030-02-01T00:00:00Z") } },
        ]);
        assert.deepEqual(await apply({ deprecateAt: "2030-01-31T11:00:00Z" }, {}), [
            { action: "DisableImageDeprecation", input: { ImageId: IMAGE } },
        ]);
    });

    it("turns deregistration protection on without cooldown, and off", async () => {
        assert.deepEqual(await apply({}, { deregistrationProtection: true }), [
            { action: "EnableImageDeregistrationProtection", input: { ImageId: IMAGE, WithCooldown: false } },
        ]);
        assert.deepEqual(await apply({ deregistrationProtection: true }, { deregistrationProtection: false }), [
            { action: "DisableImageDeregistrationProtection", input: { ImageId: IMAGE } },
        ]);
    });

    it("explains how to lift block public access when EC2 refuses to make the image public", async () => {
        const refusal = awsError(
            "OperationNotPermitted",
            "You can’t publicly share this image because block public access for AMIs is enabled for this account. " +
                "To publicly share the image, you must call the DisableImageBlockPublicAccess API.",
        );
        const err = await rejection(apply({}, { public: true }, () => { throw refusal; }));
        assert.ok(err instanceof GoldenAmiError);
        assert.equal(err.code, "OperationNotPermitted.ImageBlockPublicAccess");
        assert.match(err.message, /making image ami-0123456789abcdef0 in us-east-1 public failed/);
        assert.match(err.message, /aws ec2 disable-image-block-public-access --region/);
        assert.match(err.message, /or set public to false/);
        assert.doesNotMatch(err.message, /deregistration protection/);
    });

    it("wraps other AWS errors with what was being done", async () => {
        const err = await rejection(apply({ launchAccounts: [A, B] }, { launchAccounts: [A] }, () => {
            throw awsError("UnauthorizedOperation", "You are not authorized to perform this operation.");
        }));
        assert.ok(err instanceof GoldenAmiError);
        assert.equal(err.code, "UnauthorizedOperation");
        assert.match(err.message, /removing launch permissions \(222222222222\) from image ami-0123456789abcdef0 in us-east-1 failed/);
        assert.match(err.message, /What to do: the credentials in use lack an EC2 permission/);
    });
});

describe("distribution: readDistribution (stubbed EC2)", () => {
    let stub: { calls: Call[]; restore: () => void } | undefined;
    afterEach(() => {
        stub?.restore();
        stub = undefined;
    });

    const live = (image: Record<string, unknown>, launch: Record<string, unknown>[], volume: Record<string, string[]>): Handler =>
        (action, input) => {
            switch (action) {
                case "DescribeImageAttribute":
                    return { ImageId: IMAGE, LaunchPermissions: launch };
                case "DescribeImages":
                    return { Images: [{ ImageId: IMAGE, ...image }] };
                case "DescribeSnapshotAttribute":
                    return { CreateVolumePermissions: (volume[input.SnapshotId as string] ?? []).map((UserId) => ({ UserId })) };
                default:
                    throw new Error(`unexpected ${action}`);
            }
        };

    it("reads every setting, sorted and normalised", async () => {
        stub = stubbed(
            live(
                { DeprecationTime: "2030-01-01T00:00:00.000Z", DeregistrationProtection: "enabled-without-cooldown" },
                [{ UserId: B }, { Group: "all" }, { UserId: A }, { OrganizationalUnitArn: OU }, { OrganizationArn: ORG }],
                { [SNAPSHOTS[0]]: [B, A], [SNAPSHOTS[1]]: [A, B, C] },
            ),
        );
        const read = await readDistribution(REGION, IMAGE, SNAPSHOTS);
        assert.deepEqual(read, {
            launchAccounts: [A, B],
            launchOrganizations: [ORG],
            launchOrganizationalUnits: [OU],
            public: true,
            shareSnapshots: true,
            deprecateAt: "2030-01-01T00:00:00.000Z",
            deregistrationProtection: true,
        });
        assert.deepEqual(
            distributionDiff(read, {
                launchAccounts: [B, A],
                launchOrganizations: [ORG],
                launchOrganizationalUnits: [OU],
                public: true,
                shareSnapshots: true,
                deprecateAt: "2030-01-01T00:00:00Z",
                deregistrationProtection: true,
            }),
            [],
        );
    });

    it("leaves out what is empty or off, and asks nothing about snapshots without launch accounts", async () => {
        stub = stubbed(live({ DeregistrationProtection: "disabled" }, [], {}));
        assert.deepEqual(await readDistribution(REGION, IMAGE, SNAPSHOTS), {});
        assert.deepEqual(stub.calls.map((c) => c.action).sort(), ["DescribeImageAttribute", "DescribeImages"]);
    });

    it("reads shareSnapshots as off when a snapshot lacks an account, and a cooldown as protection off", async () => {
        stub = stubbed(
            live({ DeregistrationProtection: "disabled-until 2030-01-01T00:00:00.000Z" }, [{ UserId: A }, { UserId: B }], {
                [SNAPSHOTS[0]]: [A, B],
                [SNAPSHOTS[1]]: [A],
            }),
        );
        assert.deepEqual(await readDistribution(REGION, IMAGE, SNAPSHOTS), { launchAccounts: [A, B] });
    });

    it("explains a missing image", async () => {
        stub = stubbed((action) => {
            if (action === "DescribeImages") throw awsError("InvalidAMIID.NotFound", `The image id '[${IMAGE}]' does not exist`);
            return {};
        });
        await assert.rejects(readDistribution(REGION, IMAGE, []), (err: unknown) => {
            assert.ok(err instanceof GoldenAmiError);
            assert.equal(err.code, "InvalidAMIID.NotFound");
            assert.match(err.message, /describing image ami-0123456789abcdef0 in us-east-1 failed/);
            return true;
        });
    });
});
