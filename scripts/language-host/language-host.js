// A minimal Node.js language host for the Pulumi CLI (LanguageRuntime gRPC service).
//
// Why: the real host (`pulumi-language-nodejs`, a Go program) cannot be built on machines
// whose Go proxy does not serve its module, and release binaries cannot be downloaded.
// This host implements what `pulumi up/preview/refresh/destroy/import` need: it runs the
// program with @pulumi/pulumi's own `cmd/run` entry point exactly as the Go host does
// (same flags, PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS, TypeScript via ts-node), and
// answers plugin queries with "no plugins" (programs here use dynamic providers only).
// Any method not listed answers UNIMPLEMENTED, which the engine treats as optional.
"use strict";

const path = require("path");
const { spawn } = require("child_process");

function sdkRequire(programDir, request) {
    // Load @pulumi/pulumi's grpc and protobuf stubs from the program's own installation.
    return require(require.resolve(request, { paths: [programDir, process.cwd(), __dirname] }));
}

const args = process.argv.slice(2);
const flags = {};
const positional = [];
for (const arg of args) {
    const m = /^-{1,2}([^=]+)(?:=(.*))?$/.exec(arg);
    if (m) flags[m[1]] = m[2] === undefined ? "true" : m[2];
    else positional.push(arg);
}
const engineAddress = positional[0] || "";
const rootDir = flags.root || process.cwd();

const grpc = sdkRequire(rootDir, "@grpc/grpc-js");
const langproto = sdkRequire(rootDir, "@pulumi/pulumi/proto/language_pb.js");
const langrpc = sdkRequire(rootDir, "@pulumi/pulumi/proto/language_grpc_pb.js");
const pluginproto = sdkRequire(rootDir, "@pulumi/pulumi/proto/plugin_pb.js");
const sdkVersion = sdkRequire(rootDir, "@pulumi/pulumi/package.json").version;

const EXIT_AFTER_REPORTED_ERROR = 32; // @pulumi/pulumi: "error already shown to the user"

function runOptions(info) {
    const opts = info && info.getOptions() ? info.getOptions().toJavaScript() : {};
    return {
        typescript: opts.typescript === undefined ? true : Boolean(opts.typescript),
        tsconfig: typeof opts.tsconfig === "string" ? opts.tsconfig : undefined,
        nodeargs: typeof opts.nodeargs === "string" ? opts.nodeargs.split(/\s+/).filter(Boolean) : [],
    };
}

function run(call, callback) {
    const req = call.request;
    const info = req.getInfo();
    const programDir = (info && info.getProgramDirectory()) || req.getPwd() || process.cwd();
    const entryPoint = (info && info.getEntryPoint()) || req.getProgram() || ".";
    const options = runOptions(info);
    let runPath;
    try {
        runPath = require.resolve("@pulumi/pulumi/cmd/run", { paths: [programDir] });
    } catch (e) {
        callback(null, new langproto.RunResponse().setError(
            `@pulumi/pulumi is not installed for ${programDir}: run npm install (${e.message})`));
        return;
    }
    const argv = [...options.nodeargs, runPath];
    const add = (k, v) => { if (v !== undefined && v !== null && v !== "") argv.push(`--${k}`, String(v)); };
    add("monitor", req.getMonitorAddress());
    add("engine", engineAddress);
    add("organization", req.getOrganization());
    add("project", req.getProject());
    add("stack", req.getStack());
    add("pwd", req.getPwd() || programDir);
    add("root-directory", info && info.getRootDirectory());
    if (req.getDryrun()) argv.push("--dry-run");
    add("parallel", req.getParallel());
    argv.push(entryPoint, ...req.getArgsList());

    const config = {};
    req.getConfigMap().forEach((v, k) => { config[k] = v; });
    const env = {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
        PULUMI_NODEJS_TYPESCRIPT: String(options.typescript),
    };
    if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;

    const child = spawn(process.execPath, argv, { cwd: programDir, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", (err) => callback(null, new langproto.RunResponse().setError(
        `could not start node for the program: ${err.message}`)));
    child.on("exit", (code, signal) => {
        const resp = new langproto.RunResponse();
        if (code === EXIT_AFTER_REPORTED_ERROR) {
            resp.setBail(true);
        } else if (code !== 0) {
            resp.setError(signal ? `Program was killed by signal ${signal}` : `Program exited with non-zero exit code: ${code}`);
        }
        callback(null, resp);
    });
}

const service = {
    run,
    getPluginInfo: (_call, cb) => cb(null, new pluginproto.PluginInfo().setVersion(sdkVersion)),
    getRequiredPlugins: (_call, cb) => cb(null, new langproto.GetRequiredPluginsResponse()),
    getRequiredPackages: (_call, cb) => cb(null, new langproto.GetRequiredPackagesResponse()),
    installDependencies: (call) => call.end(),
};

const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
server.addService(langrpc.LanguageRuntimeService, service);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
        console.error(`language host: could not listen: ${err.message}`);
        process.exit(1);
    }
    // The CLI reads the port from our first line of stdout.
    process.stdout.write(`${port}\n`);
});
