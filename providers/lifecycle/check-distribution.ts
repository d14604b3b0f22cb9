/**
 * Preview-time validation of the distribution inputs both image kinds share: each failure
 * names the property (and element) and says what to do.
 */
import { DistributionArgs, parseIsoTime, sameDeprecation } from "../core/distribution";
import { CheckFailure, isUnknown } from "./checks";

const ACCOUNT_ID = /^\d{12}$/;
// Organizations ID formats: o-[a-z0-9]{10,32}, ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}; all partitions.
const ORGANIZATION_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
const OU_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;
/** EC2 refuses a DeprecateAt more than 10 years ahead, and for public images more than 2 years after creation. */
const MAX_DEPRECATION_YEARS = 10;
const MAX_PUBLIC_DEPRECATION_YEARS = 2;

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

