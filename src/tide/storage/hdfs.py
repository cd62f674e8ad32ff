"""``hdfs://`` remotes: not supported; ``webhdfs://`` reaches the same cluster.

dvc's ``hdfs`` remote goes through pyarrow's ``HadoopFileSystem``, which loads ``libhdfs`` from a
Hadoop installation and runs the Hadoop Java client inside the process (``JAVA_HOME``,
``HADOOP_HOME``, ``CLASSPATH`` from ``hadoop classpath --glob``). tide does not drive that client:
opening an ``hdfs://`` remote says so in one line and names the WebHDFS URL to use instead (the
layout on the cluster is the same, so dvc's ``hdfs`` remote and tide's ``webhdfs`` remote can
point at one directory).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tide.core.config import Env
from tide.storage.base import BackendMissing, RemoteSpec


def webhdfs_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "NAMENODE"
    user = f"{parts.username}@" if parts.username else ""
    return f"webhdfs://{user}{host}:9870{parts.path or '/'}"


def open_backend(spec: RemoteSpec, env: Env) -> None:
    raise BackendMissing(
        f"hdfs:// remotes need libhdfs and a Hadoop client (Java), which tide does not use; reach the same "
        f"cluster over WebHDFS instead: tide remote modify {spec.name or 'NAME'} url {webhdfs_url(spec.url)} "
        "(the namenode's HTTP port, 9870 on Hadoop 3, 50070 on Hadoop 2)")
