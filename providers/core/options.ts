/**
 * The option values and defaults of golden-ami's resources, in one place for the program
 * side (resource classes, components) and the provider side (check, lifecycle) alike.
 */

/** How one block device of the source instance appears in the image. */
export interface ImageBlockDevice {
    /** Device name on the instance, e.g. `/dev/xvda` or `/dev/sdf`. */
    deviceName: string;
    /** Leave this volume out of the image. */
    noDevice?: boolean;
    /** Size in GiB of the volume in the image; at least the source volume's size. */
    volumeSize?: number;
    /** EBS volume type in the image: gp3, gp2, io1, io2, st1, sc1 or standard. */
    volumeType?: string;
    /** Provisioned IOPS (io1, io2, gp3). */
    iops?: number;
    /** Throughput in MiB/s (gp3). */
    throughput?: number;
    /** Whether instances launched from the image delete this volume on termination. */
    deleteOnTermination?: boolean;
}

/**
 * What the source instance should be once its image exists. `"terminated"` is for builders
 * golden-ami launched (GoldenImage's default): nothing of the build is left billing.
 */
export type AfterImage = "stopped" | "running" | "terminated";
export const AFTER_IMAGE_VALUES: readonly AfterImage[] = ["stopped", "running", "terminated"];

/** How to tell a builder is done customising (see ec2/readiness.ts). */
export type BuilderReadiness = "none" | "stopped" | "status-ok";
export const BUILDER_READINESS_VALUES: readonly BuilderReadiness[] = ["none", "stopped", "status-ok"];

export const VOLUME_TYPES = ["gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"] as const;

/** Default instance type of a builder. */
export const DEFAULT_BUILDER_INSTANCE_TYPE = "t3.micro";

/**
 * The line a customisation script prints to the console when it fails (e.g.
 * `trap 'echo GOLDEN-AMI-FAILED > /dev/console; shutdown -h now' ERR`): a builder that powers
 * itself off with it in its console output failed, and is never imaged.
 */
export const FAILURE_MARKER = "GOLDEN-AMI-FAILED";

/** The line a verification test script prints to the console when the new image passed, before it powers off. */
export const SUCCESS_MARKER = "GOLDEN-AMI-OK";

/** How a new image is tested before it is copied or shared (GoldenImage/InstanceImage `verify`). */
export interface VerifySettings {
    /** Instance type of the test instance. Default t3.micro. */
    instanceType?: string;
    /** Subnet of the test instance. */
    subnetId?: string;
    /** Security groups of the test instance. */
    vpcSecurityGroupIds?: string[];
    /**
     * A test script. Without one, the image passes when an instance of it runs with both status
     * checks passed; with one, when the script prints GOLDEN-AMI-OK and powers the instance off.
     */
    userData?: string;
    /** How long the test may take, in minutes. Default 15. */
    timeoutMinutes?: number;
}

export const DEFAULT_VERIFY_TIMEOUT_MINUTES = 15;

/** Default limits, in minutes. */
export const DEFAULT_STOP_TIMEOUT_MINUTES = 10;
export const DEFAULT_IMAGE_TIMEOUT_MINUTES = 60;
export const DEFAULT_PROVISIONING_TIMEOUT_MINUTES = 30;

/** AWS allows 50 tags per resource; golden-ami uses up to 8 of them (markers and lineage: naming.ts, lineage.ts). */
export const MAX_USER_TAGS = 42;

/** EBS time-based copies: 15 minutes to 48 hours, in 15-minute steps. */
export const COMPLETION_MINUTES = { min: 15, max: 2880, step: 15 };
