"""What a CI job needs to run tide for this project: the extras to install and the secrets to pass.

Computed from what the CI machine will see, the committed project (never from the machine running
``tide ci init``): the remotes in ``.dvc/config``, the runner (``--cloud``, ``ci.runner``,
``retrain.runner``), the forge, database imports and declared plots.

Every secret names its ``reader``: the module that reads it from the environment (tide's own, or a
library tide drives: botocore, google.auth, azure.identity), or ``setup`` when one of the job's setup
lines turns it into a file or a ``.dvc/config.local`` option. A variable nobody reads is a bug (the
tests check each reader); so is a credential the job needs and does not get.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

from tide.core.config import to_bool

SETUP = "setup"


@dataclass(frozen=True)
class Secret:
    name: str
    purpose: str
    reader: str                     # a module that reads it from the environment, or SETUP
    secret: bool = True             # False: a plain setting (an unmasked GitLab variable)
    store: str = ""                 # the name in the CI service's store when it differs (GITHUB_TOKEN)

    @property
    def stored_as(self) -> str:
        return self.store or self.name


@dataclass(frozen=True)
class Needs:
    extras: frozenset[str] = frozenset()
    secrets: tuple[Secret, ...] = ()
    setup: tuple[str, ...] = ()     # shell lines run before tide, with the secrets in the environment
    notes: tuple[str, ...] = ()     # what the user must know (printed after writing)

    def __add__(self, other: Needs) -> Needs:
        names = {s.name for s in self.secrets}
        return Needs(self.extras | other.extras,
                     self.secrets + tuple(s for s in other.secrets if s.name not in names),
                     self.setup + tuple(x for x in other.setup if x not in self.setup),
                     self.notes + tuple(x for x in other.notes if x not in self.notes))


def _file_line(var: str, then: str) -> str:
    """A setup line: the secret's text into a new private file ($f), then ``then`` (which uses "$f")."""
    return f'f=$(mktemp) && printf \'%s\\n\' "${var}" > "$f" && {then}'


def _local_option(remote: str, option: str, value: str) -> str:
    return f"tide remote modify --local {shlex.quote(remote)} {option} {value}"


def _env_name(remote: str) -> str:
    return "TIDE_REMOTE_" + re.sub(r"[^A-Z0-9]", "_", remote.upper()) + "_PASSWORD"


AWS_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def remote_needs(name: str, opts: dict[str, str]) -> Needs:
    """The extra and the credentials one remote of ``.dvc/config`` needs on a CI machine."""
    from tide.storage.registry import SCHEMES, scheme_of

    url = opts.get("url", "")
    scheme = scheme_of(url)
    extra = SCHEMES[scheme].extra
    extras = frozenset({extra} if extra else set())
    anonymous = to_bool(opts.get("allow_anonymous_login", "false"), "allow_anonymous_login")
    what = f"remote '{name}' ({scheme})"
    if scheme == "local":
        return Needs(notes=(f"{what} is a path on this machine: a CI machine does not have it; "
                            "use a cloud or SSH remote for scheduled retraining",))
    if scheme == "hdfs":
        return Needs(notes=(f"{what}: tide does not drive the Hadoop client (see docs/storage.md)",))
    if anonymous:
        return Needs(extras)
    if scheme == "s3":
        notes = ()
        if opts.get("profile") or opts.get("credentialpath"):
            notes = (f"{what} names a profile or credentials file; the CI machine has neither: keep those "
                     "in .dvc/config.local so the job uses AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",)
        return Needs(extras, tuple(Secret(k, what, "tide.storage.s3_http") for k in AWS_KEYS), notes=notes)
    if scheme == "gs":
        sec = Secret("GOOGLE_APPLICATION_CREDENTIALS_DATA", f"{what}: a service-account JSON key", SETUP)
        return Needs(extras, (sec,), (_file_line(sec.name, _local_option(name, "credentialpath", '"$f"')),))
    if scheme == "azure":
        return Needs(extras, (Secret("AZURE_STORAGE_CONNECTION_STRING", what, "tide.storage.azure"),))
    if scheme == "ssh":
        sec = Secret("TIDE_SSH_PRIVATE_KEY", f"{what}: a private key the host accepts", SETUP)
        return Needs(extras, (sec,), (_file_line(sec.name, _local_option(name, "keyfile", '"$f"')),))
    if scheme == "gdrive":
        return Needs(extras, (Secret("GDRIVE_CREDENTIALS_DATA", f"{what}: service-account key or user credentials JSON",
                                     "tide.storage.gdrive"),))
    if scheme in ("http", "webdav") and (opts.get("user") or opts.get("auth")) and not opts.get("password"):
        sec = Secret(_env_name(name), f"{what}: the password of user '{opts.get('user', '')}'", SETUP)
        return Needs(extras, (sec,), (_local_option(name, "password", f'"${sec.name}"'),))
    if scheme == "webhdfs" and opts.get("kerberos") and to_bool(opts["kerberos"], "kerberos"):
        return Needs(extras, notes=(f"{what} uses Kerberos: the CI machine needs a ticket (kinit) before tide runs",))
    return Needs(extras)


