"""URL scheme -> backend module, lazily imported, with install hints and DVC's option names.

Nothing is imported or registered at import time: ``open_backend`` imports the one module that
serves a URL's scheme. A scheme whose optional dependency is missing gives one line naming the
extra to install.
"""

from __future__ import annotations

from tide.core.config import Env
from tide.core.errors import ConfigError
from tide.core.values import Value
from tide.storage.base import Backend, BackendMissing, RemoteSpec

# options every remote accepts (dvc/config_schema.py REMOTE_COMMON and friends)
COMMON = frozenset({"url", "jobs", "checksum_jobs", "verify", "worktree", "version_aware", "no_traverse"})


class SchemeInfo(Value):
    __slots__ = ("module", "extra", "probe", "options")
    module: str  # "tide.storage.s3": must define open_backend(spec, env) -> Backend
    extra: str | None  # pip extra that brings its dependencies (None: always available)
    probe: tuple[str, ...]  # importable modules the backend needs
    options: frozenset[str]  # DVC option names valid for this kind of remote


_S3 = frozenset({
    "region", "profile", "credentialpath", "configpath", "endpointurl", "access_key_id", "secret_access_key",
    "session_token", "listobjects", "use_ssl", "ssl_verify", "sse", "sse_kms_key_id", "sse_customer_algorithm",
    "sse_customer_key", "acl", "grant_read", "grant_read_acp", "grant_write_acp", "grant_full_control",
    "cache_regions", "read_timeout", "connect_timeout", "allow_anonymous_login",
})
_HTTP = frozenset({"auth", "custom_auth_header", "user", "password", "ask_password", "ssl_verify", "method",
                   "connect_timeout", "read_timeout", "token"})
SCHEMES: dict[str, SchemeInfo] = {
    "local": SchemeInfo("tide.storage.local", None, (), frozenset({"type", "protected", "shared"})),
    "s3": SchemeInfo("tide.storage.s3", "s3", ("s3fs",), _S3),
    "gs": SchemeInfo("tide.storage.gs", "gs", ("gcsfs",),
                     frozenset({"projectname", "credentialpath", "endpointurl", "allow_anonymous_login"})),
    "azure": SchemeInfo("tide.storage.azure", "azure", ("adlfs",), frozenset({
        "account_name", "account_key", "connection_string", "sas_token", "tenant_id", "client_id",
        "client_secret", "allow_anonymous_login", "exclude_environment_credential",
        "exclude_visual_studio_code_credential", "exclude_shared_token_cache_credential",
        "exclude_managed_identity_credential", "timeout", "read_timeout", "connect_timeout",
    })),
    "ssh": SchemeInfo("tide.storage.ssh", "ssh", ("sshfs",), frozenset({
        "port", "user", "password", "ask_password", "passphrase", "ask_passphrase", "keyfile", "timeout",
        "gss_auth", "allow_agent", "max_sessions", "known_hosts",
    })),
    "http": SchemeInfo("tide.storage.http", "http", ("aiohttp",), _HTTP - {"token"}),  # dvc's http has no token
    "webdav": SchemeInfo("tide.storage.webdav", "webdav", ("webdav4",), _HTTP | {"cert_path", "key_path", "timeout"}),
    "gdrive": SchemeInfo("tide.storage.gdrive", "gdrive", ("httpx", "cryptography"), frozenset({
        "gdrive_use_service_account", "gdrive_client_id", "gdrive_client_secret", "gdrive_user_credentials_file",
        "gdrive_service_account_user_email", "gdrive_service_account_json_file_path", "gdrive_trash_only",
        "gdrive_acknowledge_abuse", "profile",
    })),
    "webhdfs": SchemeInfo("tide.storage.webhdfs", "webhdfs", ("fsspec", "requests"), frozenset({
        "user", "password", "kerberos", "kerberos_principal", "proxy_to", "ssl_verify", "token", "use_https",
        "data_proxy_target",
    })),
    "hdfs": SchemeInfo("tide.storage.hdfs", None, (), frozenset({"user", "kerb_ticket", "replication"})),
}
ALIASES = {"": "local", "file": "local", "https": "http", "webdavs": "webdav", "gcs": "gs", "azure": "azure",
           "sftp": "ssh"}
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SCHEME_CHARS = _LETTERS | frozenset("0123456789+.-")


def url_scheme(url: str) -> str:
    """What ``^([A-Za-z][A-Za-z0-9+.-]*)://`` captures in ``url``, lowercased ("" when it does not match),
    without ``re`` (its import is ~4 ms of every push, pull and fetch)."""
    head, sep, _ = url.partition("://")
    if sep and head[:1] in _LETTERS and _SCHEME_CHARS.issuperset(head):
        return head.lower()
    return ""


def scheme_of(url: str) -> str:
    """The backend family serving ``url`` (``local`` for plain paths)."""
    raw = url_scheme(url)
    name = ALIASES.get(raw, raw)
    if name not in SCHEMES:
        raise ConfigError(f"unsupported remote URL '{url}': scheme '{raw}' is not one of "
                          f"{', '.join(sorted(s for s in SCHEMES if s != 'local'))} or a local path")
    return name


def valid_options(url: str) -> frozenset[str]:
    return COMMON | SCHEMES[scheme_of(url)].options


def check_option(url: str, option: str) -> None:
    if option not in valid_options(url):
        raise ConfigError(f"'{option}' is not an option of {scheme_of(url)} remotes "
                          f"(see 'tide remote modify --help' or docs/storage.md)")


def missing_dependency(scheme: str) -> str | None:
    """The install hint when the scheme's optional dependencies are missing, else None."""
    info = SCHEMES[scheme]
    if not info.probe:  # a local directory: nothing to look for (importlib.util is not imported)
        return None
    import importlib.util

    for mod in info.probe:
        if importlib.util.find_spec(mod) is None:
            return (f"{scheme} remotes need the '{info.extra}' extra: "
                    f"pip install 'tide-ml[{info.extra}]' (missing module '{mod}')")
    return None


def open_backend(spec: RemoteSpec, env: Env | None = None) -> Backend:
    """Open the backend for a configured remote (imports only that scheme's module)."""
    import importlib

    scheme = scheme_of(spec.url)
    hint = missing_dependency(scheme)
    if hint:
        raise BackendMissing(hint)
    if scheme != "local":  # a local directory loads no SDK: no need to import `logging` (6 ms)
        from tide.core.logs import quiet_library_logs

        quiet_library_logs()  # SDKs log retries and asyncio errors through `logging`
    module = importlib.import_module(SCHEMES[scheme].module)
    return module.open_backend(spec, env or Env())
