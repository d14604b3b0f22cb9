// docs/iam-policy-build.json grants exactly the AWS actions golden-ami's own code calls, and
// docs/iam-policy-target.json (the role of an account copies are made in) exactly those of the
// modules a copy reaches (the copy kind and the lifecycle, and what they import): derived here
// from the source (every `new <Name>Command(` and `paginate<Name>(`, with the client package
// each name is imported from), so a new SDK call without a policy line, or a policy line for a
// call that no longer exists, fails. The build policy also has the two actions AWS checks on
// the caller for calls the code makes: iam:PassRole (RunInstances with an instance profile) and
// sts:AssumeRole (the SDK's fromTemporaryCredentials, for aws:assumeRoles and target roles).
// KMS is called by EBS on the caller's behalf when an image copy is encrypted, so the KMS
// actions AWS documents for EBS encryption are allowed exactly when the code makes encrypted
// copies (CopyImage with Encrypted / KmsKeyId); the KMS calls golden-ami makes itself (the grant
// of a shared source's key to the account a copy is made in) are found like any other call.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
const BUILD_POLICY = path.join(ROOT, "docs", "iam-policy-build.json");
const TARGET_POLICY = path.join(ROOT, "docs", "iam-policy-target.json");
/** Where a copy into another account starts: its kind and the lifecycle (every module they import is reached). */
const COPY_ENTRY_FILES = ["providers/lifecycle/image-copy.ts", "providers/lifecycle/image-lifecycle.ts"];
const SCANNED_DIRS = ["providers", "components"];

/** IAM service prefix of each AWS SDK v3 client package the product may use. */
const SERVICE_OF_PACKAGE: Record<string, string> = {
    "@aws-sdk/client-ec2": "ec2",
    "@aws-sdk/client-ssm": "ssm",
    "@aws-sdk/client-kms": "kms",
    "@aws-sdk/client-sts": "sts",
};

/**
 * What the caller of an encrypted CopyImage needs on the KMS key, as AWS documents it
 * ("Requirements for Amazon EBS encryption" → Permissions for users,
 * https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html):
 * kms:CreateGrant (only for AWS resources), kms:Decrypt, kms:DescribeKey,
 * kms:GenerateDataKeyWithoutPlaintext, kms:ReEncrypt (ReEncryptFrom + ReEncryptTo).
 */
const KMS_FOR_ENCRYPTED_COPIES = [
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncrypt*",
];

interface Use {
    action: string; // "ec2:DescribeImages"
    where: string; // "providers/ec2/images.ts:42"
}

function sourceFiles(dir: string): string[] {
    const abs = path.join(ROOT, dir);
    if (!fs.existsSync(abs)) return [];
    return fs.readdirSync(abs, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.endsWith(".test.ts"))
        .map((f) => path.join(dir, f))
        .sort();
}

/** The text with comments blanked out (newlines kept, so line numbers stay right); strings are kept. */
export function withoutComments(text: string): string {
    let out = "";
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        const next = text[i + 1];
        if (c === "/" && next === "/") {
            while (i < text.length && text[i] !== "\n") i++;
        } else if (c === "/" && next === "*") {
            const end = text.indexOf("*/", i + 2);
            const stop = end < 0 ? text.length : end + 2;
            out += text.slice(i, stop).replace(/[^\n]/g, " ");
            i = stop;
        } else if (c === '"' || c === "'" || c === "`") {
            // Quotes end at the line's end too: a quote inside a regex literal swallows one line at most.
            let j = i + 1;
            while (j < text.length && text[j] !== c && (c === "`" || text[j] !== "\n")) j += text[j] === "\\" ? 2 : 1;
            out += text.slice(i, j + 1);
            i = j + 1;
        } else {
            out += c;
            i++;
        }
    }
    return out;
}

interface Binding {
    pkg: string;
    /** The name the package exports (differs from the local name for `X as Y` / `{ X: Y }`). */
    imported: string;
}

