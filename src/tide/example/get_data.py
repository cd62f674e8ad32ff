"""Make the example's data: a synthetic binary classification problem that grows every day.

The rows come from one fixed pool (scikit-learn's make_classification, random_state=42), so the
data of day N is the data of day N-1 plus ``rows_per_day`` new rows, and the evaluation rows
(the first ``test_rows`` of the pool) are the same every day: the promotion gate compares models
on exactly the same examples.

The day is taken from the environment variable TIDE_DAY (an integer, used by simulations such as
``tide demo``), else it is the number of days since ``data.start`` in params.yaml.
"""

import datetime
import os

import numpy as np
import yaml
from sklearn.datasets import make_classification


def main():
    with open("params.yaml") as f:
        params = yaml.safe_load(f)["data"]
    if os.environ.get("TIDE_DAY"):
        day = int(os.environ["TIDE_DAY"])
    else:
        start = datetime.date.fromisoformat(str(params["start"]))
        day = max(0, (datetime.date.today() - start).days)
    day = min(day, params["max_days"])
    pool = params["test_rows"] + params["base_rows"] + params["max_days"] * params["rows_per_day"]
    X, y = make_classification(
        n_samples=pool,
        n_features=params["n_features"],
        n_informative=params["n_informative"],
        flip_y=params["flip_y"],
        random_state=42,
    )
    t = params["test_rows"]
    n_train = params["base_rows"] + day * params["rows_per_day"]
    os.makedirs("data", exist_ok=True)
    np.savetxt("data/test_features.csv", X[:t])
    np.savetxt("data/test_labels.csv", y[:t], fmt="%d")
    np.savetxt("data/train_features.csv", X[t : t + n_train])
    np.savetxt("data/train_labels.csv", y[t : t + n_train], fmt="%d")
    print(f"day {day}: {n_train} training rows, {t} evaluation rows")


if __name__ == "__main__":
    main()
