/**
 * Where golden-ami acts, as data: the settings the AWS provider takes from the stack's `aws:*`
 * configuration (region, profile, assume-role chain, endpoints, default tags, account lists,
 * skip-credentials-validation), read from the `configure` request of the provider process or
 * from the non-secret settings of an explicit provider recorded in a resource's inputs.
 * No I/O: the credential providers and clients that act on them are made in ec2/client.ts.
 */
import { createHash } from "crypto";
import { GoldenAmiError } from "./errors";

/** One role of the assume-role chain (the AWS provider's `assumeRoles` item). */
export interface AssumeRoleSettings {
    roleArn: string;
    sessionName?: string;
    externalId?: string;
    /** Seconds (the AWS provider takes a Go duration, "1h"; converted here). */
    durationSeconds?: number;
    policy?: string;
    policyArns?: string[];
    tags?: Record<string, string>;
    transitiveTagKeys?: string[];
    sourceIdentity?: string;
}

/** The static keys of `aws:accessKey` / `aws:secretKey` / `aws:token`: held in memory, never in state. */
export interface StaticKeys {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
}

export interface AwsSettings {
    region?: string;
    profile?: string;
    sharedConfigFiles?: string[];
    sharedCredentialsFiles?: string[];
    assumeRoles?: AssumeRoleSettings[];
    /** Endpoint URL per service name as the AWS provider spells it (`ec2`, `kms`, `ssm`, `sts`). */
    endpoints?: Record<string, string>;
    defaultTags?: Record<string, string>;
    allowedAccountIds?: string[];
    forbiddenAccountIds?: string[];
    skipCredentialsValidation?: boolean;
    staticKeys?: StaticKeys;
}

/** The session name golden-ami uses when a role of the chain names none. */
export const DEFAULT_SESSION_NAME = "golden-ami";

/**
 * A Go duration (`1h`, `15m`, `1h30m`, `900s`), as the AWS provider's `assumeRoles[].duration`
 * takes it, in seconds; a bare number is seconds.
 */
export function durationSeconds(value: string): number | undefined {
    if (/^\d+$/.test(value)) return Number(value);
    const m = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
    if (!m || value === "") return undefined;
    return Math.round(Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0));
}

/** A configuration value as the engine hands it: structured values arrive as JSON text. */
function structured(key: string, value: unknown): unknown {
    if (typeof value !== "string") return value;
    const t = value.trim();
    if (!(t.startsWith("{") || t.startsWith("["))) return value;
    try {
        return JSON.parse(t);
    } catch {
        throw bad(key, "is not valid JSON");
    }
}

function bad(key: string, problem: string): GoldenAmiError {
    return new GoldenAmiError(
        `golden-ami: the stack configuration ${key} ${problem}. What to do: set it as the AWS provider takes it (see \`pulumi config set --path ${key}...\`), or remove it.`,
        "InvalidAwsConfig",
    );
}

function text(key: string, value: unknown): string | undefined {
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") throw bad(key, "must be a string");
    return value;
}

function list(key: string, value: unknown): string[] | undefined {
    value = structured(key, value);
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value === "string") return [value];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw bad(key, "must be a list of strings");
    return value.length ? (value as string[]) : undefined;
}

function stringMap(key: string, value: unknown): Record<string, string> | undefined {
    value = structured(key, value);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")) {
        throw bad(key, "must be a map of strings");
    }
    return Object.keys(value).length ? (value as Record<string, string>) : undefined;
}

function flag(key: string, value: unknown): boolean | undefined {
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    throw bad(key, "must be true or false");
}

function assumeRoles(key: string, value: unknown): AssumeRoleSettings[] | undefined {
    value = structured(key, value);
    if (value === undefined || value === null) return undefined;
    const items = Array.isArray(value) ? value : [value];
    const roles: AssumeRoleSettings[] = [];
    items.forEach((item, i) => {
        const at = `${key}[${i}]`;
        if (!item || typeof item !== "object") throw bad(at, "must be an object with a roleArn");
        const r = item as Record<string, unknown>;
        const roleArn = text(`${at}.roleArn`, r.roleArn);
        if (!roleArn) return; // the AWS provider skips an item without a role ARN too
        if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn)) throw bad(`${at}.roleArn`, `is not an IAM role ARN (arn:aws:iam::<account>:role/<name>): "${roleArn}"`);
        const duration = text(`${at}.duration`, r.duration);
        const seconds = duration === undefined ? undefined : durationSeconds(duration);
        if (duration !== undefined && (seconds === undefined || seconds < 900 || seconds > 43200)) {
            throw bad(`${at}.duration`, `must be a duration from 15m to 12h (for example "1h"), not "${duration}"`);
        }
        roles.push(clean({
            roleArn,
            sessionName: text(`${at}.sessionName`, r.sessionName),
            externalId: text(`${at}.externalId`, r.externalId),
            durationSeconds: seconds,
            policy: text(`${at}.policy`, r.policy),
            policyArns: list(`${at}.policyArns`, r.policyArns),
            tags: stringMap(`${at}.tags`, r.tags),
            transitiveTagKeys: list(`${at}.transitiveTagKeys`, r.transitiveTagKeys),
            sourceIdentity: text(`${at}.sourceIdentity`, r.sourceIdentity),
        }));
    });
    return roles.length ? roles : undefined;
}

