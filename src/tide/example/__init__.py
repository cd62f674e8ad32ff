"""The example project written by ``tide init --example DIR`` and used by ``tide demo``.

The files beside this one are package data, copied as they are: get_data.py (a growing synthetic
dataset from scikit-learn's make_classification), train.py (a RandomForest, metrics, confusion
matrix, per-example predictions), params.yaml, dvc.yaml, tide.yaml and requirements.txt.
"""
