// providers/ec2/client.ts: the one client factory and the only place credentials are chosen.
// The credentials are resolved for real through the SDK's own providers: static keys, shared
// config and credentials files written to a temporary directory (fromIni, a profile's own
// role_arn/source_profile included), the environment (the standard chain), and assume-role
// chains whose AssumeRole calls go to a fake STS on 127.0.0.1 that records each request's
// parameters and the access key that signed it. No network beyond the loopback.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { actingAs, configureStack, currentSettings, ec2Client, MAX_ATTEMPTS, resetClients, ssmClient, stsClient } from "../../providers/ec2/client";
import { AwsSettings, DEFAULT_SESSION_NAME } from "../../providers/core/aws-settings";

const REGION = "eu-west-1";
const KEYS = { accessKeyId: "AKIASTATIC", secretAccessKey: "static-secret", sessionToken: "static-token" };

interface StsRequest { params: Record<string, string>; signedBy: string; region: string }

/** A fake STS (AWS query protocol): AssumeRole answers keys named after the call's position. */
async function fakeSts(): Promise<{ url: string; requests: StsRequest[]; close: () => Promise<void> }> {
    const requests: StsRequest[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => { body += chunk; });
        req.on("end", () => {
            const params = Object.fromEntries(new URLSearchParams(body));
            const auth = /Credential=([^/]+)\/\d+\/([^/]+)\/sts\//.exec(String(req.headers.authorization ?? ""));
            requests.push({ params, signedBy: auth?.[1] ?? "", region: auth?.[2] ?? "" });
            const n = requests.length;
            res.setHeader("content-type", "text/xml");
            res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
                `<Credentials><AccessKeyId>ASIAROLE${n}</AccessKeyId><SecretAccessKey>role-secret-${n}</SecretAccessKey>` +
                `<SessionToken>role-token-${n}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>` +
                `<AssumedRoleUser><Arn>${params.RoleArn}/s</Arn><AssumedRoleId>AROA${n}:s</AssumedRoleId></AssumedRoleUser>` +
                `</AssumeRoleResult><ResponseMetadata><RequestId>r${n}</RequestId></ResponseMetadata></AssumeRoleResponse>`);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface ResolvedConfig {
    region: () => Promise<string>;
    retryStrategy: () => Promise<{ mode: string }>;
    maxAttempts: () => Promise<number>;
    credentials: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
    endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
}
const configOf = (client: unknown) => (client as { config: ResolvedConfig }).config;
const keysOf = async (client: unknown) => {
    const c = await configOf(client).credentials();
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
};
const endpointOf = async (client: unknown) => {
    const e = await configOf(client).endpoint?.();
    return e ? `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ""}${e.path}` : undefined;
};

/** Runs `fn` with these environment variables (undefined removes one), then puts them back. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const set = (values: Record<string, string | undefined>) => {
        for (const [k, v] of Object.entries(values)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    };
    set(vars);
    try {
        return await fn();
    } finally {
        set(saved);
    }
}

/** Clean of every variable the SDK's chain reads, so only the settings under test count. */
const NO_AWS_ENV = {
    AWS_PROFILE: undefined, AWS_DEFAULT_PROFILE: undefined, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined, AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_EC2: undefined, AWS_ENDPOINT_URL_STS: undefined,
    AWS_ROLE_ARN: undefined, AWS_WEB_IDENTITY_TOKEN_FILE: undefined, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined, AWS_EC2_METADATA_DISABLED: "true",
};

describe("client factory and credentials (providers/ec2/client.ts)", function () {
    let dir: string;
    let files = 0;
    /** A file of its own per test: the SDK caches shared files by path. */
    const write = (text: string) => {
        const file = path.join(dir, `ini-${++files}`);
        fs.writeFileSync(file, text);
        return file;
    };

    before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "ga-client-")); });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    beforeEach(() => { configureStack({}); resetClients(); });
    afterEach(() => { configureStack({}); resetClients(); });

    it("makes each client with the region, standard retries and MAX_ATTEMPTS, and no endpoint of its own", async function () {
        await withEnv(NO_AWS_ENV, async () => {
            for (const client of [ec2Client(REGION), ssmClient(REGION), stsClient(REGION)]) {
                const config = configOf(client);
                assert.equal(await config.region(), REGION);
                assert.equal((await config.retryStrategy()).mode, "standard");
                assert.equal(await config.maxAttempts(), MAX_ATTEMPTS);
                assert.equal(await endpointOf(client), undefined);
            }
            assert.equal(MAX_ATTEMPTS, 10);
        });
    });

    it("caches one client per service, region and identity", async function () {
        const a = ec2Client(REGION);
        assert.equal(ec2Client(REGION), a);
        assert.notEqual(ec2Client("us-east-1"), a);
        assert.notEqual(stsClient(REGION), a as unknown);
        assert.equal(ssmClient(REGION), ssmClient(REGION));
        const other = { accessKeyId: "AKIAOTHER", secretAccessKey: "other" };
        const first = await actingAs({ staticKeys: KEYS }, async () => ec2Client(REGION));
        const second = await actingAs({ staticKeys: other }, async () => ec2Client(REGION));
        assert.notEqual(first, a);
        assert.notEqual(first, second);
        assert.equal(await actingAs({ staticKeys: { ...KEYS } }, async () => ec2Client(REGION)), first);
        assert.deepEqual(await keysOf(first), KEYS);
        assert.deepEqual(await keysOf(second), { ...other, sessionToken: undefined });
        resetClients();
        assert.notEqual(ec2Client(REGION), a);
    });

    it("acts with the stack's settings, and an explicit provider's inside actingAs only", async function () {
        const stack: AwsSettings = { staticKeys: KEYS };
        const explicit: AwsSettings = { staticKeys: { accessKeyId: "AKIAEXPLICIT", secretAccessKey: "x" } };
        configureStack(stack);
        assert.equal(currentSettings(), stack);
        assert.equal(await actingAs(explicit, async () => currentSettings()), explicit);
        assert.equal(await actingAs(undefined, async () => currentSettings()), stack);
        assert.equal((await keysOf(await actingAs(explicit, async () => ec2Client(REGION)))).accessKeyId, "AKIAEXPLICIT");
        assert.equal((await keysOf(await actingAs(undefined, async () => ec2Client(REGION)))).accessKeyId, "AKIASTATIC");
        assert.equal(currentSettings(), stack);
    });

    it("uses the endpoint of each service it is given, and only that service's", async function () {
        configureStack({ staticKeys: KEYS, endpoints: { ec2: "http://127.0.0.1:4999/ec2", ssm: "http://127.0.0.1:4998" } });
        assert.equal(await endpointOf(ec2Client(REGION)), "http://127.0.0.1:4999/ec2");
        assert.equal(await endpointOf(ssmClient(REGION)), "http://127.0.0.1:4998/");
        assert.equal(await endpointOf(stsClient(REGION)), undefined);
        resetClients();
        configureStack({ staticKeys: KEYS, endpoints: { sts: "http://127.0.0.1:4997" } });
        assert.equal(await endpointOf(stsClient(REGION)), "http://127.0.0.1:4997/");
        assert.equal(await endpointOf(ec2Client(REGION)), undefined);
    });

    it("with endpoints only, the credentials are the standard chain's", async function () {
        await withEnv({ ...NO_AWS_ENV, AWS_ACCESS_KEY_ID: "AKIAFROMENV", AWS_SECRET_ACCESS_KEY: "env-secret" }, async () => {
            configureStack({ endpoints: { ec2: "http://127.0.0.1:4999" } });
            assert.equal((await keysOf(ec2Client(REGION))).accessKeyId, "AKIAFROMENV");
        });
    });

    it("reads a named profile from the given shared credentials file", async function () {
        const credentials = write("[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n" +
            "[build]\naws_access_key_id = AKIABUILD\naws_secret_access_key = build-secret\naws_session_token = build-token\n");
        await withEnv({ ...NO_AWS_ENV, AWS_CONFIG_FILE: write("") }, async () => {
            configureStack({ profile: "build", sharedCredentialsFiles: [credentials, "/nonexistent/second"] });
            assert.deepEqual(await keysOf(ec2Client(REGION)), { accessKeyId: "AKIABUILD", secretAccessKey: "build-secret", sessionToken: "build-token" });
        });
    });

    it("reads the default profile of a shared credentials file given without a profile", async function () {
        const credentials = write("[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n");
        await withEnv({ ...NO_AWS_ENV, AWS_CONFIG_FILE: write("") }, async () => {
            configureStack({ sharedCredentialsFiles: [credentials] });
            assert.equal((await keysOf(ec2Client(REGION))).accessKeyId, "AKIADEFAULT");
        });
    });

    it("reads a profile from the given shared config file", async function () {
        const config = write("[profile ops]\naws_access_key_id = AKIAOPS\naws_secret_access_key = ops-secret\n");
        await withEnv({ ...NO_AWS_ENV, AWS_SHARED_CREDENTIALS_FILE: write("") }, async () => {
            configureStack({ profile: "ops", sharedConfigFiles: [config] });
            assert.deepEqual(await keysOf(ec2Client(REGION)), { accessKeyId: "AKIAOPS", secretAccessKey: "ops-secret", sessionToken: undefined });
        });
    });

    it("reads the default profile of a shared config file given alone", async function () {
        const config = write("[default]\naws_access_key_id = AKIACONFIGDEFAULT\naws_secret_access_key = c\n");
        await withEnv({ ...NO_AWS_ENV, AWS_SHARED_CREDENTIALS_FILE: write("") }, async () => {
            configureStack({ sharedConfigFiles: [config] });
            assert.equal((await keysOf(ec2Client(REGION))).accessKeyId, "AKIACONFIGDEFAULT");
        });
    });

    it("reads a profile named alone from the files the environment names", async function () {
        const credentials = write("[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n[named]\naws_access_key_id = AKIANAMED\naws_secret_access_key = n\n");
        await withEnv({ ...NO_AWS_ENV, AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: write("") }, async () => {
            configureStack({ profile: "named" });
            assert.equal((await keysOf(ec2Client(REGION))).accessKeyId, "AKIANAMED");
        });
    });

    it("prefers static keys to a profile", async function () {
        const credentials = write("[build]\naws_access_key_id = AKIABUILD\naws_secret_access_key = b\n");
        await withEnv({ ...NO_AWS_ENV, AWS_CONFIG_FILE: write("") }, async () => {
            configureStack({ staticKeys: KEYS, profile: "build", sharedCredentialsFiles: [credentials] });
            assert.deepEqual(await keysOf(ec2Client(REGION)), KEYS);
        });
    });

    describe("assume-role chains (a fake STS on the loopback)", function () {
        let sts: Awaited<ReturnType<typeof fakeSts>>;
        beforeEach(async () => { sts = await fakeSts(); });
        afterEach(() => sts.close());

        it("assumes each role of the chain with the credentials before it, every parameter passed", async function () {
            configureStack({
                staticKeys: KEYS,
                endpoints: { sts: sts.url },
                assumeRoles: [
                    {
                        roleArn: "arn:aws:iam::111111111111:role/first",
                        sessionName: "build-session",
                        externalId: "ext-1",
                        durationSeconds: 1800,
                        policy: '{"Version":"2012-10-17"}',
                        policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/Other"],
                        tags: { team: "platform", env: "prod" },
                        transitiveTagKeys: ["team"],
                        sourceIdentity: "alice",
                    },
                    { roleArn: "arn:aws:iam::222222222222:role/second" },
                ],
            });
            const client = ec2Client(REGION);
            assert.deepEqual(await keysOf(client), { accessKeyId: "ASIAROLE2", secretAccessKey: "role-secret-2", sessionToken: "role-token-2" });
            assert.equal(sts.requests.length, 2);
            const [first, second] = sts.requests;
            assert.equal(first.signedBy, "AKIASTATIC");
            assert.equal(first.region, REGION);
            assert.deepEqual(first.params, {
                Action: "AssumeRole",
                Version: "2011-06-15",
                RoleArn: "arn:aws:iam::111111111111:role/first",
                RoleSessionName: "build-session",
                ExternalId: "ext-1",
                DurationSeconds: "1800",
                Policy: '{"Version":"2012-10-17"}',
                "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "PolicyArns.member.2.arn": "arn:aws:iam::aws:policy/Other",
                "Tags.member.1.Key": "team",
                "Tags.member.1.Value": "platform",
                "Tags.member.2.Key": "env",
                "Tags.member.2.Value": "prod",
                "TransitiveTagKeys.member.1": "team",
                SourceIdentity: "alice",
            });
            assert.equal(second.signedBy, "ASIAROLE1");
            assert.deepEqual(second.params, {
                Action: "AssumeRole",
                Version: "2011-06-15",
                RoleArn: "arn:aws:iam::222222222222:role/second",
                RoleSessionName: DEFAULT_SESSION_NAME,
            });
        });

        it("assumes a role with the standard chain's credentials when no keys or profile are set", async function () {
            await withEnv({ ...NO_AWS_ENV, AWS_ACCESS_KEY_ID: "AKIAFROMENV", AWS_SECRET_ACCESS_KEY: "env-secret" }, async () => {
                configureStack({ endpoints: { sts: sts.url }, assumeRoles: [{ roleArn: "arn:aws:iam::111111111111:role/only" }] });
                assert.equal((await keysOf(ec2Client(REGION))).accessKeyId, "ASIAROLE1");
            });
            assert.equal(sts.requests.length, 1);
            assert.equal(sts.requests[0].signedBy, "AKIAFROMENV");
        });

        it("assumes a role with a profile's credentials from the shared files", async function () {
            const credentials = write("[build]\naws_access_key_id = AKIABUILD\naws_secret_access_key = b\n");
            await withEnv({ ...NO_AWS_ENV, AWS_CONFIG_FILE: write("") }, async () => {
                configureStack({ profile: "build", sharedCredentialsFiles: [credentials], endpoints: { sts: sts.url }, assumeRoles: [{ roleArn: "arn:aws:iam::111111111111:role/only" }] });
                assert.equal((await keysOf(ec2Client(REGION))).accessKeyId, "ASIAROLE1");
            });
            assert.equal(sts.requests[0].signedBy, "AKIABUILD");
        });

        it("sends a profile's own role_arn/source_profile to the configured STS endpoint", async function () {
            const config = write("[profile deploy]\nrole_arn = arn:aws:iam::333333333333:role/deploy\nsource_profile = base\n\n" +
                "[profile base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n");
            await withEnv({ ...NO_AWS_ENV, AWS_SHARED_CREDENTIALS_FILE: write("") }, async () => {
                configureStack({ profile: "deploy", sharedConfigFiles: [config], endpoints: { sts: sts.url } });
                assert.equal((await keysOf(ec2Client(REGION))).accessKeyId, "ASIAROLE1");
            });
            assert.equal(sts.requests.length, 1);
            assert.equal(sts.requests[0].signedBy, "AKIABASE");
            assert.equal(sts.requests[0].region, REGION);
            assert.equal(sts.requests[0].params.RoleArn, "arn:aws:iam::333333333333:role/deploy");
        });
    });
});
