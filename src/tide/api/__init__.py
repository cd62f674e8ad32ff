"""tide's Python API, with ``dvc.api``'s signatures and semantics: read data and parameters of a
repository (this one, another local one, or a git URL) at any revision.

    import tide.api
    with tide.api.open("data/train.csv", repo="https://github.com/org/registry", rev="v2") as f:
        header = f.readline()
    model = tide.api.read("models/model.pkl", mode="rb")
    url = tide.api.get_url("models/model.pkl", repo="../registry")
    params = tide.api.params_show(rev="main")
    fs = tide.api.TideFileSystem(repo="../registry", rev="v1"); fs.ls("data")
    path = tide.api.model_get("churn#prod", repo="https://github.com/org/registry", out="model.pkl")

Nothing is imported until a name is used, so ``import tide.api`` stays fast.
"""

from __future__ import annotations

__all__ = ["open", "read", "get_url", "params_show", "metrics_show", "TideFileSystem", "model_get"]

_WHERE = {
    "model_get": "tide.api.data",
    "open": "tide.api.data", "read": "tide.api.data", "get_url": "tide.api.data",
    "params_show": "tide.api.show", "metrics_show": "tide.api.show", "TideFileSystem": "tide.api.fs",
}


def __getattr__(name: str):  # PEP 562: import on first use
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tide.api' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
