/**
 * Finds a base image: an AMI named by an SSM public parameter, or the most recent AMI that
 * matches an owner + name search (Amazon-provided, Marketplace, or your own).
 *
 * Plain async code, with no Pulumi in it: the program-side `baseImage()` component calls it,
 * and so can scripts and other providers.
 */
import { DescribeImagesCommand, DescribeImagesRequest, Filter, Image, paginateDescribeImages } from "@aws-sdk/client-ec2";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import { ec2Client, ssmClient } from "./client";
import { explainAwsError, GoldenAmiError } from "../core/errors";

/**
 * What base image to look for: either `ssmParameter`, or `owners` + `namePattern` (optionally
 * narrowed by `architecture` and `productCode`).
 */
export interface BaseImageQuery {
    /** Region to look in; default: the `aws:region` stack config / AWS_REGION. (The component passes it.) */
    region: string;
    /**
     * An SSM public parameter naming an AMI, e.g.
     * `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64` (resolved with SSM GetParameter).
     * Not combined with `owners`/`namePattern`.
     */
    ssmParameter?: string;
    /** Owner account IDs or aliases (`amazon`, `aws-marketplace`, `self`). Required with `namePattern`. */
    owners?: string[];
    /** Name pattern with `*` wildcards, e.g. `"al2023-ami-2023.*-x86_64"`. Required with `owners`. */
    namePattern?: string;
    /**
     * `x86_64` | `arm64` | `i386` | `x86_64_mac` | `arm64_mac`. Narrows a search; with
     * `ssmParameter`, the image the parameter names must have this architecture.
     */
    architecture?: string;
    /** Marketplace product code. Narrows a search; with `ssmParameter`, the image must carry it. */
    productCode?: string;
    /** Also include deprecated images in a search (default false). An SSM parameter's image is taken as it is. */
    includeDeprecated?: boolean;
}

/** The image found. */
export interface BaseImage {
    /** The AMI ID, e.g. `ami-0123456789abcdef0`. */
    imageId: string;
    /** The AMI name ("" if the image has none). */
    name: string;
    /** When the image was created (ISO 8601, as EC2 reports it). */
    creationDate: string;
    /** The owner's account ID. */
    ownerId: string;
    /** `x86_64`, `arm64`, ... */
    architecture?: string;
    /** The image's description, if it has one. */
    description?: string;
}

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
/** Largest DescribeImages page EC2 allows: fewest calls for broad patterns. */
const PAGE_SIZE = 1000;

function fail(message: string, code = "InvalidBaseImageQuery"): never {
    throw new GoldenAmiError(`golden-ami: base image lookup: ${message}`, code);
}

/** The query in words, for errors: `owners [amazon], name "amzn2-*", architecture x86_64, in us-east-1`. */
function describeQuery(q: BaseImageQuery): string {
    const parts: string[] = [];
    if (q.ssmParameter) parts.push(`SSM parameter ${q.ssmParameter}`);
    if (q.owners?.length) parts.push(`owners [${q.owners.join(", ")}]`);
    if (q.namePattern) parts.push(`name "${q.namePattern}"`);
    if (q.architecture) parts.push(`architecture ${q.architecture}`);
    if (q.productCode) parts.push(`product code ${q.productCode}`);
    return `${parts.join(", ")}, in ${q.region}`;
}

function toBaseImage(image: Image): BaseImage {
    const result: BaseImage = {
        imageId: image.ImageId ?? "",
        name: image.Name ?? "",
        creationDate: image.CreationDate ?? "",
        ownerId: image.OwnerId ?? "",
    };
    if (image.Architecture) result.architecture = image.Architecture;
    if (image.Description) result.description = image.Description;
    return result;
}

function validate(q: BaseImageQuery): void {
    if (!q || typeof q !== "object") fail("pass a query object");
    if (typeof q.region !== "string" || q.region === "") fail("region is required, e.g. \"us-east-1\"");
    const hasOwners = Array.isArray(q.owners) && q.owners.length > 0;
    const hasName = typeof q.namePattern === "string" && q.namePattern !== "";
    if (q.ssmParameter !== undefined && q.ssmParameter !== "") {
        if (hasOwners || hasName) {
            fail(
                "give either ssmParameter or owners + namePattern, not both; ssmParameter names one image, " +
                    "owners + namePattern search for the most recent match",
            );
        }
        return;
    }
    if (!hasOwners && !hasName) {
        fail("give either ssmParameter (e.g. /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64) or owners + namePattern");
    }
    if (!hasOwners) fail(`namePattern "${q.namePattern}" needs owners too, e.g. ["amazon"], ["aws-marketplace"] or ["self"]`);
    if (!hasName) fail(`owners [${q.owners!.join(", ")}] need a namePattern too, e.g. "al2023-ami-2023.*-x86_64"`);
}

