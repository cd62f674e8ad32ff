"""Generic region, size and GPU names mapped per cloud: data, not code.

Users type generic names (``--cloud-region eu-west``, ``--cloud-type m``, ``--cloud-gpu t4``) or
a native one (``eu-central-1``, ``c6i.4xlarge``); a name not in the table passes through as native.
Sizes follow CML's/TPI's choices so existing workflows keep their machines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tide.core.errors import UsageError

GENERIC_REGIONS = ("us-east", "us-west", "eu-west", "eu-north")
GENERIC_SIZES = ("s", "m", "l", "xl")
GENERIC_GPUS = ("t4", "k80", "v100", "a10g", "l4")

REGIONS: dict[str, dict[str, str]] = {
    "aws": {"us-east": "us-east-1", "us-west": "us-west-1", "eu-west": "eu-west-1", "eu-north": "eu-north-1"},
    "gcp": {"us-east": "us-east1-c", "us-west": "us-west1-b", "eu-west": "europe-west1-d",
            "eu-north": "europe-north1-a"},
    "azure": {"us-east": "eastus", "us-west": "westus2", "eu-west": "westeurope", "eu-north": "northeurope"},
    "kubernetes": {},
}

# (size, gpu) -> native type. "" gpu = CPU only.
TYPES: dict[str, dict[tuple[str, str], str]] = {
    "aws": {
        ("s", ""): "t3.medium", ("m", ""): "m5.2xlarge", ("l", ""): "m5.8xlarge", ("xl", ""): "m5.16xlarge",
        ("m", "t4"): "g4dn.xlarge", ("l", "t4"): "g4dn.12xlarge", ("xl", "t4"): "g4dn.metal",
        ("m", "k80"): "p2.xlarge", ("l", "k80"): "p2.8xlarge", ("xl", "k80"): "p2.16xlarge",
        ("m", "v100"): "p3.xlarge", ("l", "v100"): "p3.8xlarge", ("xl", "v100"): "p3.16xlarge",
        ("m", "a10g"): "g5.xlarge", ("l", "a10g"): "g5.12xlarge", ("xl", "a10g"): "g5.48xlarge",
    },
    "gcp": {
        ("s", ""): "e2-standard-2", ("m", ""): "e2-custom-8-32768", ("l", ""): "e2-custom-32-131072",
        ("xl", ""): "n2-custom-64-262144",
        ("m", "t4"): "n1-standard-4+nvidia-tesla-t4*1", ("l", "t4"): "n1-standard-32+nvidia-tesla-t4*4",
        ("m", "k80"): "n1-standard-4+nvidia-tesla-k80*1", ("m", "v100"): "n1-standard-8+nvidia-tesla-v100*1",
        ("l", "v100"): "n1-standard-32+nvidia-tesla-v100*4", ("m", "l4"): "g2-standard-8+nvidia-l4*1",
    },
    "azure": {
        ("s", ""): "Standard_B2s", ("m", ""): "Standard_F8s_v2", ("l", ""): "Standard_F32s_v2",
        ("xl", ""): "Standard_F64s_v2", ("m", "t4"): "Standard_NC4as_T4_v3", ("m", "k80"): "Standard_NC6",
        ("m", "v100"): "Standard_NC6s_v3", ("l", "v100"): "Standard_NC24s_v3",
    },
    # Kubernetes "types" are resource requests: cpu/memory[/gpu count].
    "kubernetes": {
        ("s", ""): "1/2Gi", ("m", ""): "8/32Gi", ("l", ""): "32/128Gi", ("xl", ""): "64/256Gi",
        ("m", "t4"): "4/16Gi/1", ("m", "v100"): "8/61Gi/1", ("m", "k80"): "4/61Gi/1",
    },
}

IMAGES: dict[str, str] = {
    # AWS: resolved by name at launch (owner Canonical) unless --cloud-image is given.
    "aws": "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*",
    "gcp": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts",
    "azure": "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest",
    "kubernetes": "python:3.12-slim",
}
AWS_IMAGE_OWNER = "099720109477"  # Canonical


@dataclass(frozen=True)
class Placement:
    region: str
    type: str
    gpu: str


def resolve(cloud: str, region: str, size: str, gpu: str) -> Placement:
    """Native region/zone and machine type for ``cloud`` from generic or native names."""
    gpu = (gpu or "").lower()
    if gpu in ("nogpu", "none"):
        gpu = ""
    if gpu == "tesla":
        gpu = "v100"
    native_region = REGIONS.get(cloud, {}).get(region, region)
    table = TYPES.get(cloud, {})
    head, plus, tail = size.partition("+")
    if plus and head in GENERIC_SIZES and tail.lower() in (*GENERIC_GPUS, "tesla"):  # CML's m+k80, l+v100
        combined = "v100" if tail.lower() == "tesla" else tail.lower()
        if gpu and gpu != combined:
            raise UsageError(f"--cloud-type {size} and --cloud-gpu {gpu} name two different GPUs: give one")
        size, gpu = head, combined
    if size in GENERIC_SIZES:
        key = (size, gpu if gpu in GENERIC_GPUS else "")
        if key not in table:
            if gpu in GENERIC_GPUS:
                raise UsageError(f"--cloud-type {size} with --cloud-gpu {gpu} is not offered on {cloud}; "
                                 "pass a native type")
            raise UsageError(f"--cloud-type {size} is not offered on {cloud}; pass a native type")
        native_type = table[key]
    else:
        native_type = size
    return Placement(native_region, native_type, gpu)


def next_zone(region: str) -> str:
    """Another zone of the same region (spot relaunch elsewhere): ``us-east-1a`` -> ``us-east-1b``,
    ``europe-west1-d`` -> ``europe-west1-b``; a region without a zone letter is returned as is."""
    if re.search(r"[0-9-][a-z]$", region):
        return region[:-1] + ("b" if region[-1] != "b" else "c")
    return region
