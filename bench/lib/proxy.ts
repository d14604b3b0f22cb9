/**
 * A recording pass-through proxy between `pulumi` (its provider process) and the emulator.
 *
 * The emulator's call log says which action was called in which region and when, but not
 * for which image. The fan-out figures need the moment each image was *seen* available by
 * the provider; with several images waiting in one region (and golden-ami batching their
 * looks into one DescribeImages), only the request and the response tell. This proxy
 * forwards every request unchanged and keeps, per call: action, region (SigV4 scope), the
 * ImageIds asked for, the image states the response reported, and when it arrived and
 * was answered.
 */
import * as http from "http";
import { AddressInfo } from "net";

export interface ProxiedCall {
    action: string;
    region: string;
    /** Epoch ms: request received, response fully sent back. */
    startedAt: number;
    endedAt: number;
    status: number;
    imageIds: string[];
    /** DescribeImages responses: imageId -> imageState as reported. */
    imageStates: Record<string, string>;
}

export class RecordingProxy {
    readonly calls: ProxiedCall[] = [];

    private constructor(private readonly server: http.Server, readonly endpoint: string) {}

    static async start(target: string): Promise<RecordingProxy> {
        const upstream = new URL(target);
        const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
        let proxy: RecordingProxy | undefined;
        const server = http.createServer((req, res) => {
            const startedAt = Date.now();
            const chunks: Buffer[] = [];
            req.on("data", (chunk: Buffer) => chunks.push(chunk));
            req.on("end", () => {
                const body = Buffer.concat(chunks);
                const headers = { ...req.headers };
                delete headers["accept-encoding"]; // plain responses, so they can be read
                const forward = http.request(
                    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
                    (answer) => {
                        const out: Buffer[] = [];
                        answer.on("data", (chunk: Buffer) => out.push(chunk));
                        answer.on("end", () => {
                            const text = Buffer.concat(out);
                            res.writeHead(answer.statusCode ?? 502, answer.headers);
                            res.end(text, () => {
                                proxy?.record(req, body.toString("utf8"), text.toString("utf8"), answer.statusCode ?? 0, startedAt);
                            });
                        });
                    },
                );
                forward.on("error", (err) => {
                    res.writeHead(502, { "content-type": "text/plain" });
                    res.end(`bench proxy: ${err.message}`);
                });
                forward.end(body);
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const port = (server.address() as AddressInfo).port;
        proxy = new RecordingProxy(server, `http://127.0.0.1:${port}`);
        return proxy;
    }

    reset(): void {
        this.calls.length = 0;
    }

    /**
     * Epoch ms at which a response first reported `imageId` as `available` (the end of that
     * response: the moment the caller could know), or undefined if none did.
     */
    seenAvailableAt(imageId: string): number | undefined {
        const call = this.calls
            .filter((c) => c.imageStates[imageId] === "available")
            .sort((a, b) => a.endedAt - b.endedAt)[0];
        return call?.endedAt;
    }

    async stop(): Promise<void> {
        this.server.closeAllConnections?.();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private record(req: http.IncomingMessage, body: string, response: string, status: number, startedAt: number): void {
        const params = new URLSearchParams(body);
        const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ""));
        const imageIds: string[] = [];
        for (const [key, value] of params) if (/^ImageId\.\d+$/.test(key)) imageIds.push(value);
        const imageStates: Record<string, string> = {};
        const action = params.get("Action") ?? "";
        if (action === "DescribeImages") {
            // Each image item has one <imageId> followed (later in the item) by one <imageState>.
            const re = /<imageId>(ami-[0-9a-f]+)<\/imageId>|<imageState>([a-z]+)<\/imageState>/g;
            let current: string | undefined;
            for (let m = re.exec(response); m; m = re.exec(response)) {
                if (m[1]) current = m[1];
                else if (current) {
                    imageStates[current] = m[2];
                    current = undefined;
                }
            }
        }
        this.calls.push({ action, region: scope?.[1] ?? "", startedAt, endedAt: Date.now(), status, imageIds, imageStates });
    }
}