def runner_needs(kind: str, *, launcher: bool) -> Needs:
    """The extra and the credentials that provisioning a ``kind`` machine needs (``tide runner launch``
    with ``launcher``, or ``tide run --on`` from ``tide retrain``)."""
    what = f"{kind} runner"
    if kind == "aws":
        return Needs(frozenset({"s3"}), tuple(Secret(k, f"{what} (EC2)", "botocore") for k in AWS_KEYS))
    if kind == "gcp":
        sec = Secret("GOOGLE_APPLICATION_CREDENTIALS_DATA", f"{what}: a service-account JSON key", SETUP)
        # google.auth reads the key file GOOGLE_APPLICATION_CREDENTIALS names (google-auth comes with gcsfs)
        return Needs(frozenset({"gs", "forge"}),
                     (sec, Secret("GOOGLE_CLOUD_PROJECT", f"{what}: the project id", "tide.runners.gcp", secret=False)),
                     (_file_line(sec.name, 'export GOOGLE_APPLICATION_CREDENTIALS="$f"'),))
    if kind == "azure":
        ident = tuple(Secret(k, f"{what}: a service principal", "azure.identity")
                      for k in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"))
        conf = tuple(Secret(k, what, "tide.runners.azure", secret=False)
                     for k in ("AZURE_SUBSCRIPTION_ID", "AZURE_SUBNET_ID"))
        return Needs(frozenset({"azure", "forge"}), ident + conf)  # azure-identity comes with adlfs
    if kind == "kubernetes":
        sec = Secret("KUBERNETES_CONFIGURATION", f"{what}: a kubeconfig file's text", SETUP)
        return Needs(frozenset({"forge"}), (sec,), (_file_line(sec.name, 'export KUBECONFIG="$f"'),))
    if kind == "ssh":
        sec = Secret("TIDE_SSH_PRIVATE_KEY", f"{what}: a private key the host accepts", SETUP)
        lines = (f'ssh_key=$(mktemp) && printf \'%s\\n\' "${sec.name}" > "$ssh_key"',)
        if not launcher:  # tide run --on ssh://... uses OpenSSH, which asks the agent
            lines += ('eval "$(ssh-agent -s)" > /dev/null && ssh-add -q "$ssh_key"',)
        return Needs(secrets=(sec,), setup=lines)
    return Needs()


def project_needs(root: str) -> Needs:
    """Remotes (committed ``.dvc/config``), database imports and plots of the project at ``root``."""
    from tide.core.config import Config

    needs = Needs()
    sections = Config(os.path.join(root, ".dvc")).read_level("repo")
    remotes = {sec.split(".", 1)[1]: vals for sec, vals in sorted(sections.items())
               if sec.startswith("remote.") and "url" in vals}
    for name, vals in remotes.items():
        needs = needs + remote_needs(name, vals)
    if not remotes:
        needs = needs + Needs(notes=("no remote in .dvc/config: models and data would stay on the CI machine; "
                                     "add one (tide remote add -d NAME URL) and commit .dvc/config",))
    if uses_import_db(root):
        needs = needs + Needs(frozenset({"db"}))
    if declares_plots(root):
        needs = needs + Needs(frozenset({"plots"}))
    return needs


def _git_files(root: str, pattern: str) -> list[str]:
    from tide.core.errors import TideError
    from tide.core.git import Git

    try:
        return [p for p in Git(root).out("ls-files", "-z", "--", pattern).split("\0") if p]
    except TideError:
        return []


def uses_import_db(root: str) -> bool:
    """A ``.dvc`` file written by ``import-db`` (a ``db`` dependency), or an ``import-db`` command in
    ``retrain.get_data`` or a stage."""
    from tide.core import settings as S

    if "import-db" in (S.retrain_settings(S.load(root)).get_data or ""):
        return True
    for rel in _git_files(root, "*.dvc") + _git_files(root, "dvc.yaml"):
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        if re.search(r"^\s*-?\s*db:", text, re.M) or "import-db" in text:
            return True
    return False


def declares_plots(root: str) -> bool:
    """dvc.yaml declares plots (the report draws them with matplotlib)."""
    for rel in _git_files(root, "dvc.yaml"):
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                if re.search(r"^\s*plots:", f.read(), re.M):
                    return True
        except OSError:
            continue
    return False
