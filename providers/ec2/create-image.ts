/**
 * CreateImage of an instance, with the tags of the image and of its snapshots set in the
 * same call (so nothing golden-ami makes is ever untagged, not even for a moment).
 */
import { CreateImageCommand } from "@aws-sdk/client-ec2";
import { ImageBlockDevice } from "../core/options";
import { TagMap, toTagList } from "../core/tags";
import { ec2Client } from "./client";

export interface CreateImageRequest {
    instanceId: string;
    name: string;
    description?: string;
    /** Image the running instance without stopping it (crash-consistent only). */
    noReboot: boolean;
    blockDeviceMappings?: ImageBlockDevice[];
    imageTags: TagMap;
    snapshotTags: TagMap;
}

function blockDevices(list: ImageBlockDevice[] | undefined) {
    return list?.map((d) =>
        d.noDevice
            ? { DeviceName: d.deviceName, NoDevice: "" }
            : {
                  DeviceName: d.deviceName,
                  Ebs: {
                      VolumeSize: d.volumeSize,
                      VolumeType: d.volumeType as never,
                      Iops: d.iops,
                      Throughput: d.throughput,
                      DeleteOnTermination: d.deleteOnTermination,
                  },
              },
    );
}

/** The new image's ID. Errors are the SDK's, unexplained: the caller knows what it was doing. */
export async function createImage(region: string, request: CreateImageRequest): Promise<string> {
    const out = await ec2Client(region).send(
        new CreateImageCommand({
            InstanceId: request.instanceId,
            Name: request.name,
            Description: request.description,
            NoReboot: request.noReboot,
            BlockDeviceMappings: blockDevices(request.blockDeviceMappings),
            TagSpecifications: [
                { ResourceType: "image", Tags: toTagList(request.imageTags) },
                { ResourceType: "snapshot", Tags: toTagList(request.snapshotTags) },
            ],
        }),
    );
    return out.ImageId!;
}