/** Local names a file takes from @aws-sdk client packages: single bindings, and namespaces (`import * as`, `require`). */
function sdkBindings(code: string): { named: Map<string, Binding>; namespaces: Map<string, string> } {
    const named = new Map<string, Binding>();
    const namespaces = new Map<string, string>();
    const addList = (list: string, pkg: string, sep: RegExp) => {
        for (const part of list.split(",")) {
            const [imported, local] = part.trim().replace(/^type\s+/, "").split(sep).map((x) => x.trim());
            if (imported) named.set(local || imported, { pkg, imported });
        }
    };
    const PKG = `["'](@aws-sdk\\/client-[\\w-]+)["']`;
    for (const m of code.matchAll(new RegExp(`import\\s+(?:type\\s+)?\\{([^}]*)\\}\\s*from\\s*${PKG}`, "g"))) addList(m[1], m[2], /\s+as\s+/);
    for (const m of code.matchAll(new RegExp(`import\\s+\\*\\s+as\\s+(\\w+)\\s+from\\s*${PKG}`, "g"))) namespaces.set(m[1], m[2]);
    for (const m of code.matchAll(new RegExp(`(?:const|let|var)\\s+(\\w+)\\s*=\\s*require\\(\\s*${PKG}\\s*\\)`, "g"))) namespaces.set(m[1], m[2]);
    for (const m of code.matchAll(new RegExp(`(?:const|let|var)\\s+\\{([^}]*)\\}\\s*=\\s*require\\(\\s*${PKG}\\s*\\)`, "g"))) addList(m[1], m[2], /\s*:\s*/);
    return { named, namespaces };
}

