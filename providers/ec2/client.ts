/**
 * The one place AWS SDK clients are made.
 *
 * Clients are cached per service and region for the life of the provider process, so every
 * resource of a region shares one connection pool and one adaptive-retry rate limiter: when
 * the account is throttled, all our calls in that region slow down together instead of each
 * resource hammering the API on its own schedule.
 *
 * Endpoints and credentials come only from the SDK's standard chain (`AWS_ENDPOINT_URL`,
 * `AWS_ENDPOINT_URL_EC2`, `AWS_PROFILE`, instance roles, ...) of the process that runs the
 * provider; nothing here is ever passed through resource inputs, so nothing reaches state.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import type { SSMClient } from "@aws-sdk/client-ssm";

/** Attempts per call, throttling included, before the error reaches our code. */
export const MAX_ATTEMPTS = 10;

type ClientClass<C> = new (config: { region: string; retryMode: string; maxAttempts: number }) => C;

const clients = new Map<string, unknown>();

function cachedClient<C>(service: string, ctor: ClientClass<C>, region: string): C {
    const key = `${service}/${region}`;
    let client = clients.get(key) as C | undefined;
    if (!client) {
        // "adaptive" = the standard retry policy plus a client-side token bucket that
        // backs off for every caller once the service answers with throttling errors.
        client = new ctor({ region, retryMode: "adaptive", maxAttempts: MAX_ATTEMPTS });
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

/** Forget cached clients (tests that change the environment between cases). */
export function resetClients(): void {
    clients.clear();
}
