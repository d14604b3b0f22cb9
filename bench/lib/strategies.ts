/**
 * The three ways of waiting for an AMI that the bench compares, each time-compressed by F
 * (every delay divided by F; the emulator's durations are divided by the same F).
 */
import { DescribeImagesCommand, EC2Client, waitUntilImageAvailable } from "@aws-sdk/client-ec2";
import { waitForImage } from "../../providers/ec2/image-wait";

export type StrategyName = "golden-ami" | "fixed-5s" | "sdk-waiter";

export const STRATEGIES: readonly StrategyName[] = ["golden-ami", "fixed-5s", "sdk-waiter"];

export const STRATEGY_NOTES: Record<StrategyName, string> = {
    "golden-ami":
        "waitForImage(region, id, { timeoutMs, timeScale: 1/F }): golden-ami's own strategy: DescribeSnapshots while the snapshots are pending " +
        "(found by description on the first look, then by ID; their progress predicts a window of completion times), DescribeImages to confirm the image",
    "fixed-5s":
        "DescribeImages every 5 s until available (first look 5 s after CreateImage): the fixed-interval baseline the targets are defined against " +
        "(terraform-provider-aws's own waitImageAvailable is a StateChangeConf with Delay 5 s and MinTimeout 3 s, which backs off to 10 s between looks)",
    "sdk-waiter":
        "waitUntilImageAvailable from @aws-sdk/client-ec2 with its defaults minDelay 15 s, maxDelay 120 s, passed as 15/F and 120/F: " +
        "the SDK takes seconds and accepts fractions (it sleeps seconds*1000 ms and only checks > 0), so its own code runs, " +
        "exponential backoff with jitter (first look at once, then random between minDelay and min(minDelay*2^(n-1), maxDelay))",
};

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits with `strategy` until the image is available; resolves when the strategy returns.
 * `client` is a plain EC2 client for the image's region (golden-ami uses its own, from
 * providers/ec2/client.ts, which reads AWS_ENDPOINT_URL). `timeoutS` is in real seconds.
 */
export async function waitWith(strategy: StrategyName, client: EC2Client, region: string, imageId: string, scale: number, timeoutS: number): Promise<void> {
    switch (strategy) {
        case "golden-ami":
            await waitForImage(region, imageId, { timeoutMs: timeoutS * 1000, timeScale: 1 / scale });
            return;
        case "fixed-5s": {
            const deadline = Date.now() + timeoutS * 1000;
            for (;;) {
                await sleep(5_000 / scale);
                const out = await client.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
                const state = out.Images?.[0]?.State;
                if (state === "available") return;
                if (state === "failed") throw new Error(`image ${imageId} failed`);
                if (Date.now() > deadline) throw new Error(`fixed-5s: timed out waiting for ${imageId}`);
            }
        }
        case "sdk-waiter":
            await waitUntilImageAvailable(
                { client, maxWaitTime: timeoutS, minDelay: 15 / scale, maxDelay: 120 / scale },
                { ImageIds: [imageId] },
            );
            return;
    }
}
