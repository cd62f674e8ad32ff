"""tide runner launch|list|stop|reap."""

from __future__ import annotations

CLOUDS = ("local", "ssh", "aws", "gcp", "azure", "kubernetes")
# 'tide runner --cloud aws ...' (CML's 'cml runner' form, no action) means 'tide runner launch ...'
DEFAULT_ACTION = "launch"
_NO_TERRAFORM = "tide provisions machines through the cloud APIs, without Terraform/TPI or a CML install: drop it"


def _where(p) -> None:
    p.add_argument("--cloud", choices=CLOUDS, default="local", help="compute kind (default: local)")
    p.add_argument("--host", default="", help="ssh: USER@HOST[:PORT]")
    p.add_argument("--cloud-region", default="us-west", help="generic (us-east, us-west, eu-west, eu-north) or native")
    p.add_argument("--cloud-ssh-private", default="", help="private key file for ssh")


def register(p) -> None:
    from tide.cli.forgeargs import add_forge_options

    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    la = sub.add_parser("launch", help="provision a machine that becomes a self-hosted runner")
    _where(la)
    la.add_argument("--cloud-type", default="m", help="generic size s/m/l/xl or a native type (default: m)")
    la.add_argument("--cloud-gpu", default="", help="t4, k80, v100, a10g, l4, nogpu or native")
    la.add_argument("--cloud-spot", action="store_true", help="use spot/preemptible capacity")
    la.add_argument("--cloud-spot-price", type=float, default=-1.0, help="maximum spot price (-1: current)")
    la.add_argument("--cloud-hdd-size", type=int, default=35, help="disk size in GB (default 35)")
    la.add_argument("--cloud-image", default="", help="machine image (AMI id, GCP image, Azure URN, container)")
    la.add_argument("--cloud-startup-script", default="",
                    help="shell script run before the agent: base64 (like CML) or @FILE")
    la.add_argument("--cloud-metadata", action="append", default=[], metavar="KEY=VALUE", help="tags/labels")
    la.add_argument("--cloud-permission-set", default="",
                    help="AWS instance profile, GCP 'sa-email,scopes=...', Azure identity, k8s service account")
    la.add_argument("--cloud-aws-security-group", default="")
    la.add_argument("--cloud-aws-subnet", "--cloud-aws-subnet-id", dest="cloud_aws_subnet", default="")
    la.add_argument("--cloud-kubernetes-node-selector", default="", metavar="K=V[,K=V]")
    la.add_argument("--labels", default="tide", help="comma-separated runner labels (default: tide)")
    la.add_argument("--name", default="", help="runner name (default: tide-<random>)")
    la.add_argument("--single", action="store_true", help="run one job, then terminate")
    la.add_argument("--idle-timeout", default="300", help="seconds (or 5m, 1h) without a job before terminating; never")
    la.add_argument("--max-runtime", default="72h", help="hard ceiling after which the machine terminates; never")
    la.add_argument("--reuse", action="store_true", help="do nothing if a runner with these labels is online")
    la.add_argument("--reuse-idle", action="store_true", help="do nothing if an idle runner with these labels exists")
    la.add_argument("--docker-volumes", action="append", default=[], help="GitLab docker executor volumes")
    la.add_argument("--no-retry", action="store_true",
                    help="accepted for CML: tide never re-runs a workflow when a machine goes away")
    from tide.cli.cmlcompat import refuse

    for flag in ("--tpi-version", "--cml-version", "--tf-resource", "--tf_resource", "--destroy-delay"):
        refuse(la, flag, why=_NO_TERRAFORM)
    refuse(la, "--workdir", "--path", why="the agent's work directory is tide's own (under the runner's home on "
           "the machine): drop it")
    refuse(la, "--gcp-access-token", why="give GCP credentials as GOOGLE_APPLICATION_CREDENTIALS (a key file) "
           "or the metadata server, not a token flag")
    la.add_argument("--no-agent", action="store_true",
                    help="start the watchdog without a forge agent (a runner for 'tide run' only)")
    add_forge_options(la)

    ls = sub.add_parser("list", help="list tide machines")
    _where(ls)
    ls.add_argument("--json", action="store_true")

    st = sub.add_parser("stop", help="terminate a runner")
    _where(st)
    st.add_argument("name")

    rp = sub.add_parser("reap", help="terminate every tide machine past its deadline or whose job ended")
    _where(rp)
    rp.add_argument("--dry-run", action="store_true", help="only show what would be terminated")
    rp.add_argument("--check-forge", action="store_true",
                    help="also terminate machines the forge does not know (agent never registered)")
    add_forge_options(rp)


