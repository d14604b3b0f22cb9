/**
 * Who golden-ami acts as: the account and ARN of the credentials in use (STS
 * GetCallerIdentity, once per identity and region in the provider process), the account check
 * of aws:allowedAccountIds / aws:forbiddenAccountIds before the first change, and the identity
 * that errors name.
 */
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { accountRefusal, identityKey } from "../core/aws-settings";
import { ActingIdentity, GoldenAmiError } from "../core/errors";
import { currentSettings, stsClient } from "./client";

const identities = new Map<string, Promise<{ account: string; arn?: string }>>();

/** The account (and ARN) the current call's credentials act as; rejects when STS cannot tell. */
export function callerIdentity(region: string): Promise<{ account: string; arn?: string }> {
    const key = `${identityKey(currentSettings())}/${region}`;
    let found = identities.get(key);
    if (!found) {
        found = stsClient(region)
            .send(new GetCallerIdentityCommand({}))
            .then((out) => ({ account: out.Account ?? "", arn: out.Arn }));
        identities.set(key, found);
        found.catch(() => identities.delete(key)); // a failed look is not remembered
    }
    return found;
}

/**
 * Refuses, before anything is changed, credentials whose account aws:allowedAccountIds does not
 * allow or aws:forbiddenAccountIds forbids. Without either list nothing is asked.
 */
export async function ensureAllowedAccount(region: string): Promise<void> {
    const settings = currentSettings();
    if (!settings.allowedAccountIds && !settings.forbiddenAccountIds) return;
    let account: string;
    try {
        account = (await callerIdentity(region)).account;
    } catch (err) {
        throw new GoldenAmiError(
            `golden-ami: cannot check the account against aws:${settings.allowedAccountIds ? "allowedAccountIds" : "forbiddenAccountIds"}: ` +
                `STS GetCallerIdentity failed in ${region} (${(err as Error).message}); nothing was changed. What to do: check the credentials (aws:profile, aws:assumeRoles, AWS_PROFILE).`,
            "AccountCheckFailed",
        );
    }
    const refusal = accountRefusal(account, region, settings);
    if (refusal) throw new GoldenAmiError(refusal, "ForbiddenAccount");
}

/**
 * The identity an error names: the account and ARN when STS answers (never asked under
 * aws:skipCredentialsValidation, for emulators without STS), else the region alone.
 */
export async function actingIdentity(region: string): Promise<ActingIdentity> {
    if (currentSettings().skipCredentialsValidation) return { region };
    try {
        return { region, ...(await callerIdentity(region)) };
    } catch {
        return { region };
    }
}

/** Forget identities looked up (tests). */
export function resetIdentities(): void {
    identities.clear();
}
