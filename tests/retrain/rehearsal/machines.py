"""The machines a rehearsed CI job runs on, and the cloud that boots the runners tide launches.

- :class:`Image`: what every machine has installed, as a CI image does: the test venv's libraries
  *without* tide (a directory of links), so a job gets tide only from its install line, and tide
  itself as a wheel built from this checkout (``pip wheel --no-deps``, offline, cached by content).
- :class:`Machine`: a fresh directory standing for one machine (HOME, tool cache, temp, work dir)
  with a clean environment: nothing of the environment pytest runs in (no git identity, no token).
  ``python(version)`` is ``actions/setup-python``/a ``python:X`` image: a venv of the current
  interpreter (it must be the version asked for) whose ``pip`` installs offline.
- :class:`Cloud`: EC2 behind moto. ``boot()`` runs the user data of every instance tide launched, as
  cloud-init does: the real startup script, the real watchdog, the forge agent downloaded with
  ``curl`` (a shim that serves fake agents: they register with the fake forge and take one job from
  the rehearsal's dispatcher), and a poweroff that ends the instance in moto as EC2 does.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".tools" / "rehearsal"
SKIP_IN_IMAGE = ("tide", "tide_ml", "__editable__.tide")   # tide comes from the job's install line only
WORLD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class RehearsalError(AssertionError):
    """The rehearsed workflow failed (a step, an expression, a runner that never came)."""


# --- the image --------------------------------------------------------------------------------------
def _tree_hash() -> str:
    h = hashlib.sha256()
    for base in ("pyproject.toml", "README.md"):
        h.update((ROOT / base).read_bytes())
    for p in sorted((ROOT / "src").rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(ROOT)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def build_wheel() -> Path:
    """tide-ml's wheel from this checkout (cached under .tools/rehearsal by the tree's content)."""
    out = CACHE / f"wheel-{_tree_hash()}"
    found = sorted(out.glob("tide_ml-*.whl")) if out.exists() else []
    if found:
        return found[0]
    tmp = CACHE / f"build-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "src").mkdir(parents=True)
    shutil.copytree(ROOT / "src" / "tide", tmp / "src" / "tide", ignore=shutil.ignore_patterns("__pycache__"))
    for f in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / f, tmp / f)
    wheels = tmp / "wheels"
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    base = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(tmp)]
    # the test venv's setuptools when it can build a wheel (no network), else an isolated build
    proc = subprocess.run([*base, "--no-build-isolation", "--no-index"], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        proc = subprocess.run(base, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RehearsalError(f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}")
    out.mkdir(parents=True, exist_ok=True)
    whl = next(wheels.glob("tide_ml-*.whl"))
    shutil.copy(whl, out / (whl.name + ".tmp"))
    os.replace(out / (whl.name + ".tmp"), out / whl.name)
    shutil.rmtree(tmp, ignore_errors=True)
    return out / whl.name


class Image:
    def __init__(self, top: Path) -> None:
        self.top = top
        self.site = top / "image-site"
        self.site.mkdir(parents=True)
        purelib = Path(sysconfig.get_paths()["purelib"])
        for entry in purelib.iterdir():
            if entry.name.lower().startswith(SKIP_IN_IMAGE) or entry.name == "__pycache__":
                continue
            (self.site / entry.name).symlink_to(entry)
        self.wheel = build_wheel()
        self.version = f"{sys.version_info.major}.{sys.version_info.minor}"


class Machine:
    """One fresh machine: ``env`` is all it has (PATH, HOME, locale, the world's endpoints)."""

    def __init__(self, image: Image, root: Path, world_env: dict[str, str]) -> None:
        self.image = image
        self.root = root
        for d in ("home", "tmp", "toolcache", "work", "bin"):
            (root / d).mkdir(parents=True, exist_ok=True)
        self.env = {"PATH": f"{root / 'bin'}:{WORLD_PATH}", "HOME": str(root / "home"), "LANG": "C.UTF-8",
                    "TMPDIR": str(root / "tmp"), **world_env}

    def python(self, version: str) -> Path:
        """A Python of ``version`` with pip (offline); returns its bin directory."""
        if str(version) != self.image.version:
            raise RehearsalError(f"python {version} asked for; the rehearsal has only {self.image.version} "
                                 "(the interpreter running the tests)")
        venv = self.root / "toolcache" / "Python" / version / "x64"
        if not venv.exists():
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
            site = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                        "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                       capture_output=True, text=True, check=True).stdout.strip())
            (site / "image.pth").write_text(str(self.image.site) + "\n")
            pip = venv / "bin" / "pip"
            pip.write_text(f"#!{venv}/bin/python\nimport sys\nfrom pip._internal.cli.main import main\n"
                           "sys.exit(main())\n")
            pip.chmod(0o755)
            (venv / "bin" / "pip3").symlink_to("pip")
        return venv / "bin"


# --- fake forge agents, served by a curl shim --------------------------------------------------------
GITHUB_CONFIG = r'''#!/usr/bin/env python3
"""config.sh of the rehearsal's GitHub runner: registers with the fake GitHub (runner-registration)."""
import json, os, sys, urllib.request
args, i, opts = sys.argv[1:], 0, {"ephemeral": False}
while i < len(args):
    a = args[i]
    if a in ("--ephemeral", "--unattended", "--replace"):
        opts[a[2:]] = True; i += 1; continue
    opts[a[2:]] = args[i + 1]; i += 2
body = {"url": opts["url"], "token": opts["token"], "name": opts["name"], "labels": opts["labels"].split(","),
        "ephemeral": opts["ephemeral"], "agent_dir": os.getcwd()}
headers = {"Content-Type": "application/json", "Authorization": "RemoteAuth " + opts["token"]}
req = urllib.request.Request(API + "/actions/runner-registration", data=json.dumps(body).encode(), headers=headers)
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        print("Runner successfully added", json.loads(r.read())["id"])
except urllib.error.HTTPError as e:
    sys.exit(f"Http response code: {e.code} from 'POST {API}/actions/runner-registration': {e.read()!r}")
json.dump(body | {"token": ""}, open(".runner", "w"))
'''

GITHUB_RUN = r'''#!/usr/bin/env python3
"""run.sh of the rehearsal's GitHub runner: waits for the dispatcher's job file, reports like the real one."""
import json, os, sys, time
cfg = json.load(open(".runner"))
print("√ Connected to GitHub", flush=True)
print("Current runner version: '2.321.0'", flush=True)
print(time.strftime("%Y-%m-%d %H:%M:%SZ") + ": Listening for Jobs", flush=True)
while True:
    while not os.path.exists("job.json"):
        time.sleep(0.1)
    job = json.load(open("job.json"))
    print(time.strftime("%Y-%m-%d %H:%M:%SZ") + f": Running job: {job['name']}", flush=True)
    while not os.path.exists("job.done"):
        time.sleep(0.1)
    result = open("job.done").read().strip()
    print(time.strftime("%Y-%m-%d %H:%M:%SZ") + f": Job {job['name']} completed with result: {result}", flush=True)
    os.remove("job.json"); os.remove("job.done")
    if cfg["ephemeral"]:
        sys.exit(0)
'''

GITLAB_RUNNER = r'''#!/usr/bin/env python3
"""gitlab-runner of the rehearsal: run-single verifies its token with the fake GitLab, takes jobs from
the dispatcher's job file and logs like gitlab-runner --log-format=json."""
import json, os, sys, time, urllib.request
args = sys.argv[1:]
opt = {args[i][2:]: args[i + 1] for i in range(len(args) - 1)
       if args[i].startswith("--") and not args[i + 1].startswith("--")}
home = os.environ["TIDE_HOME"]
body = json.dumps({"token": opt["token"], "agent_dir": home}).encode()
req = urllib.request.Request(API + "/runners/verify", data=body, headers={"Content-Type": "application/json"})
try:
    urllib.request.urlopen(req, timeout=30).read()
except urllib.error.HTTPError as e:
    sys.exit(json.dumps({"level": "error", "msg": f"verify failed: {e.code}"}))
print(json.dumps({"level": "info", "msg": "Starting runner for " + opt["url"]}), flush=True)
done, most = 0, int(opt.get("max-builds", "0"))
polling = os.path.join(home, "polling")    # present while this agent asks GitLab for a job
while not most or done < most:
    open(polling, "w").close()
    while not os.path.exists(os.path.join(home, "job.json")):
        time.sleep(0.1)
    os.remove(polling)
    job = json.load(open(os.path.join(home, "job.json")))
    print(json.dumps({"level": "info", "job": job["id"], "msg": "received"}), flush=True)
    while not os.path.exists(os.path.join(home, "job.done")):
        time.sleep(0.1)
    result = open(os.path.join(home, "job.done")).read().strip()
    print(json.dumps({"level": "info", "job": job["id"], "duration_s": 1, "msg": "Job " + result.lower()}), flush=True)
    os.remove(os.path.join(home, "job.json")); os.remove(os.path.join(home, "job.done"))
    done += 1
'''

CURL = r'''#!/usr/bin/env python3
"""curl of the rehearsal's machines: the forge agents' downloads are served from here; anything else
is unreachable (the rehearsal has no network)."""
import io, os, sys, tarfile
args, out, url = sys.argv[1:], None, None
i = 0
while i < len(args):
    if args[i] == "-o":
        out = args[i + 1]; i += 2; continue
    if args[i] == "--retry":
        i += 2; continue
    if not args[i].startswith("-"):
        url = args[i]
    i += 1
files = FILES
def put(data):
    with open(out, "wb") as f:
        f.write(data)
if url and "/actions/runner/releases/" in url:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name in ("config.sh", "run.sh"):
            data = files[name].encode()
            info = tarfile.TarInfo(name); info.size = len(data); info.mode = 0o755
            t.addfile(info, io.BytesIO(data))
    put(buf.getvalue())
elif url and "gitlab-runner-downloads" in url:
    put(files["gitlab-runner"].encode())
else:
    sys.exit(f"curl: (6) Could not resolve host (the rehearsal has no network): {url}")
'''


def write_shims(bindir: Path, github_api: str, gitlab_api: str) -> None:
    files = {"config.sh": GITHUB_CONFIG.replace("API + ", f"{github_api!r} + "),
             "run.sh": GITHUB_RUN,
             "gitlab-runner": GITLAB_RUNNER.replace("API + ", f"{gitlab_api!r} + ")}
    curl = bindir / "curl"
    curl.write_text(CURL.replace("FILES", repr(files)))
    curl.chmod(0o755)


# --- EC2 in moto: boot what tide launched -------------------------------------------------------------
POWEROFF = r'''import sys, boto3
endpoint, region, iid = sys.argv[1:4]
# EC2 itself ends the instance (shutdown -h with the 'terminate' behaviour): no credential of the machine's
ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint, aws_access_key_id="hypervisor",
                   aws_secret_access_key="hypervisor")
how = ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior")
if how["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate":
    ec2.terminate_instances(InstanceIds=[iid])
else:
    ec2.stop_instances(InstanceIds=[iid])
'''

AWS_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-north-1")


class Cloud:
    """moto's EC2 seen from the rehearsal: instances tide launched are booted once, each as a Machine."""

    def __init__(self, endpoint: str, image: Image, top: Path, world_env: dict[str, str],
                 github_api: str = "", gitlab_api: str = "") -> None:
        self.endpoint = endpoint
        self.image = image
        self.top = top
        self.world_env = world_env
        self.apis = (github_api, gitlab_api)
        self.booted: dict[str, Machine] = {}
        self.watchdogs: dict[str, int] = {}
        top.mkdir(parents=True, exist_ok=True)
        (top / "poweroff.py").write_text(POWEROFF)

    def publish_image(self, name: str, regions: tuple[str, ...] = AWS_REGIONS) -> None:
        """The machine image tide looks for (Canonical's Ubuntu by name), published in this account:
        moto's catalogue does not carry it (the world has it; the rehearsal's machines are these dirs)."""
        for region in regions:
            c = self.client(region)
            if not c.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])["Images"]:
                c.register_image(Name=name, Architecture="x86_64", RootDeviceName="/dev/sda1",
                                 VirtualizationType="hvm")

    def client(self, region: str):
        import boto3

        return boto3.client("ec2", region_name=region, endpoint_url=self.endpoint, aws_access_key_id="cloud",
                            aws_secret_access_key="cloud")

    def instances(self, states: tuple[str, ...] = ("pending", "running")) -> list[tuple[str, dict]]:
        out = []
        for region in AWS_REGIONS:
            for r in self.client(region).describe_instances()["Reservations"]:
                for i in r["Instances"]:
                    if i["State"]["Name"] in states:
                        out.append((region, i))
        return out

    def boot(self) -> list[Machine]:
        """Run the user data of every instance not booted yet (cloud-init), as root of that machine."""
        started = []
        for region, inst in self.instances():
            iid = inst["InstanceId"]
            if iid in self.booted:
                continue
            raw = self.client(region).describe_instance_attribute(InstanceId=iid, Attribute="userData")
            data = base64.b64decode(raw["UserData"].get("Value", ""))
            script = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()
            m = Machine(self.image, self.top / iid, self.world_env)
            write_shims(m.root / "bin", *self.apis)
            (m.root / "user-data.sh").write_text(script)
            home = m.root / "opt" / "tide-runner"
            env = dict(m.env, TIDE_HOME=str(home), TIDE_NO_SYSTEMD="1",
                       TIDE_POWEROFF=f"{sys.executable} {self.top / 'poweroff.py'} {self.endpoint} {region} {iid}")
            proc = subprocess.run(["bash", str(m.root / "user-data.sh")], cwd=m.root, env=env, capture_output=True,
                                  text=True, timeout=120)
            (m.root / "cloud-init.log").write_text(proc.stdout + proc.stderr)
            self.booted[iid] = m
            m.home = home  # type: ignore[attr-defined]
            pid = home / "watchdog.pid"
            if pid.exists():
                self.watchdogs[iid] = int(pid.read_text())
            if proc.returncode != 0:
                raise RehearsalError(f"instance {iid}: the startup script failed ({proc.returncode}):\n"
                                     f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
            started.append(m)
        return started

    def wait_down(self, timeout: float = 40) -> None:
        """Wait until every booted machine's watchdog has ended (it powers the instance off)."""
        end = time.monotonic() + timeout
        for pid in self.watchdogs.values():
            while _alive(pid) and time.monotonic() < end:
                time.sleep(0.1)

    def shutdown(self) -> None:
        """End the watchdogs this rehearsal started (by pid) that are still alive."""
        import signal

        for pid in self.watchdogs.values():
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (our grandchild, reparented) counts as ended
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


__all__ = ["Image", "Machine", "Cloud", "RehearsalError", "io", "json", "tarfile"]
