"""Train the example's model and write everything the report and the promotion gate read.

Outputs (all under model/):
  random_forest.joblib   the model (versioned by tide, stored in the remote, not in git)
  metrics.txt            one line, "Accuracy: 0.868", as the seed example writes it
  metrics.json           accuracy, precision, recall, f1 (read by tide metrics and the gate)
  confusion_matrix.png   the confusion matrix on the evaluation rows
  predictions.csv        one row per evaluation example: row,label,prediction (the gate's paired bootstrap)
"""

import json
import os

import joblib
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import yaml
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, f1_score, precision_score, recall_score


def main():
    with open("params.yaml") as f:
        params = yaml.safe_load(f)["train"]
    X_train = np.genfromtxt("data/train_features.csv")
    y_train = np.genfromtxt("data/train_labels.csv").astype(int)
    X_test = np.genfromtxt("data/test_features.csv")
    y_test = np.genfromtxt("data/test_labels.csv").astype(int)

    clf = RandomForestClassifier(
        n_estimators=params["n_estimators"], max_depth=params["max_depth"], random_state=params["seed"]
    )
    clf.fit(X_train, y_train)
    pred = clf.predict(X_test)

    os.makedirs("model", exist_ok=True)
    metrics = {
        "accuracy": round(float(accuracy_score(y_test, pred)), 4),
        "precision": round(float(precision_score(y_test, pred)), 4),
        "recall": round(float(recall_score(y_test, pred)), 4),
        "f1": round(float(f1_score(y_test, pred)), 4),
        "train_rows": int(len(y_train)),
    }
    print(f"Accuracy: {metrics['accuracy']}")
    with open("model/metrics.txt", "w") as f:
        f.write(f"Accuracy: {metrics['accuracy']}\n")
    with open("model/metrics.json", "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")
    with open("model/predictions.csv", "w") as f:
        f.write("row,label,prediction\n")
        for i, (label, p) in enumerate(zip(y_test, pred, strict=True)):
            f.write(f"{i},{label},{p}\n")
    ConfusionMatrixDisplay.from_predictions(y_test, pred, cmap=plt.cm.Blues)
    plt.title(f"Confusion matrix (accuracy {metrics['accuracy']})")
    plt.savefig("model/confusion_matrix.png")
    joblib.dump(clf, "model/random_forest.joblib")


if __name__ == "__main__":
    main()
