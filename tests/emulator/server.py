"""golden-ami's EC2 emulator: moto 5.2.1's server plus the extensions our tests need.

golden-ami waits for instances, images and snapshots, copies and encrypts images,
protects and deprecates them, and must survive throttling and failed images.
Plain moto makes all of that instantaneous or unimplemented, so the product's
wait and error paths would never run in tests. This launcher starts moto's
server (all services; we use EC2, SSM, KMS and STS) on a loopback port, with
the patches of emulator_patches.py and the WSGI layer of emulator_http.py, and
prints one line ``golden-ami-emulator listening on http://127.0.0.1:PORT`` when
it accepts connections. It never edits site-packages.

Extensions (each proven by a test in tests/emulator/*.test.ts):
1. Time: instances pass through pending/stopping, images through pending, image snapshots through pending with rising progress for a duration that grows with their volume's size, builders whose user data ends in a shutdown power themselves off, status checks initialize, from per-run durations (GA_EMULATOR_TIMING or the control API; default 0 = moto's instant behaviour).
2. CreateImage: snapshot TagSpecifications, NoReboot recorded, BlockDeviceMappings (NoDevice drops a volume, VolumeSize resizes it), one snapshot per instance volume, AWS errors for bad instance states and duplicate names.
3. CopyImage: Encrypted/KmsKeyId, CopyImageTags, image+snapshot TagSpecifications, idempotent ClientToken, SnapshotCopyCompletionDurationMinutes, SourceImageId/SourceImageRegion.
4. Image lifecycle: Enable/DisableImageDeprecation, Enable/DisableImageDeregistrationProtection (DeregisterImage refused while protected), DeregisterImage DeleteAssociatedSnapshots.
5. Faults: a seeded fraction of EC2 calls (optionally only some actions) answer HTTP 503 RequestLimitExceeded; failNext makes the next CreateImage or CopyImage end `failed` with a StateReason, or the next instance fail a status check (impaired).
6. Call log: every EC2 request (action, region, epoch ms, throttled, status, signing access key ID) and every created/copied image (kind, region, createdAt, availableAt, when each snapshot completes), readable and resettable.
7. Fidelity fixes: DescribeSnapshots honours OwnerIds ("self" or account IDs); RunInstances gives an instance its AMI's block device mappings; StartInstances on a stopping and StopInstances on a pending instance fail with IncorrectInstanceState; ModifySnapshotAttribute honours the structured CreateVolumePermission Add/Remove form.
8. Builders (ext_instances.py): RunInstances ClientToken idempotency (same token and parameters: the first reservation; other parameters: IdempotentParameterMismatch) and the DescribeInstances client-token filter; user data that runs (echo to the console output, sleep, exit/false with an ERR/EXIT trap, shutdown or self-termination, read by GetConsoleOutput); status checks that fail for instances of chosen AMIs (statusFailures); TerminateInstances through shutting-down (instanceTerminating).
9. Copy limits (ext_copy_limits.py): at most `copyLimit` snapshot copies in flight per destination region (GA_EMULATOR_COPY_LIMIT or the control API; default none); CopyImage beyond it answers ResourceLimitExceeded as EC2 does ("Too many snapshot copies in progress. The limit is N for this destination region.").
10. Image references (ext_references.py): DescribeImageReferences (instances, launch templates, SSM parameters of the caller's region, with the state-name and version-depth options), DisableImage/EnableImage and the `disabled` state, LastLaunchedTime set by RunInstances, and RunInstances (directly or through a launch template) from a deregistered AMI failing with InvalidAMIID.NotFound, from a disabled one with InvalidAMIID.Unavailable.
11. SSM aws:ec2:image (ext_ssm_image.py): PutParameter answers 200 as SSM does, but a value that is not an available AMI of the region is not stored (SSM validates asynchronously and drops it).
12. Launch mappings (ext_launch_mappings.py): RunInstances block device mappings (in the request or the launch template) merged with the AMI's by device name, field by field, as EC2 merges them (NoDevice drops one of the AMI's); moto used the request's instead of the AMI's.
13. Accounts (ext_accounts.py): an image shared with another account (launch permission UserId) is described to it (by ID, Owners, ExecutableUsers) and copied by it with CopyImage when its snapshots grant create-volume permission to it (AuthFailure otherwise); moto kept every image inside its owner's backend.
14. Call pacing (ext_call_pacing.py): a latency per EC2 action (control API `latency`), so a kill can land between two calls of a series; each call-log entry names the ImageId or SnapshotId its request names (`target`).
15. AWS managed EBS key (ext_kms_managed.py): the `alias/aws/ebs` key moto creates for an encryption without a KMS key is AWS managed (DescribeKey KeyManager AWS); moto made it a customer managed key.

Control API (JSON, same port): POST /_golden-ami/config, GET /_golden-ami/config,
GET /_golden-ami/calls, POST /_golden-ami/calls/reset; POST /moto-api/reset also
resets the extensions. See tests/emulator/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

sys.dont_write_bytecode = True  # keep the working tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="golden-ami EC2 emulator (moto + extensions)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument(
        "--exit-on-stdin-close", action="store_true",
        help="exit when stdin reaches end of file (the parent process went away)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK:
        parser.error(f"--host must be a loopback address, not {args.host!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    import emulator_patches
    from emulator_http import GoldenAmiMiddleware

    emulator_patches.apply()
    app = GoldenAmiMiddleware(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True)
    port = server.server_port
    os.environ.setdefault("MOTO_PORT", str(port))

    done = threading.Event()

    def stop(*_: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.exit_on_stdin_close:
        def watch_stdin() -> None:
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except (OSError, ValueError):
                pass
            done.set()

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    serving = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    serving.start()
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"golden-ami-emulator listening on http://{host}:{port}", flush=True)

    while not done.wait(0.5):
        if not serving.is_alive():
            return 1
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