function endpoints(key: string, value: unknown): Record<string, string> | undefined {
    value = structured(key, value);
    if (value === undefined || value === null) return undefined;
    const merged: Record<string, string> = {};
    for (const item of Array.isArray(value) ? value : [value]) {
        if (!item || typeof item !== "object") throw bad(key, "must be a list of { <service>: <url> } objects");
        for (const [service, url] of Object.entries(item as Record<string, unknown>)) {
            if (url === undefined || url === null || url === "") continue;
            if (typeof url !== "string" || !/^https?:\/\//.test(url)) throw bad(`${key}.${service}`, "must be an http(s) URL");
            merged[service] = url;
        }
    }
    return Object.keys(merged).length ? merged : undefined;
}

function accountIds(key: string, value: unknown): string[] | undefined {
    // `pulumi config set --path 'aws:allowedAccountIds[0]' 111122223333` stores a number (leading zeros lost).
    value = structured(key, value);
    if (typeof value === "number") value = [value];
    if (Array.isArray(value)) value = value.map((v) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? String(v).padStart(12, "0") : v));
    const ids = list(key, value);
    for (const id of ids ?? []) if (!/^\d{12}$/.test(id)) throw bad(key, `holds "${id}", which is not a 12-digit account ID`);
    return ids;
}

function clean<T extends object>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * The settings of the stack's `aws:*` configuration, as the AWS provider reads them; `get`
 * returns a configuration value by its full key (`aws:region`). Throws a GoldenAmiError
 * naming the key for a value the AWS provider would refuse too.
 */
export function awsSettingsFromConfig(get: (key: string) => unknown): AwsSettings {
    const k = (name: string) => `aws:${name}`;
    const accessKey = text(k("accessKey"), get(k("accessKey")));
    const secretKey = text(k("secretKey"), get(k("secretKey")));
    if (!!accessKey !== !!secretKey) throw bad(accessKey ? k("secretKey") : k("accessKey"), "is missing (aws:accessKey and aws:secretKey go together)");
    const settings: AwsSettings = clean({
        region: text(k("region"), get(k("region"))),
        profile: text(k("profile"), get(k("profile"))),
        sharedConfigFiles: list(k("sharedConfigFiles"), get(k("sharedConfigFiles"))),
        sharedCredentialsFiles: list(k("sharedCredentialsFiles"), get(k("sharedCredentialsFiles"))),
        assumeRoles: assumeRoles(k("assumeRoles"), get(k("assumeRoles"))),
        endpoints: endpoints(k("endpoints"), get(k("endpoints"))),
        defaultTags: defaultTagsOf(k("defaultTags"), get(k("defaultTags"))),
        allowedAccountIds: accountIds(k("allowedAccountIds"), get(k("allowedAccountIds"))),
        forbiddenAccountIds: accountIds(k("forbiddenAccountIds"), get(k("forbiddenAccountIds"))),
        skipCredentialsValidation: flag(k("skipCredentialsValidation"), get(k("skipCredentialsValidation"))),
        staticKeys: accessKey && secretKey ? clean({ accessKeyId: accessKey, secretAccessKey: secretKey, sessionToken: text(k("token"), get(k("token"))) }) : undefined,
    });
    if (settings.allowedAccountIds && settings.forbiddenAccountIds) {
        throw bad(k("forbiddenAccountIds"), "cannot be set together with aws:allowedAccountIds (the AWS provider refuses both)");
    }
    return settings;
}

/** `aws:defaultTags` is `{ tags: { ... } }`, as in the AWS provider. */
function defaultTagsOf(key: string, value: unknown): Record<string, string> | undefined {
    value = structured(key, value);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw bad(key, "must be an object { tags: { <key>: <value> } }");
    return stringMap(`${key}.tags`, (value as { tags?: unknown }).tags);
}

/** True when the settings change nothing about how clients are made (the SDK's own chain, the environment). */
export function isDefaultIdentity(s: AwsSettings): boolean {
    return !s.profile && !s.sharedConfigFiles && !s.sharedCredentialsFiles && !s.assumeRoles && !s.endpoints && !s.staticKeys;
}

