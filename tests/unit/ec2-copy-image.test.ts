// providers/ec2/copy-image.ts on its own: the stale-ClientToken chain (its limit and message),
// the visibility grace of a fresh copy, and which DescribeImages errors end the copy.
import * as assert from "node:assert/strict";
import { copyClientToken } from "../../providers/core/naming";
import { GoldenAmiError } from "../../providers/core/errors";
import { copyImage, CopyRequest } from "../../providers/ec2/copy-image";
import { awsError, FakeClock, inputsOf, rejection, stubEc2 } from "../support/fakes";

const REGION = "eu-west-1";
const COPY: CopyRequest = {
    sourceImageId: "ami-0source00000000001",
    sourceRegion: "us-east-1",
    name: "golden-copy",
    encrypted: false,
    copyImageTags: false,
    imageTags: { team: "a" },
    snapshotTags: {},
};

/** A CopyImage that answers a new ID per token; `look(id, n)` is DescribeImages' answer for it (n: looks at it so far). */
function copyStub(look: (imageId: string, n: number) => unknown) {
    const ids = new Map<string, string>();
    const looks = new Map<string, number>();
    return stubEc2(REGION, (action, input) => {
        if (action === "CopyImage") {
            if (!ids.has(input.ClientToken)) ids.set(input.ClientToken, `ami-0copy${String(ids.size + 1).padStart(12, "0")}`);
            return { ImageId: ids.get(input.ClientToken) };
        }
        if (action === "DescribeImages") {
            const id = input.ImageIds[0] as string;
            const n = (looks.get(id) ?? 0) + 1;
            looks.set(id, n);
            return look(id, n);
        }
        throw new Error(`unexpected ${action}`);
    });
}

describe("copyImage (providers/ec2/copy-image.ts)", function () {
    let restore: (() => void) | undefined;
    afterEach(() => restore?.());

    it("gives up after five stale ClientToken answers, naming every stale image", async function () {
        const stub = copyStub((id) => ({ Images: [{ ImageId: id, State: "deregistered" }] }));
        restore = stub.restore;
        const clock = new FakeClock();
        const start = clock.now();
        const err = await rejection(copyImage(REGION, COPY, { clock }));
        const copies = inputsOf(stub.calls, "CopyImage");
        assert.equal(copies.length, 5, "five tokens tried, not a sixth");
        assert.ok(clock.now() - start < 5_000, `a deregistered answer is stale at once, without waiting out the grace (${clock.now() - start} ms)`);
        assert.ok(err instanceof GoldenAmiError);
        assert.equal((err as GoldenAmiError).code, "StaleClientToken");
        const ids = [1, 2, 3, 4, 5].map((n) => `ami-0copy${String(n).padStart(12, "0")}`);
        assert.equal(
            err.message,
            `golden-ami: CopyImage in ${REGION} kept answering with images that no longer exist (${ids.join(", ")}). What to do: run \`pulumi up\` again later.`,
        );
    });

    it("the next token of the chain is salted with the stale IDs so far", async function () {
        const stub = copyStub((id) => ({ Images: [{ ImageId: id, State: id.endsWith("3") ? "available" : "deregistered" }] }));
        restore = stub.restore;
        const id = await copyImage(REGION, COPY, { clock: new FakeClock() });
        assert.equal(id, "ami-0copy000000000003");
        const tokens = inputsOf(stub.calls, "CopyImage").map((i) => i.ClientToken);
        const { ClientToken: _t, ...request } = inputsOf(stub.calls, "CopyImage")[0];
        assert.deepEqual(tokens, [
            copyClientToken({ region: REGION, request }),
            copyClientToken({ region: REGION, request, after: ["ami-0copy000000000001"] }),
            copyClientToken({ region: REGION, request, after: ["ami-0copy000000000001", "ami-0copy000000000002"] }),
        ]);
    });

    it("a copy not visible for its grace counts as stale; one visible within it is the copy", async function () {
        // The first copy never appears; the second appears at its third look.
        const stub = copyStub((id, n) => ({ Images: id.endsWith("1") || n < 3 ? [] : [{ ImageId: id, State: "pending" }] }));
        restore = stub.restore;
        const clock = new FakeClock();
        const start = clock.now();
        const id = await copyImage(REGION, COPY, { clock });
        assert.equal(id, "ami-0copy000000000002");
        assert.equal(inputsOf(stub.calls, "CopyImage").length, 2);
        const firstLooks = inputsOf(stub.calls, "DescribeImages").filter((i) => i.ImageIds[0].endsWith("1")).length;
        assert.ok(firstLooks >= 2, `looked again within the grace (${firstLooks} looks)`);
        assert.ok(clock.now() - start >= 5_000, "waited out the grace of the invisible copy");
    });

    it("InvalidAMIID.NotFound from a look at a fresh copy is waited out, not a stale answer", async function () {
        const stub = copyStub((id, n) => {
            if (n === 1) throw awsError("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
            return { Images: [{ ImageId: id, State: "available" }] };
        });
        restore = stub.restore;
        assert.equal(await copyImage(REGION, COPY, { clock: new FakeClock() }), "ami-0copy000000000001");
        assert.equal(inputsOf(stub.calls, "CopyImage").length, 1);
    });

    it("any other error of the look ends the copy with that error", async function () {
        const denied = awsError("UnauthorizedOperation", "You are not authorized to perform this operation.");
        const stub = copyStub(() => {
            throw denied;
        });
        restore = stub.restore;
        const err = await rejection(copyImage(REGION, COPY, { clock: new FakeClock() }));
        assert.equal(err, denied);
        assert.equal(inputsOf(stub.calls, "CopyImage").length, 1, "no second token for an error that says nothing of the copy");
    });

    it("a throttled CopyImage is retried without saying it waits for a copy slot", async function () {
        let throttled = false;
        const stub = stubEc2(REGION, (action, input) => {
            if (action === "CopyImage") {
                if (!throttled) {
                    throttled = true;
                    throw awsError("RequestLimitExceeded", "Request limit exceeded.");
                }
                return { ImageId: "ami-0copy000000000001" };
            }
            if (action === "DescribeImages") return { Images: [{ ImageId: input.ImageIds[0], State: "available" }] };
            throw new Error(`unexpected ${action}`);
        });
        restore = stub.restore;
        const lines: string[] = [];
        assert.equal(await copyImage(REGION, COPY, { clock: new FakeClock(), progress: (m) => lines.push(m), random: () => 0.5 }), "ami-0copy000000000001");
        assert.equal(inputsOf(stub.calls, "CopyImage").length, 2);
        assert.deepEqual(lines.filter((l) => l.includes("copy slot")), []);
    });
});
