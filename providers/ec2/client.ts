/**
 * The one place AWS SDK clients are made, and the only place credentials are chosen.
 *
 * Clients are cached per identity, service and region for the life of the provider process,
 * so every resource of a region shares one connection pool and one retry quota: when the
 * account is throttled, retries back off with jitter and, once many calls of the region fail,
 * stop being spent (the SDK's circuit breaker) instead of each resource hammering the API on
 * its own schedule.
 *
 * Who golden-ami acts as is the AWS provider's choice for the same stack: the settings of the
 * stack's `aws:*` configuration (`configureStack`, from the provider's `configure`) or of an
 * explicit provider (`actingAs`, around one provider call). They are turned into the AWS
 * SDK's own credential providers only (`fromIni` for a profile, `fromTemporaryCredentials`
 * for each role of the chain, `fromNodeProviderChain` otherwise); with no such setting the
 * clients use the SDK's standard chain of the process (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`,
 * `AWS_ENDPOINT_URL`, instance roles, ...). Nothing here is ever passed through resource
 * inputs, so no key, token or endpoint reaches state.
 */
import { AsyncLocalStorage } from "async_hooks";
import { EC2Client, EC2ClientConfig } from "@aws-sdk/client-ec2";
import { KMSClient } from "@aws-sdk/client-kms";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { AwsSettings, DEFAULT_SESSION_NAME, identityKey, isDefaultIdentity } from "../core/aws-settings";

/** Attempts per call, throttling included, before the error reaches our code. */
export const MAX_ATTEMPTS = 10;

type Credentials = NonNullable<EC2ClientConfig["credentials"]>;

interface ClientConfig {
    region: string;
    retryMode: string;
    maxAttempts: number;
    credentials?: Credentials;
    endpoint?: string;
}
type ClientClass<C> = new (config: ClientConfig) => C;

const clients = new Map<string, unknown>();

/** The stack's settings (from `configure`); explicit providers' settings come through `actingAs`. */
let stackSettings: AwsSettings = {};
const scope = new AsyncLocalStorage<AwsSettings>();

/** Records the stack's `aws:*` settings; called once per provider process by `configure`. */
export function configureStack(settings: AwsSettings): void {
    stackSettings = settings;
}

/** Runs `fn` with every client it makes acting with `settings` (an explicit provider's); undefined keeps the stack's. */
export function actingAs<T>(settings: AwsSettings | undefined, fn: () => Promise<T>): Promise<T> {
    return settings ? scope.run(settings, fn) : fn();
}

/** The stack's settings, whatever the current call acts with (a cross-account copy shares its source as the stack). */
export function stackAwsSettings(): AwsSettings {
    return stackSettings;
}

/** The settings the current call acts with. */
export function currentSettings(): AwsSettings {
    return scope.getStore() ?? stackSettings;
}

/**
 * The credentials of `s`, made of the SDK's providers: static keys, else the profile
 * (shared config and credentials files, its own role_arn/source_profile included), else the
 * standard chain; then each role of the assume-role chain in turn, each assumed with the
 * credentials before it. Undefined when the SDK's default chain is all there is.
 */
function credentialsFor(s: AwsSettings, region: string): Credentials | undefined {
    const sts = { region, ...(s.endpoints?.sts ? { endpoint: s.endpoints.sts } : {}) };
    let creds: Credentials | undefined;
    if (s.staticKeys) creds = { ...s.staticKeys };
    else if (s.profile || s.sharedConfigFiles || s.sharedCredentialsFiles) {
        creds = fromIni({
            ...(s.profile ? { profile: s.profile } : {}),
            ...(s.sharedCredentialsFiles ? { filepath: s.sharedCredentialsFiles[0] } : {}),
            ...(s.sharedConfigFiles ? { configFilepath: s.sharedConfigFiles[0] } : {}),
            clientConfig: sts,
        });
    }
    for (const role of s.assumeRoles ?? []) {
        creds = fromTemporaryCredentials({
            masterCredentials: creds ?? fromNodeProviderChain(),
            params: {
                RoleArn: role.roleArn,
                RoleSessionName: role.sessionName ?? DEFAULT_SESSION_NAME,
                ...(role.externalId ? { ExternalId: role.externalId } : {}),
                ...(role.durationSeconds ? { DurationSeconds: role.durationSeconds } : {}),
                ...(role.policy ? { Policy: role.policy } : {}),
                ...(role.policyArns ? { PolicyArns: role.policyArns.map((arn) => ({ arn })) } : {}),
                ...(role.tags ? { Tags: Object.entries(role.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
                ...(role.transitiveTagKeys ? { TransitiveTagKeys: role.transitiveTagKeys } : {}),
                ...(role.sourceIdentity ? { SourceIdentity: role.sourceIdentity } : {}),
            },
            clientConfig: sts,
        });
    }
    return creds;
}

function cachedClient<C>(service: string, ctor: ClientClass<C>, region: string): C {
    const settings = currentSettings();
    const identity = identityKey(settings);
    const key = identity ? `${service}/${region}/${identity}` : `${service}/${region}`;
    let client = clients.get(key) as C | undefined;
    if (!client) {
        // "standard", not "adaptive": adaptive's client-side rate limiter also delays first
        // attempts, and EC2 throttles per action, so a throttled DescribeSnapshots would hold
        // back the CreateImage or CopyImage of every resource of the region (the SDK guide
        // recommends adaptive only for clients of a single resource that tolerate latency).
        const config: ClientConfig = { region, retryMode: "standard", maxAttempts: MAX_ATTEMPTS };
        if (!isDefaultIdentity(settings)) {
            const credentials = credentialsFor(settings, region);
            if (credentials) config.credentials = credentials;
            const endpoint = settings.endpoints?.[service];
            if (endpoint) config.endpoint = endpoint;
        }
        client = new ctor(config);
        clients.set(key, client);
    }
    return client;
}

/** The EC2 client for a region. */
export function ec2Client(region: string): EC2Client {
    return cachedClient("ec2", EC2Client, region);
}

/**
 * The SSM client for a region (public parameters that name base images). Its SDK module is
 * loaded on first use: only the program's base-image look-ups need it, and loading it costs
 * the provider process, which never asks SSM, a noticeable part of its start-up (the bench's
 * start-up part measures it).
 */
export function ssmClient(region: string): SSMClient {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SSMClient: ctor } = require("@aws-sdk/client-ssm") as typeof import("@aws-sdk/client-ssm");
    return cachedClient("ssm", ctor, region);
}

/** The KMS client for a region (grants on the key of a source shared with another account). */
export function kmsClient(region: string): KMSClient {
    return cachedClient("kms", KMSClient, region);
}

/** The STS client for a region (who the credentials act as). */
export function stsClient(region: string): STSClient {
    return cachedClient("sts", STSClient, region);
}

/** Forget cached clients (tests that change the environment between cases). */
export function resetClients(): void {
    clients.clear();
}
