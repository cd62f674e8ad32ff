"""Imported by every Python process of a test that puts this directory on PYTHONPATH (tide's queue
workers and runs are separate processes, so an in-process patch would not reach them).

- ``TIDE_TEST_CLOUD_LOCAL=1``: a cloud machine launched against the fake API (moto) is reached as this
  machine (a local shell) instead of over SSH at its unroutable fake address. The machine must be
  listed alive by the provider first: only the way to reach it is substituted. (SSH itself is proved
  by the ssh runner test; a handshake costs ~2 s on a loaded CI machine, and a run makes eight.)
- ``TIDE_TEST_FAIL_LAUNCH=NAME``: the launch of the runner called NAME fails right after EC2 accepted
  ``RunInstances`` (the instance exists: the provisioner's undo must terminate it).
"""

import os


def _install() -> None:
    from tide.core.errors import RunnerError
    from tide.ops import run
    from tide.runners import aws
    from tide.runners.transport import LocalShell

    if os.environ.get("TIDE_TEST_CLOUD_LOCAL"):
        def _wait_ssh(self, timeout: float = 300):
            listed = [m for m in self.prov.list() if m.id == self.machine.id and m.alive]
            if not listed:
                raise RunnerError(f"{self.name}: machine {self.machine.id} not listed by the provider")
            return LocalShell()

        run.Session._wait_ssh = _wait_ssh

    fail = os.environ.get("TIDE_TEST_FAIL_LAUNCH")
    if fail:
        real = aws.AwsProvisioner.launch

        def launch(self, spec, user_data, launch_id):
            if spec.name == fail:
                def boom(**kw):
                    from botocore.exceptions import EndpointConnectionError

                    raise EndpointConnectionError(endpoint_url="injected-after-RunInstances")

                self.ec2.meta.events.register("after-call.ec2.RunInstances", boom)
            return real(self, spec, user_data, launch_id)

        aws.AwsProvisioner.launch = launch


if os.environ.get("TIDE_TEST_CLOUD_LOCAL") or os.environ.get("TIDE_TEST_FAIL_LAUNCH"):
    _install()
