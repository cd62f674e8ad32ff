"""Model registry in git tags, GTO-compatible: versions, stages, deprecations, annotations, the gate."""
