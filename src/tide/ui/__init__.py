"""``tide ui``: a read-only local web app over the repository's history (Starlette on uvicorn).

``facts`` gathers what the pages show from tide's ops (metrics, params, registry, diff, plots) and keeps
a cache keyed by commit ids; ``app`` serves the pages, a JSON API and the vendored Vega-Lite scripts.
"""
