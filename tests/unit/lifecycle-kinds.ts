// The image kinds the lifecycle's shared tests run for (lifecycle.test.ts, lifecycle-progress.test.ts):
// each with the fake EC2 it starts from and the fixture values its tests compare against.
import { FakeEc2, Tags } from "../support/fake-ec2";
import * as copy from "./image-copy/fixture";
import * as instance from "./instance-image/fixture";

export interface Kind {
    name: "InstanceImage" | "ImageCopy";
    /** How the lifecycle's messages name what this kind makes. */
    noun: string;
    /** The fake EC2 this kind's tests start from (the builder instance, or the source image). */
    ec2(): FakeEc2;
    inputs(over?: Record<string, unknown>): Record<string, any>;
    region: string;
    imageName: string;
    markers: Tags;
    /** The call that makes the image. */
    makes: string;
}

export const kinds: Kind[] = [
    {
        name: "InstanceImage",
        noun: "image",
        ec2: () => {
            const ec2 = new FakeEc2([instance.REGION]);
            ec2.seedInstance({ id: instance.INSTANCE });
            return ec2;
        },
        inputs: instance.inputsWith,
        region: instance.REGION,
        imageName: instance.NAME,
        markers: instance.MARKERS,
        makes: "CreateImage",
    },
    { name: "ImageCopy", noun: "copy", ec2: copy.copyEc2, inputs: copy.inputsWith, region: copy.REGION, imageName: copy.NAME, markers: copy.MARKERS, makes: "CopyImage" },
];
