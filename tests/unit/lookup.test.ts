// providers/ec2/lookup.ts on the unit tier (stubbed EC2 and SSM clients): the query checks,
// the SSM-parameter path and the search for the most recent match, each error word for word.
// (tests/integration/lookup.test.ts runs the same look-ups against the emulator.)
import * as assert from "node:assert/strict";
import { ssmClient } from "../../providers/ec2/client";
import { BaseImageQuery, lookupBaseImage } from "../../providers/ec2/lookup";
import { awsError, inputsOf, rejection, stubEc2 } from "../support/fakes";

const REGION = "eu-west-1";
const PARAM = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
const ID = "ami-0123456789abcdef0";

/** EC2 answering DescribeImages with `pages` (a search: one page per call, NextToken chained) or `images` by ID; SSM answering `ssm`. */
function stub(options: { pages?: Array<Array<Record<string, unknown>>>; images?: Array<Record<string, unknown>>; ssm?: unknown; ec2Error?: Error }) {
    const ec2 = stubEc2(REGION, (action, input) => {
        if (action !== "DescribeImages") throw new Error(`unexpected ${action}`);
        if (options.ec2Error) throw options.ec2Error;
        if (input.ImageIds) return { Images: options.images ?? [] };
        const page = input.NextToken ? Number(input.NextToken) : 0;
        const pages = options.pages ?? [[]];
        return { Images: pages[page], ...(page + 1 < pages.length ? { NextToken: String(page + 1) } : {}) };
    });
    const ssmCalls: Array<Record<string, unknown>> = [];
    (ssmClient(REGION) as unknown as { send: unknown }).send = async (command: { input: Record<string, unknown> }) => {
        ssmCalls.push(command.input);
        if (options.ssm instanceof Error) throw options.ssm;
        return options.ssm;
    };
    return { ec2, ssmCalls };
}

const lookupError = async (q: unknown) => rejection(lookupBaseImage(q as BaseImageQuery));

