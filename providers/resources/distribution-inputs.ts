/**
 * The distribution arguments of the image resources as Pulumi inputs, with their
 * documentation for users' editors.
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * The distribution arguments of a resource (InstanceImage, ImageCopy): {@link DistributionArgs}
 * with every field a Pulumi input. All of them are changed in place, never by a new image.
 */
export interface DistributionInputs {
    /** 12-digit AWS account IDs allowed to launch the image. Changed in place (exactly the difference). */
    launchAccounts?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Organization ARNs whose accounts may launch the image
     * (`arn:aws:organizations::123456789012:organization/o-xxxxxxxxxx`). Changed in place.
     */
    launchOrganizations?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Organizational unit ARNs whose accounts may launch the image
     * (`arn:aws:organizations::123456789012:ou/o-xxxxxxxxxx/ou-xxxx-xxxxxxxx`). Changed in place.
     */
    launchOrganizationalUnits?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Make the image public (launchable by every AWS account). Only on explicit opt-in; default
     * false. Refused by EC2 while the account's block public access for AMIs is on.
     */
    public?: pulumi.Input<boolean>;
    /**
     * Also give the `launchAccounts` create-volume permission on the image's snapshots, so they
     * can copy the image or create volumes from it. Needs `launchAccounts`. Default false.
     */
    shareSnapshots?: pulumi.Input<boolean>;
    /**
     * ISO 8601 time (with `Z` or an offset) at which EC2 marks the image deprecated, e.g.
     * `2030-01-31T00:00:00Z`; at most 10 years ahead (2 for public images). EC2 rounds it to the
     * nearest minute; a value within the same minute counts as unchanged. Remove it to clear.
     */
    deprecateAt?: pulumi.Input<string>;
    /**
     * Deregistration protection (without cooldown): the image cannot be deregistered, and so
     * `pulumi destroy` of it fails, until this is false again. Default false.
     */
    deregistrationProtection?: pulumi.Input<boolean>;
}

/**
 * The distribution properties of a resource's args, each present (possibly undefined), for the
 * props a resource class hands to Pulumi: only properties present there are read back as outputs.
 */
export function distributionOutputSlots(args: DistributionInputs): Record<keyof DistributionInputs, unknown> {
    return {
        launchAccounts: args.launchAccounts,
        launchOrganizations: args.launchOrganizations,
        launchOrganizationalUnits: args.launchOrganizationalUnits,
        public: args.public,
        shareSnapshots: args.shareSnapshots,
        deprecateAt: args.deprecateAt,
        deregistrationProtection: args.deregistrationProtection,
    };
}
