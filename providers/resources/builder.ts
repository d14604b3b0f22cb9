/**
 * Builder, the program-side resource: an ephemeral EC2 instance golden-ami launches from a
 * base image and lets its user data customise, ready to be imaged by an InstanceImage (which
 * terminates it once the image is available, with `afterImage: "terminated"`). The provider
 * side is lifecycle/builder.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import type { BuilderReadiness } from "../core/options";
import { awsProviderOf, explicitSettings, withoutAwsProvider } from "./aws-provider";
import { ownUrn, providerShim } from "./shim";

/** The builder's root EBS volume. */
export interface BuilderRootVolumeArgs {
    /** Size in GiB. Default: the base image's root snapshot size. */
    sizeGiB?: pulumi.Input<number>;
    /** EBS volume type: gp3, gp2, io1, io2, st1, sc1 or standard. Default: EC2's (gp2/gp3 by the image). */
    type?: pulumi.Input<string>;
    /** Encrypt the root volume (and so the image's root snapshot). Default **true**. */
    encrypted?: pulumi.Input<boolean>;
    /** KMS key (ID or ARN) for the encryption; default the account's `aws/ebs` key. */
    kmsKeyId?: pulumi.Input<string>;
}

/** An extra EBS volume of the builder (it becomes a volume of the image). */
export interface BuilderVolumeArgs extends BuilderRootVolumeArgs {
    /** Device name, e.g. `/dev/sdf`. */
    deviceName: pulumi.Input<string>;
    /** Size in GiB (required). */
    sizeGiB: pulumi.Input<number>;
    /** Provisioned IOPS (io1, io2, gp3). */
    iops?: pulumi.Input<number>;
    /** Throughput in MiB/s (gp3). */
    throughput?: pulumi.Input<number>;
}

/** Arguments of a {@link Builder}. Every recipe property (all but tags and timeouts) makes a new builder when it changes. */
export interface BuilderArgs {
    /** Region of the builder. Default: the stack's `aws:region`, else AWS_REGION / AWS_DEFAULT_REGION. */
    region?: pulumi.Input<string>;
    /** The base image's AMI ID (`ami-...`), e.g. `baseImage(...).imageId`. Required. */
    baseImageId: pulumi.Input<string>;
    /** Instance type. Default `t3.micro`. */
    instanceType?: pulumi.Input<string>;
    /** Subnet (`subnet-...`). Default: the default VPC's subnet of a zone EC2 picks. */
    subnetId?: pulumi.Input<string>;
    /** Security groups (`sg-...`). Default: the VPC's default group. */
    vpcSecurityGroupIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** Instance profile, by name or ARN (e.g. to read from S3, or to be reached by SSM). */
    iamInstanceProfile?: pulumi.Input<string>;
    /** EC2 key pair name, for SSH while debugging a build. */
    keyName?: pulumi.Input<string>;
    /**
     * The customisation script (plain text). With the default readiness it powers the instance
     * off as its last step (`shutdown -h now`); to fail visibly it prints `GOLDEN-AMI-FAILED` to
     * the console and powers off (e.g. `trap 'echo GOLDEN-AMI-FAILED > /dev/console; shutdown -h now' ERR`).
     */
    userData?: pulumi.Input<string>;
    /** The root volume; encrypted by default. */
    rootVolume?: pulumi.Input<BuilderRootVolumeArgs>;
    /** Extra EBS volumes (encrypted by default). */
    volumes?: pulumi.Input<pulumi.Input<BuilderVolumeArgs>[]>;
    /** Tags of the instance and its volumes (a `Name` tag is added unless given). Changed in place. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * When the builder is ready: `"stopped"` (default with userData) = it powered itself off;
     * `"status-ok"` (default without) = running with both status checks passed; `"none"`.
     */
    waitFor?: pulumi.Input<BuilderReadiness>;
    /** How long the customisation may take, in minutes. Default 30. */
    provisioningTimeoutMinutes?: pulumi.Input<number>;
    /** How long terminating the builder may take, in minutes. Default 10. */
    terminateTimeoutMinutes?: pulumi.Input<number>;
    /** Anything else whose change must make a new builder (GoldenImage passes what defines its image). */
    rebuildOn?: pulumi.Input<unknown>;
}

let shim: pulumi.dynamic.ResourceProvider | undefined;

/**
 * An ephemeral builder instance: launched with a ClientToken derived from its recipe (never
 * two for one recipe, also after a crash), IMDSv2 required, encrypted volumes, shutdown
 * behaviour "stop"; ready once its customisation is done; terminated when a failed
 * customisation is detected (the error shows the console tail).
 *
 * @example
 * const builder = new Builder("web-builder", {
 *     baseImageId: baseImage({ ssmParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" }).imageId,
 *     userData: "#!/bin/bash\nset -e\ndnf install -y nginx\nshutdown -h now\n",
 * });
 * const image = new InstanceImage("web", { instanceId: builder.instanceId, afterImage: "terminated" });
 */
export class Builder extends pulumi.dynamic.Resource {
    /** The builder's instance ID. */
    declare public readonly instanceId: pulumi.Output<string>;
    /** The base image it was launched from. */
    declare public readonly baseImageId: pulumi.Output<string>;
    /** Its region. */
    declare public readonly region: pulumi.Output<string>;
    /** The RunInstances ClientToken (derived from the recipe). */
    declare public readonly clientToken: pulumi.Output<string>;
    /** The account the builder was launched in (when STS could tell; not under aws:skipCredentialsValidation). */
    declare public readonly accountId: pulumi.Output<string | undefined>;

    constructor(name: string, args: BuilderArgs, opts?: pulumi.CustomResourceOptions) {
        shim ??= providerShim("Builder");
        const aws = awsProviderOf(opts);
        super(
            shim,
            name,
            {
                ...args,
                instanceId: undefined,
                clientToken: undefined,
                accountId: undefined,
                ...(aws ? { awsProvider: explicitSettings(name, aws) } : {}),
                resourceUrn: ownUrn(name, "pulumi-nodejs:dynamic/golden-ami:Builder", opts?.parent),
            },
            withoutAwsProvider(opts),
            "golden-ami",
            "Builder",
        );
    }
}
