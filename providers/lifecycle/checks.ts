/**
 * Input validation for `check` (preview time): each failure names the property and says
 * what to do. Values still unknown during preview (outputs of resources not yet created)
 * are skipped; they are checked again when known.
 */
import * as pulumi from "@pulumi/pulumi";
import { AMI_NAME_PATTERN } from "../core/naming";
import { regionProblem } from "../core/region";

export interface CheckFailure {
    property: string;
    reason: string;
}

export function isUnknown(value: unknown): boolean {
    return value === pulumi.runtime.unknownValue;
}

/** True when any value inside is still unknown. */
export function containsUnknown(value: unknown): boolean {
    if (isUnknown(value)) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}

export const ID_PATTERNS = {
    instance: /^i-([0-9a-f]{8}|[0-9a-f]{17})$/,
    image: /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/,
    snapshot: /^snap-([0-9a-f]{8}|[0-9a-f]{17})$/,
    subnet: /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/,
    "security group": /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/,
};

/** Collects failures; every method ignores undefined (optional) and unknown values. */
export class Checker {
    readonly failures: CheckFailure[] = [];

    fail(property: string, reason: string): void {
        this.failures.push({ property, reason });
    }

    private skip(value: unknown): boolean {
        return value === undefined || value === null || isUnknown(value);
    }

    required(property: string, value: unknown, what: string): boolean {
        if (value === undefined || value === null || value === "") {
            this.fail(property, `${property} is required: ${what}`);
            return false;
        }
        return true;
    }

    string(property: string, value: unknown): value is string {
        if (this.skip(value)) return false;
        if (typeof value !== "string") {
            this.fail(property, `${property} must be a string, not ${typeof value}`);
            return false;
        }
        return true;
    }

    id(property: string, value: unknown, kind: keyof typeof ID_PATTERNS): void {
        if (!this.string(property, value)) return;
        if (!ID_PATTERNS[kind].test(value)) {
            const prefix = { instance: "i-", image: "ami-", snapshot: "snap-", subnet: "subnet-", "security group": "sg-" }[kind];
            this.fail(property, `${property}: "${value}" is not a valid ${kind} ID (${prefix} followed by 8 or 17 lowercase hex digits)`);
        }
    }

    region(property: string, value: unknown): void {
        if (!this.string(property, value)) return;
        const problem = regionProblem(value);
        if (problem) this.fail(property, `${property}: ${problem}`);
    }

    amiName(property: string, value: unknown): void {
        if (!this.string(property, value)) return;
        if (!AMI_NAME_PATTERN.test(value)) {
            this.fail(
                property,
                `${property}: "${value}" is not a valid AMI name: use 3-128 characters of letters, digits and ( ) [ ] space . / - ' @ _`,
            );
        }
    }

    maxLength(property: string, value: unknown, max: number): void {
        if (this.string(property, value) && value.length > max) {
            this.fail(property, `${property} is ${value.length} characters long; the limit is ${max}`);
        }
    }

    boolean(property: string, value: unknown): void {
        if (!this.skip(value) && typeof value !== "boolean") this.fail(property, `${property} must be true or false`);
    }

    positiveNumber(property: string, value: unknown, unit: string): void {
        if (this.skip(value)) return;
        if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
            this.fail(property, `${property} must be a number of ${unit} greater than 0, not ${JSON.stringify(value)}`);
        }
    }

    integerInRange(property: string, value: unknown, min: number, max: number): void {
        if (this.skip(value)) return;
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            this.fail(property, `${property} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
        }
    }

    oneOf(property: string, value: unknown, allowed: readonly string[]): void {
        if (this.skip(value)) return;
        if (typeof value !== "string" || !allowed.includes(value)) {
            this.fail(property, `${property} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, not ${JSON.stringify(value)}`);
        }
    }

    /** EC2 tag rules: at most `maxTags`, keys 1-128 and values 0-256 characters, no `aws:` keys. */
    tags(property: string, value: unknown, maxTags: number): void {
        if (this.skip(value)) return;
        if (typeof value !== "object" || Array.isArray(value)) {
            this.fail(property, `${property} must be a map of tag keys to string values`);
            return;
        }
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length > maxTags) this.fail(property, `${property} has ${entries.length} tags; at most ${maxTags} fit beside golden-ami's own`);
        for (const [k, v] of entries) {
            if (k.length < 1 || k.length > 128) this.fail(`${property}.${k}`, `tag key "${k}" must be 1-128 characters long`);
            if (k.toLowerCase().startsWith("aws:")) this.fail(`${property}.${k}`, `tag key "${k}": keys starting with aws: are reserved by AWS`);
            if (k.toLowerCase().startsWith("golden-ami:")) {
                this.fail(`${property}.${k}`, `tag key "${k}": keys starting with golden-ami: are golden-ami's own marker tags; choose another key`);
            }
            if (!isUnknown(v) && (typeof v !== "string" || v.length > 256)) {
                this.fail(`${property}.${k}`, `tag value of "${k}" must be a string of at most 256 characters`);
            }
        }
    }
}
