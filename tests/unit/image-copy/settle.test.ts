// The lifecycle's `settle` step (ImageCopy's temporary share of its source): withdrawn when a
// resumed copy is ready, and a failed make whose undoing fails too says both.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ImageCopyInputs, imageCopyKind } from "../../../providers/lifecycle/image-copy";
import { imageProvider } from "../../../providers/lifecycle/image-lifecycle";
import { awsError, FakeClock, rejection } from "../../support/fakes";
import { inputsWith, world } from "./fixture";

describe("ImageCopy provider: settle (the temporary share)", function () {
    let restore: () => void;
    let settled: Array<Record<string, unknown> | undefined>;

    beforeEach(function () {
        ({ restore } = world());
        settled = [];
    });
    afterEach(() => restore());

    function providerWith(over: Partial<typeof imageCopyKind>): pulumi.dynamic.ResourceProvider {
        const settle = async (_inputs: ImageCopyInputs, _step: unknown, olds?: Record<string, unknown>) => {
            settled.push(olds);
        };
        return imageProvider({ ...imageCopyKind, settle, ...over }, { clock: new FakeClock(), timeScale: 1, progress: () => () => undefined });
    }

    it("a resumed copy (its create stopped before it finished) settles with the state it resumes from", async function () {
        const provider = providerWith({});
        const { id, outs } = await provider.create!(inputsWith());
        settled.length = 0;
        const olds = { ...outs, complete: false };
        await provider.update!(id, olds, inputsWith());
        assert.equal(settled.length, 1, "settled once on the resume");
        assert.equal(settled[0]?.imageId, outs.imageId, "with the resumed state");
    });

    it("a make that fails and whose undoing fails too: the error says both", async function () {
        const provider = providerWith({
            make: async () => { throw awsError("InvalidParameterValue", "the copy was refused"); },
            settle: async () => { throw new Error("withdrawing the share of ami-0123456789abcdef0 failed"); },
        });
        const err = await rejection(provider.create!(inputsWith()));
        assert.match(err.message, /the copy was refused/);
        assert.match(err.message, /Undoing what came before it failed too: withdrawing the share of ami-0123456789abcdef0 failed/);
    });
});
