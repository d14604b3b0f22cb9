/**
 * The explicit `aws.Provider` a golden-ami resource acts with (its `provider` or
 * `providers: { aws }` option, else the one its parent passes down), and the settings of it
 * that golden-ami may record in the resource's inputs (`awsProvider`).
 *
 * A provider resource keeps no readable copy of its arguments, but the Node.js SDK makes an
 * Output property for every input of every resource (`transferProperties`), and the engine
 * answers a provider's registration with its inputs as outputs; so `region`, `profile` and the
 * JSON text of `assumeRoles`, `defaultTags`, the account lists and `endpoints` can be read as
 * Outputs. Only non-secret settings are recorded (region, profile name, role ARNs, session
 * names, durations, policies, default tags, account lists). Settings that would have to be
 * stored to be honoured (static keys, endpoints, shared file paths, external IDs) are refused
 * with what to do instead: the provider process reads those from its environment or a profile.
 */
import * as pulumi from "@pulumi/pulumi";
import { AssumeRoleSettings, awsSettingsFromConfig, ExplicitProviderSettings } from "../core/aws-settings";
import { GoldenAmiError } from "../core/errors";

/** A type of the aws package, to ask a parent for the provider it passes to its aws children. */
const AWS_TYPE = "aws:ec2:Image";

/** True for an `aws.Provider` (its package, which the SDK's own provider look-ups use, though its typings hide it). */
function isAwsProvider(value: unknown): value is pulumi.ProviderResource {
    return pulumi.ProviderResource.isInstance(value) && (value as unknown as { getPackage(): string }).getPackage() === "aws";
}

/** The aws provider of these options: `provider`, `providers` (map or list), else the parent's. */
export function awsProviderOf(opts: pulumi.CustomResourceOptions | undefined): pulumi.ProviderResource | undefined {
    if (isAwsProvider(opts?.provider)) return opts!.provider;
    const providers = (opts as pulumi.ComponentResourceOptions | undefined)?.providers;
    const listed = Array.isArray(providers) ? providers.find(isAwsProvider) : providers ? (providers as Record<string, unknown>).aws : undefined;
    if (isAwsProvider(listed)) return listed;
    const inherited = opts?.parent?.getProvider(AWS_TYPE);
    return isAwsProvider(inherited) ? inherited : undefined;
}

/**
 * The options to register a golden-ami resource with: an aws provider is not its provider
 * (a dynamic resource is served by the dynamic-provider host; the SDK would send any `provider`
 * of a custom resource to the engine as the one to call).
 */
export function withoutAwsProvider(opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions | undefined {
    if (!opts || !isAwsProvider(opts.provider)) return opts;
    const { provider: _provider, ...rest } = opts;
    return rest;
}

/** Why an explicit provider's settings cannot be honoured without storing them, or undefined. */
export function unrecordable(name: string, raw: Record<string, unknown>): string | undefined {
    const set = (key: string) => raw[key] !== undefined && raw[key] !== null && raw[key] !== "" && raw[key] !== "null" && raw[key] !== "[]";
    const problems: string[] = [];
    if (raw.hasStaticKeys) problems.push("accessKey/secretKey/token (give the credentials through a profile, `profile`, or the environment of `pulumi`)");
    if (set("endpoints")) problems.push("endpoints (set AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL_STS in the environment of `pulumi` instead)");
    if (set("sharedConfigFiles") || set("sharedCredentialsFiles")) problems.push("sharedConfigFiles/sharedCredentialsFiles (set AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE in the environment instead)");
    if (problems.length === 0) return undefined;
    return `golden-ami: ${name}: the explicit aws provider sets ${problems.join("; ")}. golden-ami never stores keys, endpoints or file paths in state, so it cannot act with these settings; what to do: move them where the provider process reads them, as said.`;
}

/** The recordable settings of an explicit aws provider, as the resource's `awsProvider` input. */
export function explicitSettings(name: string, provider: pulumi.ProviderResource): pulumi.Output<ExplicitProviderSettings> {
    const p = provider as unknown as Record<string, pulumi.Input<unknown> | undefined>;
    const keys = ["region", "profile", "assumeRoles", "defaultTags", "allowedAccountIds", "forbiddenAccountIds", "endpoints", "sharedConfigFiles", "sharedCredentialsFiles", "skipCredentialsValidation"];
    // Only whether static keys are set is read (the keys are secret outputs; their presence is not).
    const hasStaticKeys = pulumi.unsecret(pulumi.all([p.accessKey, p.secretKey, p.token]).apply((values) => values.some((v) => !!v)));
    return pulumi.all([pulumi.all(keys.map((k) => pulumi.output(p[k]))), hasStaticKeys]).apply(([values, statics]) => {
        const raw: Record<string, unknown> = Object.fromEntries(keys.map((k, i) => [k, values[i]]));
        raw.hasStaticKeys = statics;
        const problem = unrecordable(name, raw);
        if (problem) throw new GoldenAmiError(problem, "UnrecordableProviderSettings");
        const parsed = awsSettingsFromConfig((key) => {
            const value = raw[key.replace(/^aws:/, "")];
            return value === "null" ? undefined : value;
        });
        const roles = parsed.assumeRoles?.map((r): ExplicitProviderSettings["assumeRoles"] extends Array<infer R> | undefined ? R : never => {
            const extra = (["externalId", "tags", "transitiveTagKeys", "sourceIdentity"] as Array<keyof AssumeRoleSettings>).filter((k) => r[k] !== undefined);
            if (extra.length) {
                throw new GoldenAmiError(
                    `golden-ami: ${name}: the explicit aws provider's assumeRoles (${r.roleArn}) sets ${extra.join(", ")}, which golden-ami does not store in state. ` +
                        "What to do: put the role in a profile of the shared config file (role_arn, external_id, source_profile) and set the provider's `profile` to it.",
                    "UnrecordableProviderSettings",
                );
            }
            return { roleArn: r.roleArn, sessionName: r.sessionName, durationSeconds: r.durationSeconds, policy: r.policy, policyArns: r.policyArns };
        });
        const settings: ExplicitProviderSettings = {
            region: parsed.region,
            profile: parsed.profile,
            assumeRoles: roles,
            defaultTags: parsed.defaultTags,
            allowedAccountIds: parsed.allowedAccountIds,
            forbiddenAccountIds: parsed.forbiddenAccountIds,
            skipCredentialsValidation: parsed.skipCredentialsValidation || undefined,
        };
        return JSON.parse(JSON.stringify(settings)) as ExplicitProviderSettings;
    });
}
