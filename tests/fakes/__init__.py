"""One home for the fakes and servers the tests run against (issue 21).

- ``servers``: real servers on loopback (moto for S3 and EC2, OpenSSH sshd, wsgidav, http.server, the
  GCS emulator, Azurite); a server that cannot start fails the run, nothing is skipped.
- ``fixtures``: one session fixture per server (a pytest plugin loaded by ``tests/conftest.py``):
  ``moto_s3``, ``sshd``, ``webdav``, ``static_http``, ``upload_http``, ``webhdfs_fake``, ``gcs``,
  ``azurite``, ``gdrive_fake``. Test areas adapt them (``ssh_home``, ``aws_env``), never start a second.
- stateful fakes of documented APIs: ``forge/`` (GitHub, GitLab, Gitea, Bitbucket), ``runners`` (GCP
  Compute, Azure Resource Manager, Kubernetes, spot metadata), ``gdrive`` (Drive v3), ``webhdfs``,
  ``http_upload`` (an HTTP server that stores uploads).
"""