def _startup_script(value: str) -> str:
    import base64
    import binascii

    from tide.core.errors import UsageError

    if not value:
        return ""
    if value.startswith("@"):
        try:
            with open(value[1:], encoding="utf-8") as f:
                return f.read()
        except OSError as exc:
            raise UsageError(f"--cloud-startup-script: cannot read {value[1:]}: {exc.strerror}")
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise UsageError("--cloud-startup-script must be base64 (as in CML) or @FILE")


def spec_from_args(args):
    from tide.ops.runner import new_name
    from tide.runners.base import (
        DEFAULT_IDLE_TIMEOUT,
        DEFAULT_MAX_RUNTIME,
        RunnerSpec,
        parse_duration,
        parse_labels,
        parse_pairs,
    )

    a = args
    opts = []
    for key, val in (("aws_security_group", getattr(a, "cloud_aws_security_group", "")),
                     ("aws_subnet", getattr(a, "cloud_aws_subnet", "")),
                     ("kubernetes_node_selector", getattr(a, "cloud_kubernetes_node_selector", ""))):
        if val:
            opts.append((key, val))
    if getattr(a, "action", "") != "launch":
        return RunnerSpec(name="tide-x", cloud=a.cloud, region=a.cloud_region, host=a.host,
                          ssh_private=a.cloud_ssh_private)
    return RunnerSpec(
        name=a.name or new_name(), cloud=a.cloud, labels=parse_labels(a.labels), region=a.cloud_region,
        type=a.cloud_type, gpu=a.cloud_gpu, spot=a.cloud_spot, spot_price=a.cloud_spot_price,
        hdd_size=a.cloud_hdd_size, image=a.cloud_image, ssh_private=a.cloud_ssh_private,
        startup_script=_startup_script(a.cloud_startup_script),
        metadata=parse_pairs(a.cloud_metadata, "--cloud-metadata"), permission_set=a.cloud_permission_set,
        single=a.single, idle_timeout=parse_duration(a.idle_timeout, "--idle-timeout", DEFAULT_IDLE_TIMEOUT),
        max_runtime=parse_duration(a.max_runtime, "--max-runtime", DEFAULT_MAX_RUNTIME), host=a.host,
        docker_volumes=tuple(a.docker_volumes), options=tuple(opts),
    )


def _forge(args, required: bool):
    from tide.cli.forgeargs import forge_options
    from tide.ops.forge import open_forge

    if not required:
        return None
    return open_forge(**forge_options(args)).forge


def _emit_json(event: dict) -> None:
    import json

    print(json.dumps(event), flush=True)


def run(args) -> int:
    from tide.ops import runner as ops

    spec = spec_from_args(args)
    if args.cloud == "ssh" and not args.host:
        from tide.core.errors import UsageError

        raise UsageError("--cloud ssh needs --host USER@HOST[:PORT]")
    if args.action == "launch":
        forge = _forge(args, not args.no_agent)
        ops.launch(spec, forge=forge, no_agent=args.no_agent, reuse=args.reuse, reuse_idle=args.reuse_idle,
                   emit=_emit_json)
        return 0
    prov = ops.provisioner(spec)
    if args.action == "list":
        machines = prov.list()
        if args.json:

            from tide.cli.output import emit_json

            emit_json([m.to_json() for m in machines])
            return 0
        if not machines:
            if not args.quiet:
                print("No tide runners.")
            return 0
        import time

        print(f"{'NAME':<24} {'CLOUD':<10} {'STATE':<10} {'TYPE':<14} {'SPOT':<5} {'DEADLINE':<20} ID")
        for m in machines:
            dl = time.strftime("%Y-%m-%d %H:%M", time.localtime(m.deadline)) if m.deadline else "-"
            print(f"{m.name:<24} {m.cloud:<10} {m.state:<10} {m.type or '-':<14} {'yes' if m.spot else 'no':<5} "
                  f"{dl:<20} {m.id}")
        return 0
    if args.action == "stop":
        for m in ops.stop(prov, args.name):
            if not args.quiet:
                print(f"terminated {m.name} ({m.id})")
        return 0
    if args.action == "reap":
        verdicts = ops.reap(prov, forge=_forge(args, args.check_forge), dry_run=args.dry_run)
        failed = 0
        for v in verdicts:
            verb = "would terminate" if args.dry_run else ("FAILED to terminate" if v.error else "terminated")
            print(f"{verb} {v.machine.name} ({v.machine.id}): {v.reason}" + (f": {v.error}" if v.error else ""))
            failed += bool(v.error)
        if not verdicts and not args.quiet:
            print("Nothing to reap.")
        return 1 if failed else 0
    return 2