/** `entries` and every product module they import, directly or not (relative imports). */
export function reachedFiles(entries: string[]): string[] {
    const seen = new Set<string>();
    const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const code = withoutComments(fs.readFileSync(path.join(ROOT, file), "utf8"));
        for (const m of code.matchAll(/(?:from\s*|require\(\s*|import\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
            const target = path.join(path.dirname(file), m[1]);
            if (fs.existsSync(path.join(ROOT, `${target}.ts`))) visit(`${target}.ts`);
        }
    };
    entries.forEach(visit);
    return [...seen].sort();
}

/** Every AWS action the product code (or `files`) sends, with where; `unresolved` lists calls whose package is unknown. */
export function actionsInSource(files = SCANNED_DIRS.flatMap(sourceFiles)): { uses: Use[]; unresolved: string[]; encryptedCopyAt: string[]; implied: Use[] } {
    const result = { uses: [] as Use[], unresolved: [] as string[], encryptedCopyAt: [] as string[], implied: [] as Use[] };
    for (const file of files) {
        const text = withoutComments(fs.readFileSync(path.join(ROOT, file), "utf8"));
        if (/\bIamInstanceProfile\s*:/.test(text) && /RunInstancesCommand/.test(text)) result.implied.push({ action: "iam:PassRole", where: file });
        if (/\bfromTemporaryCredentials\s*\(/.test(text)) result.implied.push({ action: "sts:AssumeRole", where: file });
        const one = scanSource(file, fs.readFileSync(path.join(ROOT, file), "utf8"));
        result.uses.push(...one.uses);
        result.unresolved.push(...one.unresolved);
        if (one.encryptedCopy) result.encryptedCopyAt.push(file);
    }
    return result;
}

/**
 * The AWS calls of one source file: `new <X>(` where X is (an alias of) an SDK `<Name>Command`,
 * and calls of (aliases of) SDK `paginate<Name>`. A `...Command` / `paginate...` name that is
 * not imported from an SDK client package, and SDK waiters (`waitUntil...`, which poll actions
 * of their own), are reported as unresolved so the scan never silently misses a call.
 */
export function scanSource(file: string, text: string): { uses: Use[]; unresolved: string[]; encryptedCopy: boolean } {
    const uses: Use[] = [];
    const unresolved: string[] = [];
    const code = withoutComments(text);
    const { named, namespaces } = sdkBindings(code);
    const lineOf = (index: number) => code.slice(0, index).split("\n").length;
    const record = (where: string, pkg: string, exported: string, shown: string) => {
        const command = /^(\w+)Command$/.exec(exported);
        const paginator = /^paginate(\w+)$/.exec(exported);
        if (/^waitUntil/.test(exported)) {
            unresolved.push(`${where}: SDK waiter ${shown}: map it to the actions it polls`);
            return;
        }
        const action = command?.[1] ?? paginator?.[1];
        if (!action) return; // a client, a type, an enum: not a request
        const service = SERVICE_OF_PACKAGE[pkg];
        if (!service) unresolved.push(`${where}: ${pkg} has no IAM service prefix in SERVICE_OF_PACKAGE`);
        else uses.push({ action: `${service}:${action}`, where });
    };
    // `new X(`, `new ns.X(`, `X(` and `ns.X(`: every construction or call of a name, resolved through the imports.
    for (const m of code.matchAll(/(?<![\w.$])(new\s+)?(?:(\w+)\s*\.\s*)?(\w+)\s*\(/g)) {
        const [shown, isNew, namespace, name] = m;
        const where = `${file}:${lineOf(m.index!)}`;
        if (namespace) {
            const pkg = namespaces.get(namespace);
            if (pkg) record(where, pkg, name, shown);
            continue;
        }
        const binding = named.get(name);
        if (binding) {
            if (isNew || !/Command$/.test(binding.imported)) record(where, binding.pkg, binding.imported, shown);
        } else if ((isNew && /Command$/.test(name)) || /^paginate[A-Z]/.test(name)) {
            unresolved.push(`${where}: ${shown} (not imported from an @aws-sdk client package)`);
        }
    }
    // An encrypted copy: a CopyImage request in a file that sets Encrypted or KmsKeyId.
    const copies = uses.some((u) => u.action === "ec2:CopyImage");
    const encryptedCopy = copies && /\b(Encrypted|KmsKeyId)\s*:/.test(code);
    return { uses, unresolved, encryptedCopy };
}

interface Statement {
    Sid?: string;
    Effect: string;
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string>>;
}

let POLICY_FILE = BUILD_POLICY;
function policy(): { Version: string; Statement: Statement[] } {
    return JSON.parse(fs.readFileSync(POLICY_FILE, "utf8"));
}

function actionsOf(statement: Statement): string[] {
    return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

for (const [name, file, files] of [
    ["docs/iam-policy-build.json", BUILD_POLICY, undefined],
    ["docs/iam-policy-target.json", TARGET_POLICY, reachedFiles(COPY_ENTRY_FILES)],
] as const) describe(`unit: ${name} grants exactly the actions the code calls`, function () {
    const { uses, unresolved, encryptedCopyAt, implied } = actionsInSource(files ? [...files] : undefined);
    const used = new Map<string, string[]>();
    for (const u of [...uses, ...(files ? [] : implied)]) used.set(u.action, [...(used.get(u.action) ?? []), u.where]);
    before(() => { POLICY_FILE = file; });

    it("the scan reads named, aliased, namespace and require imports, paginators, and skips comments", () => {
        const fixture = [
            'import { CopyImageCommand, DescribeImagesCommand as Describe, paginateDescribeSnapshots } from "@aws-sdk/client-ec2";',
            'import * as ssm from "@aws-sdk/client-ssm";',
            'const { DescribeKeyCommand } = require("@aws-sdk/client-kms");',
            "// new StopInstancesCommand({}) in a comment",
            "/* new TerminateInstancesCommand({}) */",
            'const re = /^[a-z\'@]+$/; const url = "https://example.com//x";',
            "send(new CopyImageCommand({ Encrypted: true, KmsKeyId: key }));",
            "send(new Describe({ ImageIds: [id] }));",
            "send(new ssm.GetParameterCommand({ Name: n }));",
            "send(new DescribeKeyCommand({ KeyId: k }));",
            "for await (const p of paginateDescribeSnapshots({ client }, {})) {}",
            "send(new LocalThingCommand());",
            "await waitUntil({ observe });",
        ].join("\n");
        const scan = scanSource("fixture.ts", fixture);
        assert.deepEqual(scan.uses.map((u) => u.action).sort(), ["ec2:CopyImage", "ec2:DescribeImages", "ec2:DescribeSnapshots", "kms:DescribeKey", "ssm:GetParameter"]);
        assert.equal(scan.encryptedCopy, true);
        assert.equal(scan.unresolved.length, 1);
        assert.match(scan.unresolved[0], /^fixture\.ts:12: new LocalThingCommand\(/);
    });

    it("finds the AWS calls of providers/ and components/ (and can tell where each comes from)", () => {
        assert.deepEqual(unresolved, [], "calls the scan cannot attribute to a client package");
        assert.ok(used.has(files ? "ec2:CopyImage" : "ec2:CreateImage") && used.has("ec2:DescribeImages"), `found: ${[...used.keys()].join(", ")}`);
        console.log(`      ${used.size} actions used: ${[...used.keys()].sort().join(", ")}`);
    });

    it("is a well-formed IAM identity policy: Allow statements, no wildcards in EC2/SSM actions", () => {
        const p = policy();
        assert.equal(p.Version, "2012-10-17");
        assert.ok(Array.isArray(p.Statement) && p.Statement.length > 0);
        const sids = p.Statement.map((s) => s.Sid);
        assert.equal(new Set(sids).size, sids.length, "Sids are unique");
        for (const s of p.Statement) {
            assert.equal(s.Effect, "Allow", JSON.stringify(s));
            assert.ok(s.Resource !== undefined, `statement ${s.Sid} has a Resource`);
            for (const a of actionsOf(s)) {
                assert.match(a, /^[a-z0-9-]+:[A-Za-z*]+$/, `action ${a}`);
                if (!a.startsWith("kms:")) assert.ok(!a.includes("*"), `${a}: list EC2/SSM actions one by one`);
                if (a === "iam:PassRole") assert.equal(s.Condition?.StringEquals?.["iam:PassedToService"], "ec2.amazonaws.com", "PassRole only to EC2");
            }
        }
        const all = p.Statement.flatMap(actionsOf);
        assert.equal(new Set(all).size, all.length, "no action is listed twice");
    });

    it("lists every EC2/SSM action the code calls", () => {
        const granted = new Set(policy().Statement.flatMap(actionsOf));
        const missing = [...used.keys()].filter((a) => !granted.has(a)).sort();
        assert.deepEqual(missing, [], `called but not granted: ${missing.map((a) => `${a} (${used.get(a)!.join(", ")})`).join("; ")}`);
    });

    it("lists no EC2/SSM action the code never calls", () => {
        const extra = policy().Statement.flatMap(actionsOf).filter((a) => !a.startsWith("kms:") && !used.has(a)).sort();
        assert.deepEqual(extra, [], "granted but never called");
    });

    it("grants the documented KMS actions for encrypted copies exactly when the code makes encrypted copies, and the KMS calls it makes", () => {
        const statements = policy().Statement;
        const kms = statements.flatMap(actionsOf).filter((a) => a.startsWith("kms:")).sort();
        const called = [...used.keys()].filter((a) => a.startsWith("kms:"));
        const expected = [...new Set([...(encryptedCopyAt.length > 0 ? KMS_FOR_ENCRYPTED_COPIES : []), ...called])].sort();
        if (encryptedCopyAt.length > 0) console.log(`      encrypted copies made in: ${encryptedCopyAt.join(", ")}`);
        assert.deepEqual(kms, expected, "exactly the KMS actions AWS documents for EBS encryption, plus those the code calls");
        if (!kms.includes("kms:CreateGrant")) return;
        // Least privilege, as AWS advises: grants only for AWS resources (EBS), unless the code
        // itself grants an account the use of a key (a shared source's), which that condition would deny.
        const grant = statements.find((s) => actionsOf(s).includes("kms:CreateGrant"))!;
        const ebsOnly = grant.Condition?.Bool?.["kms:GrantIsForAWSResource"] === "true";
        assert.equal(ebsOnly, !called.includes("kms:CreateGrant"), `CreateGrant conditioned on AWS resources exactly when the code makes no grant itself: ${JSON.stringify(grant)}`);
    });
});
