/**
 * Every golden-ami provider call acts as the AWS provider of its resource would: with the
 * explicit provider's settings its inputs record (`awsProvider`), else the stack's `aws:*`;
 * refused before a change when the account is not allowed; with errors that name the account
 * and region golden-ami acted as. One wrapper, so the image kinds and the builder act alike.
 */
import * as pulumi from "@pulumi/pulumi";
import { AwsSettings, ExplicitProviderSettings, settingsOfExplicit, TargetRole, withTargetRole } from "../core/aws-settings";
import { withIdentity } from "../core/errors";
import { defaultRegion } from "../core/region";
import { actingAs, currentSettings, stackAwsSettings } from "../ec2/client";
import { actingIdentity, ensureAllowedAccount } from "../ec2/identity";

/** The settings of the explicit provider a resource's inputs record under `key` (`awsProvider`), if any. */
function recordedSettings(props: Record<string, unknown>, key = "awsProvider"): AwsSettings | undefined {
    const recorded = props[key] as ExplicitProviderSettings | undefined;
    return recorded && typeof recorded === "object" ? settingsOfExplicit(recorded) : undefined;
}

/** The role of a copy into another account its inputs record (`roleArn`, `roleSessionName`, `accountId`), if any. */
function targetRole(props: Record<string, unknown>): TargetRole | undefined {
    if (typeof props.roleArn !== "string") return undefined;
    return {
        roleArn: props.roleArn,
        ...(typeof props.roleSessionName === "string" ? { sessionName: props.roleSessionName } : {}),
        ...(typeof props.accountId === "string" ? { accountId: props.accountId } : {}),
    };
}

/**
 * The settings a resource acts with: its explicit provider's, else the stack's (undefined); a
 * copy into another account (`roleArn`) assumes that role on top of them.
 */
function explicitSettings(props: Record<string, unknown>): AwsSettings | undefined {
    const explicit = recordedSettings(props);
    const role = targetRole(props);
    return role ? withTargetRole(explicit ?? stackAwsSettings(), role) : explicit;
}

/**
 * Runs `fn` as the owner of a copy's source image (to share it with the copy's account and
 * withdraw the share): the recorded `sourceAwsProvider`, else what the copy's role is assumed
 * on top of (its explicit provider's or the stack's settings), else the stack's.
 */
export function actingAsSource<T>(props: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
    const source = recordedSettings(props, "sourceAwsProvider") ?? (targetRole(props) ? recordedSettings(props) : undefined) ?? stackAwsSettings();
    return actingAs(source, fn);
}

/** Runs one provider call of the resource whose inputs or state are `props`, as said above. */
function acting<T>(props: Record<string, unknown>, doing: string, changes: boolean, fn: () => Promise<T>): Promise<T> {
    return actingAs(explicitSettings(props), async () => {
        const region = (props.region as string | undefined) ?? defaultRegion(currentSettings().region);
        try {
            if (changes) await ensureAllowedAccount(region);
            return await fn();
        } catch (err) {
            throw withIdentity(err, await actingIdentity(region), `${doing} in ${region}`);
        }
    });
}

/** `provider` with each of its calls acting as its resource's AWS provider would (`noun` names it in errors). */
export function actingProvider(noun: string, provider: pulumi.dynamic.ResourceProvider): pulumi.dynamic.ResourceProvider {
    const p = provider;
    return {
        ...p,
        ...(p.check && { check: (olds, news) => actingAs(explicitSettings(news), () => p.check!(olds, news)) }),
        ...(p.create && { create: (inputs) => acting(inputs, `creating ${noun}`, true, () => p.create!(inputs)) }),
        ...(p.read && { read: (id, props) => acting(props ?? {}, `reading ${noun} ${id}`, false, () => p.read!(id, props)) }),
        ...(p.update && { update: (id, olds, news) => acting(news, `updating ${noun} ${id}`, true, () => p.update!(id, olds, news)) }),
        ...(p.delete && { delete: (id, props) => acting(props, `deleting ${noun} ${id}`, true, () => p.delete!(id, props)) }),
    };
}