async function fromSsmParameter(q: BaseImageQuery): Promise<BaseImage> {
    const name = q.ssmParameter!;
    const answer = await ssmClient(q.region)
        .send(new GetParameterCommand({ Name: name }))
        .catch((err: unknown) => {
            throw explainAwsError(err, `resolving SSM parameter ${name} in ${q.region}`);
        });
    const value = answer.Parameter?.Value?.trim() ?? "";
    if (!AMI_ID.test(value)) {
        fail(
            `SSM parameter ${name} in ${q.region} holds ${JSON.stringify(value)}, not an AMI ID; ` +
                "choose a parameter that names an AMI (e.g. under /aws/service/ami-amazon-linux-latest/)",
            "NotAnImageParameter",
        );
    }
    const described = await ec2Client(q.region)
        .send(new DescribeImagesCommand({ ImageIds: [value], IncludeDeprecated: true }))
        .catch((err: unknown) => {
            throw explainAwsError(err, `describing image ${value} (from SSM parameter ${name}) in ${q.region}`);
        });
    const image = described.Images?.find((i) => i.ImageId === value);
    if (!image) {
        fail(`SSM parameter ${name} names ${value}, which does not exist in ${q.region}; check the parameter and the region`, "InvalidAMIID.NotFound");
    }
    // The parameter chose the image; architecture and product code can only confirm it.
    if (q.architecture && image.Architecture !== q.architecture) {
        fail(
            `SSM parameter ${name} names ${value}, whose architecture is ${image.Architecture ?? "unknown"}, not ${q.architecture}; ` +
                "choose the parameter for that architecture or change architecture",
            "ArchitectureMismatch",
        );
    }
    if (q.productCode && !(image.ProductCodes ?? []).some((p) => p.ProductCodeId === q.productCode)) {
        fail(`SSM parameter ${name} names ${value}, which does not carry product code ${q.productCode}`, "ProductCodeMismatch");
    }
    return toBaseImage(image);
}

async function fromSearch(q: BaseImageQuery): Promise<BaseImage> {
    const filters: Filter[] = [
        { Name: "name", Values: [q.namePattern!] },
        { Name: "state", Values: ["available"] },
    ];
    if (q.architecture) filters.push({ Name: "architecture", Values: [q.architecture] });
    if (q.productCode) filters.push({ Name: "product-code", Values: [q.productCode] });
    const input: DescribeImagesRequest = { Owners: q.owners, Filters: filters, IncludeDeprecated: q.includeDeprecated === true };

    let best: Image | undefined;
    let bestAt = -Infinity;
    try {
        for await (const page of paginateDescribeImages({ client: ec2Client(q.region), pageSize: PAGE_SIZE }, input)) {
            for (const image of page.Images ?? []) {
                const at = image.CreationDate ? Date.parse(image.CreationDate) : NaN;
                const time = Number.isNaN(at) ? -Infinity : at;
                // Ties (same second) go to the greater name, then ID, so the answer never depends on page order.
                if (
                    !best || time > bestAt ||
                    (time === bestAt && ((image.Name ?? "") > (best.Name ?? "") ||
                        ((image.Name ?? "") === (best.Name ?? "") && (image.ImageId ?? "") > (best.ImageId ?? ""))))
                ) {
                    best = image;
                    bestAt = time;
                }
            }
        }
    } catch (err) {
        throw explainAwsError(err, `searching for the base image (${describeQuery(q)})`);
    }
    if (!best) {
        fail(
            `no available image matches ${describeQuery(q)}${q.includeDeprecated ? "" : " (deprecated images excluded)"}. ` +
                "What to do: check the owners (account IDs or amazon / aws-marketplace / self), the name pattern " +
                "(* matches any characters; names are case-sensitive), the architecture, the product code and the region" +
                (q.includeDeprecated ? "" : ", or set includeDeprecated to true"),
            "NoMatchingImage",
        );
    }
    return toBaseImage(best);
}

/**
 * Looks up a base image: the AMI an SSM parameter names, or the most recent available AMI
 * (by creation date) that matches `owners` + `namePattern` (+ `architecture`, `productCode`).
 *
 * @example
 * ```ts
 * const al2023 = await lookupBaseImage({
 *     region: "eu-west-1",
 *     ssmParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
 * });
 * const ubuntu = await lookupBaseImage({
 *     region: "eu-west-1",
 *     owners: ["099720109477"],
 *     namePattern: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
 * });
 * ```
 * @throws GoldenAmiError when the query is incomplete or ambiguous (naming the fields), when
 *   nothing matches (showing the filter used), or when an AWS call fails.
 */
export async function lookupBaseImage(query: BaseImageQuery): Promise<BaseImage> {
    validate(query);
    return query.ssmParameter ? fromSsmParameter(query) : fromSearch(query);
}