/**
 * A key that tells identities apart in the provider process's client cache (in memory only):
 * the credential and endpoint settings, with the static keys as a hash.
 */
export function identityKey(s: AwsSettings): string {
    if (isDefaultIdentity(s)) return "";
    const { profile, sharedConfigFiles, sharedCredentialsFiles, assumeRoles, endpoints, staticKeys } = s;
    const keys = staticKeys ? createHash("sha256").update(`${staticKeys.accessKeyId}\0${staticKeys.secretAccessKey}\0${staticKeys.sessionToken ?? ""}`).digest("hex").slice(0, 16) : undefined;
    return JSON.stringify({ profile, sharedConfigFiles, sharedCredentialsFiles, assumeRoles, endpoints, keys });
}

/** Why golden-ami must not act as `account` under these settings, or undefined when it may. */
export function accountRefusal(account: string, region: string, s: AwsSettings): string | undefined {
    const as = `the credentials in use act as account ${account} (in ${region})`;
    if (s.forbiddenAccountIds?.includes(account)) {
        return `golden-ami: ${as}, which aws:forbiddenAccountIds forbids (${s.forbiddenAccountIds.join(", ")}); nothing was changed. ` +
            "What to do: select the profile or role of another account (aws:profile, aws:assumeRoles, AWS_PROFILE), or change aws:forbiddenAccountIds.";
    }
    if (s.allowedAccountIds && !s.allowedAccountIds.includes(account)) {
        return `golden-ami: ${as}, but aws:allowedAccountIds allows only ${s.allowedAccountIds.join(", ")}; nothing was changed. ` +
            "What to do: select the profile or role of an allowed account (aws:profile, aws:assumeRoles, AWS_PROFILE), or change aws:allowedAccountIds.";
    }
    return undefined;
}

/**
 * The settings of an explicit `aws.Provider` that may be kept in a resource's state: region,
 * profile name, roles (ARN, session name, duration, policy; no external ID), default tags,
 * the account lists and skipCredentialsValidation. Keys, tokens, endpoints and file paths never are.
 */
export interface ExplicitProviderSettings {
    region?: string;
    profile?: string;
    assumeRoles?: Array<Pick<AssumeRoleSettings, "roleArn" | "sessionName" | "durationSeconds" | "policy" | "policyArns">>;
    defaultTags?: Record<string, string>;
    allowedAccountIds?: string[];
    forbiddenAccountIds?: string[];
    skipCredentialsValidation?: boolean;
}

/** The settings an explicit provider's recorded settings stand for (the rest comes from the environment). */
export function settingsOfExplicit(p: ExplicitProviderSettings): AwsSettings {
    return clean({
        region: p.region,
        profile: p.profile,
        assumeRoles: p.assumeRoles?.length ? p.assumeRoles.map((r) => clean({ ...r })) : undefined,
        defaultTags: p.defaultTags,
        allowedAccountIds: p.allowedAccountIds,
        forbiddenAccountIds: p.forbiddenAccountIds,
        skipCredentialsValidation: p.skipCredentialsValidation,
    });
}

/** Tags with the default tags under them: the resource's own value wins for a key both set. */
export function withDefaultTags<T>(defaults: Record<string, string> | undefined, own: T): T | Record<string, string> {
    // An own value that is not a map (unknown at preview, or a wrong shape check reports) stays as it is.
    if (!defaults || (own !== undefined && (typeof own !== "object" || own === null || Array.isArray(own)))) return own;
    return { ...defaults, ...(own ?? {}) };
}

/** The role a copy into another account acts as (ImageCopy's `roleArn`, GoldenImage's `copyToAccounts`). */
export interface TargetRole {
    roleArn: string;
    sessionName?: string;
    /** The account the role is in (the copy's account): the only account the copy may act in. */
    accountId?: string;
}

/** An IAM role ARN, and the account it is in. */
export const ROLE_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/**
 * The settings of a copy made in another account: `base` (the explicit provider's or the
 * stack's) with the target role assumed last, acting only in the role's account (the base's
 * allowed accounts are the source's, not the target's; its forbidden ones still hold).
 */
export function withTargetRole(base: AwsSettings, role: TargetRole): AwsSettings {
    const accountId = role.accountId ?? ROLE_ARN.exec(role.roleArn)?.[1];
    return clean({
        ...base,
        assumeRoles: [...(base.assumeRoles ?? []), clean({ roleArn: role.roleArn, sessionName: role.sessionName ?? DEFAULT_SESSION_NAME })],
        allowedAccountIds: accountId ? [accountId] : undefined,
    });
}
