// A dynamic resource that tags an existing EC2 instance through the EC2 API: create adds
// the tag, read reports it, delete removes it. Only the foundation test uses it.
import * as pulumi from "@pulumi/pulumi";

interface TagInputs { instanceId: string; region: string; key: string; value: string }

const tagProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: TagInputs) {
        const ec2 = require("@aws-sdk/client-ec2");
        const client = new ec2.EC2Client({ region: inputs.region });
        await client.send(new ec2.CreateTagsCommand({ Resources: [inputs.instanceId], Tags: [{ Key: inputs.key, Value: inputs.value }] }));
        return { id: `${inputs.instanceId}/${inputs.key}`, outs: inputs };
    },
    async read(id: string, props: TagInputs) {
        const ec2 = require("@aws-sdk/client-ec2");
        const client = new ec2.EC2Client({ region: props.region });
        const out = await client.send(new ec2.DescribeTagsCommand({
            Filters: [{ Name: "resource-id", Values: [props.instanceId] }, { Name: "key", Values: [props.key] }],
        }));
        const tag = (out.Tags ?? [])[0];
        return tag ? { id, props: { ...props, value: tag.Value } } : { id: undefined as unknown as string, props: {} };
    },
    async delete(_id: string, props: TagInputs) {
        const ec2 = require("@aws-sdk/client-ec2");
        const client = new ec2.EC2Client({ region: props.region });
        await client.send(new ec2.DeleteTagsCommand({ Resources: [props.instanceId], Tags: [{ Key: props.key }] }));
    },
};

class InstanceTag extends pulumi.dynamic.Resource {
    declare public readonly value: pulumi.Output<string>;
    constructor(name: string, args: TagInputs, opts?: pulumi.CustomResourceOptions) {
        super(tagProvider, name, { ...args }, opts, "golden-ami-e2e", "InstanceTag");
    }
}

const config = new pulumi.Config();
const tag = new InstanceTag("probe", {
    instanceId: config.require("instanceId"),
    region: new pulumi.Config("aws").require("region"),
    key: "golden-ami:probe",
    value: config.get("value") ?? "hello",
});
export const tagValue = tag.value;
