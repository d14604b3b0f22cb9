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

/** What the source instance should be once its image exists. */
export type AfterImage = "stopped" | "running";
export const AFTER_IMAGE_VALUES: readonly AfterImage[] = ["stopped", "running"];

/** How to tell a builder is done customising (see ec2/readiness.ts). */
export type BuilderReadiness = "none" | "stopped" | "status-ok";
export const BUILDER_READINESS_VALUES: readonly BuilderReadiness[] = ["none", "stopped", "status-ok"];

export const VOLUME_TYPES = ["gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"] as const;

/** Default limits, in minutes. */
export const DEFAULT_STOP_TIMEOUT_MINUTES = 10;
export const DEFAULT_IMAGE_TIMEOUT_MINUTES = 60;
export const DEFAULT_PROVISIONING_TIMEOUT_MINUTES = 30;

/** AWS allows 50 tags per resource; golden-ami uses up to 8 of them (markers and lineage: naming.ts, lineage.ts). */
export const MAX_USER_TAGS = 42;

/** EBS time-based copies: 15 minutes to 48 hours, in 15-minute steps. */
export const COMPLETION_MINUTES = { min: 15, max: 2880, step: 15 };