describe("lookupBaseImage (providers/ec2/lookup.ts)", function () {
    let restore: (() => void) | undefined;
    afterEach(() => restore?.());

    describe("the query", function () {
        const cases: Array<[string, unknown, string]> = [
            ["no object", undefined, "pass a query object"],
            ["a string", "al2023", "pass a query object"],
            ["no region", { ssmParameter: PARAM }, 'region is required, e.g. "us-east-1"'],
            ["an empty region", { region: "", ssmParameter: PARAM }, 'region is required, e.g. "us-east-1"'],
            ["a parameter with owners", { region: REGION, ssmParameter: PARAM, owners: ["amazon"] }, "give either ssmParameter or owners + namePattern, not both; ssmParameter names one image, owners + namePattern search for the most recent match"],
            ["a parameter with a name", { region: REGION, ssmParameter: PARAM, namePattern: "al2023-*" }, "give either ssmParameter or owners + namePattern, not both; ssmParameter names one image, owners + namePattern search for the most recent match"],
            ["nothing to look for", { region: REGION }, "give either ssmParameter (e.g. /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64) or owners + namePattern"],
            ["an empty parameter, empty owners and name", { region: REGION, ssmParameter: "", owners: [], namePattern: "" }, "give either ssmParameter (e.g. /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64) or owners + namePattern"],
            ["a name without owners", { region: REGION, namePattern: "al2023-*" }, 'namePattern "al2023-*" needs owners too, e.g. ["amazon"], ["aws-marketplace"] or ["self"]'],
            ["owners without a name", { region: REGION, owners: ["amazon", "self"] }, 'owners [amazon, self] need a namePattern too, e.g. "al2023-ami-2023.*-x86_64"'],
            ["owners not a list", { region: REGION, owners: "amazon", namePattern: "al2023-*" }, 'namePattern "al2023-*" needs owners too, e.g. ["amazon"], ["aws-marketplace"] or ["self"]'],
        ];
        for (const [what, q, message] of cases) {
            it(`${what}: refused before any call`, async function () {
                const s = stub({});
                restore = s.ec2.restore;
                const err = await lookupError(q);
                assert.equal(err.message, `golden-ami: base image lookup: ${message}`);
                assert.equal((err as { code?: string }).code, "InvalidBaseImageQuery");
                assert.equal(s.ec2.calls.length + s.ssmCalls.length, 0);
            });
        }
    });

    describe("an SSM parameter", function () {
        const image = { ImageId: ID, Name: "al2023-ami-2023.6", CreationDate: "2026-01-01T00:00:00.000Z", OwnerId: "137112412989", Architecture: "x86_64", Description: "Amazon Linux 2023", ProductCodes: [{ ProductCodeId: "pc-1" }] };

        it("the image it names, described with deprecated ones included", async function () {
            const s = stub({ ssm: { Parameter: { Value: ` ${ID}\n` } }, images: [{ ImageId: "ami-0000000000000000f" }, image] });
            restore = s.ec2.restore;
            assert.deepEqual(await lookupBaseImage({ region: REGION, ssmParameter: PARAM, architecture: "x86_64", productCode: "pc-1" }), {
                imageId: ID, name: "al2023-ami-2023.6", creationDate: "2026-01-01T00:00:00.000Z", ownerId: "137112412989", architecture: "x86_64", description: "Amazon Linux 2023",
            });
            assert.deepEqual(s.ssmCalls, [{ Name: PARAM }]);
            assert.deepEqual(inputsOf(s.ec2.calls, "DescribeImages"), [{ ImageIds: [ID], IncludeDeprecated: true }]);
        });

        it("an image without name, date, owner, architecture or description gives empty strings and no optional keys", async function () {
            const s = stub({ ssm: { Parameter: { Value: ID } }, images: [{ ImageId: ID }] });
            restore = s.ec2.restore;
            assert.deepEqual(await lookupBaseImage({ region: REGION, ssmParameter: PARAM }), { imageId: ID, name: "", creationDate: "", ownerId: "" });
        });

        it("a parameter that cannot be read names it and the region", async function () {
            const s = stub({ ssm: awsError("ParameterNotFound", "Parameter not found.") });
            restore = s.ec2.restore;
            const err = await lookupError({ region: REGION, ssmParameter: PARAM });
            assert.match(err.message, new RegExp(`^golden-ami: resolving SSM parameter ${PARAM} in ${REGION} failed: ParameterNotFound: Parameter not found\\.`));
        });

        for (const [what, answer, shown] of [["not an AMI ID", { Parameter: { Value: "ami-xyz" } }, '"ami-xyz"'], ["no parameter", {}, '""'], ["a parameter without a value", { Parameter: { Name: PARAM } }, '""']] as const) {
            it(`a parameter holding ${what}: NotAnImageParameter`, async function () {
                const s = stub({ ssm: answer });
                restore = s.ec2.restore;
                const err = await lookupError({ region: REGION, ssmParameter: PARAM });
                assert.equal((err as { code?: string }).code, "NotAnImageParameter");
                assert.equal(
                    err.message,
                    `golden-ami: base image lookup: SSM parameter ${PARAM} in ${REGION} holds ${shown}, not an AMI ID; choose a parameter that names an AMI (e.g. under /aws/service/ami-amazon-linux-latest/)`,
                );
                assert.equal(s.ec2.calls.length, 0);
            });
        }

        it("IDs of 8 and 17 hex digits are AMI IDs; 7, 18 and upper case are not", async function () {
            for (const [value, ok] of [["ami-01234567", true], ["ami-0123456789abcdef0", true], ["ami-0123456", false], ["ami-0123456789abcdef01", false], ["ami-0123456789ABCDEF0", false], [`x${ID}`, false], [`${ID}x`, false]] as const) {
                const s = stub({ ssm: { Parameter: { Value: value } }, images: [{ ImageId: value }] });
                restore = s.ec2.restore;
                if (ok) assert.equal((await lookupBaseImage({ region: REGION, ssmParameter: PARAM })).imageId, value);
                else assert.equal(((await lookupError({ region: REGION, ssmParameter: PARAM })) as { code?: string }).code, "NotAnImageParameter", value);
            }
        });

        it("a named image EC2 does not describe, or that fails to describe", async function () {
            let s = stub({ ssm: { Parameter: { Value: ID } }, images: [{ ImageId: "ami-0000000000000000f" }] });
            restore = s.ec2.restore;
            let err = await lookupError({ region: REGION, ssmParameter: PARAM });
            assert.equal((err as { code?: string }).code, "InvalidAMIID.NotFound");
            assert.equal(err.message, `golden-ami: base image lookup: SSM parameter ${PARAM} names ${ID}, which does not exist in ${REGION}; check the parameter and the region`);
            s = stub({ ssm: { Parameter: { Value: ID } }, ec2Error: awsError("UnauthorizedOperation", "You are not authorized to perform this operation.") });
            restore = s.ec2.restore;
            err = await lookupError({ region: REGION, ssmParameter: PARAM });
            assert.match(err.message, new RegExp(`^golden-ami: describing image ${ID} \\(from SSM parameter ${PARAM}\\) in ${REGION} failed: UnauthorizedOperation: `));
        });

        it("an architecture or product code the image does not have", async function () {
            let s = stub({ ssm: { Parameter: { Value: ID } }, images: [image] });
            restore = s.ec2.restore;
            let err = await lookupError({ region: REGION, ssmParameter: PARAM, architecture: "arm64" });
            assert.equal((err as { code?: string }).code, "ArchitectureMismatch");
            assert.equal(err.message, `golden-ami: base image lookup: SSM parameter ${PARAM} names ${ID}, whose architecture is x86_64, not arm64; choose the parameter for that architecture or change architecture`);
            s = stub({ ssm: { Parameter: { Value: ID } }, images: [{ ImageId: ID }] });
            restore = s.ec2.restore;
            err = await lookupError({ region: REGION, ssmParameter: PARAM, architecture: "arm64" });
            assert.match(err.message, /whose architecture is unknown, not arm64/);
            err = await lookupError({ region: REGION, ssmParameter: PARAM, productCode: "pc-2" });
            assert.equal((err as { code?: string }).code, "ProductCodeMismatch");
            assert.equal(err.message, `golden-ami: base image lookup: SSM parameter ${PARAM} names ${ID}, which does not carry product code pc-2`);
            s = stub({ ssm: { Parameter: { Value: ID } }, images: [image] });
            restore = s.ec2.restore;
            assert.equal(((await lookupError({ region: REGION, ssmParameter: PARAM, productCode: "pc-2" })) as { code?: string }).code, "ProductCodeMismatch");
        });
    });

    describe("a search", function () {
        const q: BaseImageQuery = { region: REGION, owners: ["amazon"], namePattern: "al2023-ami-*" };

        it("asks for available images by name (architecture and product code when given), 1000 a page, deprecated excluded unless asked", async function () {
            let s = stub({ pages: [[{ ImageId: ID, CreationDate: "2026-01-01T00:00:00.000Z" }]] });
            restore = s.ec2.restore;
            await lookupBaseImage(q);
            assert.deepEqual(inputsOf(s.ec2.calls, "DescribeImages"), [
                { Owners: ["amazon"], Filters: [{ Name: "name", Values: ["al2023-ami-*"] }, { Name: "state", Values: ["available"] }], IncludeDeprecated: false, MaxResults: 1000, NextToken: undefined },
            ]);
            s = stub({ pages: [[{ ImageId: ID, CreationDate: "2026-01-01T00:00:00.000Z" }]] });
            restore = s.ec2.restore;
            await lookupBaseImage({ ...q, architecture: "arm64", productCode: "pc-1", includeDeprecated: true });
            assert.deepEqual(inputsOf(s.ec2.calls, "DescribeImages")[0].Filters, [
                { Name: "name", Values: ["al2023-ami-*"] }, { Name: "state", Values: ["available"] }, { Name: "architecture", Values: ["arm64"] }, { Name: "product-code", Values: ["pc-1"] },
            ]);
            assert.equal(inputsOf(s.ec2.calls, "DescribeImages")[0].IncludeDeprecated, true);
        });

        it("the most recent over every page; an image without a (valid) date loses to any dated one", async function () {
            const s = stub({
                pages: [
                    [{ ImageId: "ami-00000000000000001" }, { ImageId: "ami-00000000000000002", CreationDate: "2026-01-02T00:00:00.000Z", Name: "b" }],
                    [{ ImageId: "ami-00000000000000003", CreationDate: "2026-01-03T00:00:00.000Z", Name: "a" }, { ImageId: "ami-00000000000000004", CreationDate: "not a date", Name: "z" }],
                    [{ ImageId: "ami-00000000000000005", CreationDate: "2026-01-01T00:00:00.000Z", Name: "zz" }],
                ],
            });
            restore = s.ec2.restore;
            assert.equal((await lookupBaseImage(q)).imageId, "ami-00000000000000003");
            assert.equal(inputsOf(s.ec2.calls, "DescribeImages").length, 3);
        });

        it("ties go to the greater name, then the greater ID, whatever the order", async function () {
            const at = "2026-01-01T00:00:00.000Z";
            const tied = [
                { ImageId: "ami-00000000000000002", CreationDate: at, Name: "b" },
                { ImageId: "ami-00000000000000001", CreationDate: at, Name: "b" },
                { ImageId: "ami-00000000000000009", CreationDate: at, Name: "a" },
                { ImageId: "ami-00000000000000008", CreationDate: at },
            ];
            for (const order of [tied, [...tied].reverse(), [tied[1], tied[3], tied[0], tied[2]]]) {
                restore = stub({ pages: [order] }).ec2.restore;
                assert.equal((await lookupBaseImage(q)).imageId, "ami-00000000000000002", JSON.stringify(order.map((i) => i.ImageId)));
            }
            const undated = [{ ImageId: "ami-00000000000000001" }, { ImageId: "ami-00000000000000003" }, { ImageId: "ami-00000000000000002" }];
            restore = stub({ pages: [undated] }).ec2.restore;
            assert.equal((await lookupBaseImage(q)).imageId, "ami-00000000000000003", "undated images tie too");
            const named = [{ ImageId: "ami-00000000000000009", CreationDate: at }, { ImageId: "ami-00000000000000001", CreationDate: at, Name: "Amazon" }];
            restore = stub({ pages: [named] }).ec2.restore;
            assert.equal((await lookupBaseImage(q)).imageId, "ami-00000000000000001", "any name is greater than none");
        });

        it("nothing found: NoMatchingImage with the query, and the deprecated hint only when they were excluded", async function () {
            restore = stub({ pages: [[], []] }).ec2.restore;
            let err = await lookupError({ ...q, owners: ["amazon", "self"], architecture: "arm64", productCode: "pc-1" });
            assert.equal((err as { code?: string }).code, "NoMatchingImage");
            assert.equal(
                err.message,
                `golden-ami: base image lookup: no available image matches owners [amazon, self], name "al2023-ami-*", architecture arm64, product code pc-1, in ${REGION} (deprecated images excluded). ` +
                    "What to do: check the owners (account IDs or amazon / aws-marketplace / self), the name pattern (* matches any characters; names are case-sensitive), " +
                    "the architecture, the product code and the region, or set includeDeprecated to true",
            );
            restore = stub({ pages: [[]] }).ec2.restore;
            err = await lookupError({ ...q, includeDeprecated: true });
            assert.equal(
                err.message,
                `golden-ami: base image lookup: no available image matches owners [amazon], name "al2023-ami-*", in ${REGION}. ` +
                    "What to do: check the owners (account IDs or amazon / aws-marketplace / self), the name pattern (* matches any characters; names are case-sensitive), " +
                    "the architecture, the product code and the region",
            );
        });

        it("a failed search names the query", async function () {
            restore = stub({ ec2Error: awsError("UnauthorizedOperation", "You are not authorized to perform this operation.") }).ec2.restore;
            const err = await lookupError(q);
            assert.match(err.message, new RegExp(`^golden-ami: searching for the base image \\(owners \\[amazon\\], name "al2023-ami-\\*", in ${REGION}\\) failed: UnauthorizedOperation: `));
        });
    });
});
