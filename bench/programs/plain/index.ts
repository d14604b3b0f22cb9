// Benchmark baseline (bench/bench.ts, no-op at scale): `count` dynamic resources whose provider
// makes nothing and calls nothing, so a `pulumi preview`/`up` of it is what the engine, the
// language host and a dynamic-provider process cost for that many resources, without EC2.
import * as pulumi from "@pulumi/pulumi";

const count = new pulumi.Config().requireNumber("count");

const nothing: pulumi.dynamic.ResourceProvider = {
    async create() {
        return { id: "plain", outs: {} };
    },
};

class Plain extends pulumi.dynamic.Resource {
    constructor(name: string) {
        super(nothing, name, {}, {});
    }
}

for (let i = 0; i < count; i++) new Plain(`plain-${i}`);
export const resources = count;
