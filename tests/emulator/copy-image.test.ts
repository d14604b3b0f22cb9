// Extension 3 (CopyImage): destination region, encryption, tags, idempotent ClientToken.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { Emulator } from "../support/emulator";
import { describeImage, describeSnapshot, errorOf, snapshotIds, uniqueName, sharedEmulator } from "./helpers";

const SOURCE = "us-east-1";
const DESTINATION = "eu-west-1";
const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

describe("emulator: CopyImage", function () {
    let emulator: Emulator;
    let source: ec2.EC2Client;
    let destination: ec2.EC2Client;
    let sourceImageId: string;

    before(async function () {
        emulator = await sharedEmulator();
        await emulator.reset();
        source = emulator.ec2(SOURCE);
        destination = emulator.ec2(DESTINATION);
        const instanceId = await emulator.launchInstance(SOURCE);
        const created = await source.send(new ec2.CreateImageCommand({
            InstanceId: instanceId,
            Name: uniqueName("golden"),
            TagSpecifications: [{ ResourceType: "image", Tags: [{ Key: "team", Value: "platform" }, { Key: "Name", Value: "golden" }] }],
        }));
        sourceImageId = created.ImageId!;
    });

    it("the copy lives in the destination region, with its own snapshots there", async function () {
        const { ImageId } = await destination.send(new ec2.CopyImageCommand({ SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: uniqueName("copy") }));
        const copy = await describeImage(destination, ImageId!);
        assert.equal(copy.SourceImageId, sourceImageId);
        assert.equal(copy.SourceImageRegion, SOURCE);
        const ids = snapshotIds(copy);
        assert.ok(ids.length >= 1);
        const original = snapshotIds(await describeImage(source, sourceImageId));
        for (const id of ids) {
            assert.ok(!original.includes(id), "new snapshots, not the source's");
            await describeSnapshot(destination, id); // exists in the destination region
        }
        const inSource = await errorOf(source.send(new ec2.DescribeImagesCommand({ ImageIds: [ImageId!] })));
        assert.equal(inSource.name, "InvalidAMIID.NotFound");
    });

    it("Encrypted + KmsKeyId: snapshots and mappings encrypted with that key", async function () {
        const { ImageId } = await destination.send(new ec2.CopyImageCommand({
            SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: uniqueName("enc"), Encrypted: true, KmsKeyId: KEY_ARN,
        }));
        const copy = await describeImage(destination, ImageId!);
        for (const mapping of copy.BlockDeviceMappings!.filter((m) => m.Ebs)) {
            assert.equal(mapping.Ebs!.Encrypted, true);
            assert.equal(mapping.Ebs!.KmsKeyId, KEY_ARN);
            const snapshot = await describeSnapshot(destination, mapping.Ebs!.SnapshotId!);
            assert.equal(snapshot.Encrypted, true);
            assert.equal(snapshot.KmsKeyId, KEY_ARN);
        }
        const sourceSnapshotId = snapshotIds(await describeImage(source, sourceImageId))[0];
        assert.equal((await describeSnapshot(source, sourceSnapshotId)).Encrypted, false, "the source stays unencrypted");
    });

    it("Encrypted without KmsKeyId uses the region's default EBS key; KmsKeyId alone is refused", async function () {
        const { ImageId } = await destination.send(new ec2.CopyImageCommand({
            SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: uniqueName("enc-default"), Encrypted: true,
        }));
        const snapshot = await describeSnapshot(destination, snapshotIds(await describeImage(destination, ImageId!))[0]);
        assert.equal(snapshot.Encrypted, true);
        assert.match(snapshot.KmsKeyId ?? "", /^arn:aws:kms:eu-west-1:123456789012:key\//);

        const error = await errorOf(destination.send(new ec2.CopyImageCommand({
            SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: uniqueName("key-only"), KmsKeyId: KEY_ARN,
        })));
        assert.equal(error.name, "InvalidParameterDependency");
    });

    it("CopyImageTags copies the source's tags; TagSpecifications tag image and snapshots", async function () {
        const { ImageId } = await destination.send(new ec2.CopyImageCommand({
            SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: uniqueName("tags"),
            CopyImageTags: true,
            TagSpecifications: [
                { ResourceType: "image", Tags: [{ Key: "copied-by", Value: "golden-ami" }] },
                { ResourceType: "snapshot", Tags: [{ Key: "of", Value: sourceImageId }] },
            ],
        }));
        const copy = await describeImage(destination, ImageId!);
        const tags = Object.fromEntries((copy.Tags ?? []).map((t) => [t.Key, t.Value]));
        assert.deepEqual(tags, { team: "platform", Name: "golden", "copied-by": "golden-ami" });
        const snapshot = await describeSnapshot(destination, snapshotIds(copy)[0]);
        assert.deepEqual(snapshot.Tags, [{ Key: "of", Value: sourceImageId }]);

        const plain = await destination.send(new ec2.CopyImageCommand({ SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: uniqueName("no-tags") }));
        assert.deepEqual((await describeImage(destination, plain.ImageId!)).Tags ?? [], [], "tags are not copied by default");
    });

    it("ClientToken: the same request twice gives one image; other parameters are refused", async function () {
        const name = uniqueName("idem");
        const request = { SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: name, ClientToken: `token-${name}` };
        const first = await destination.send(new ec2.CopyImageCommand(request));
        const second = await destination.send(new ec2.CopyImageCommand(request));
        assert.equal(second.ImageId, first.ImageId);
        const byName = await destination.send(new ec2.DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "name", Values: [name] }] }));
        assert.equal(byName.Images!.length, 1);

        const mismatch = await errorOf(destination.send(new ec2.CopyImageCommand({ ...request, Description: "different" })));
        assert.equal(mismatch.name, "IdempotentParameterMismatch");
    });

    it("SnapshotCopyCompletionDurationMinutes is accepted and marks a time-based copy", async function () {
        const { ImageId } = await destination.send(new ec2.CopyImageCommand({
            SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: uniqueName("timed"), SnapshotCopyCompletionDurationMinutes: 15,
        }));
        const snapshot = await describeSnapshot(destination, snapshotIds(await describeImage(destination, ImageId!))[0]);
        assert.equal(snapshot.TransferType, "time-based");
        assert.equal(snapshot.CompletionDurationMinutes, 15);
    });

    it("copying an image that does not exist fails like AWS", async function () {
        const error = await errorOf(destination.send(new ec2.CopyImageCommand({ SourceImageId: "ami-0123456789abcdef0", SourceRegion: SOURCE, Name: uniqueName("missing") })));
        assert.equal(error.name, "InvalidAMIID.NotFound");
    });
});
