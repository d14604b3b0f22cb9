// Extension 15 (ext_kms_managed.py): the default EBS key `alias/aws/ebs` is AWS managed, as in
// AWS. Plain moto 5.2.1 creates it on the first encryption without a KMS key, but as a customer
// managed key (DescribeKey KeyManager CUSTOMER), so it could not be told from one.
import * as assert from "node:assert/strict";
import * as ec2 from "@aws-sdk/client-ec2";
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { Emulator } from "../support/emulator";
import { sharedEmulator, uniqueName, waitForImageState } from "./helpers";

const REGION = "us-east-1";

describe("emulator: the default EBS key is AWS managed", function () {
    let emulator: Emulator;
    let client: ec2.EC2Client;
    let kms: KMSClient;

    before(async function () {
        emulator = await sharedEmulator();
        await emulator.reset();
        client = emulator.ec2(REGION);
        kms = new KMSClient({ region: REGION, endpoint: emulator.endpoint, credentials: await client.config.credentials() });
    });

    after(() => kms?.destroy());

    it("an encrypted copy without a KMS key uses aws/ebs, which DescribeKey reports AWS managed; a created key stays customer managed", async function () {
        const builderId = await emulator.launchInstance(REGION);
        const imageId = (await client.send(new ec2.CreateImageCommand({ InstanceId: builderId, Name: uniqueName("plain") }))).ImageId!;
        await waitForImageState(client, imageId, ["available"]);
        const copyId = (await client.send(new ec2.CopyImageCommand({ SourceImageId: imageId, SourceRegion: REGION, Name: uniqueName("enc"), Encrypted: true }))).ImageId!;
        const copy = await waitForImageState(client, copyId, ["available"]);
        const snapshotId = copy.BlockDeviceMappings!.find((m) => m.Ebs?.SnapshotId)!.Ebs!.SnapshotId!;
        const snapshot = (await client.send(new ec2.DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0];
        const ebsKey = (await kms.send(new DescribeKeyCommand({ KeyId: "alias/aws/ebs" }))).KeyMetadata!;
        assert.equal(snapshot.KmsKeyId, ebsKey.Arn, "the copy is encrypted with aws/ebs");
        assert.equal(ebsKey.KeyManager, "AWS");
        const created = (await kms.send(new CreateKeyCommand({ Description: "customer key" }))).KeyMetadata!;
        assert.equal(created.KeyManager, "CUSTOMER");
    });
});
