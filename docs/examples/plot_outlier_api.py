"""
The outlier API beside IsolationForest
======================================

``VAEAnomalyDetector`` follows scikit-learn's outlier detectors: ``score_samples``
(higher = more normal), ``decision_function`` (negative for anomalies, shifted by
``offset_``), ``predict`` (+1 / -1) and ``contamination``. Here both detectors are
fitted on the same rows and their scores compared.
"""

import matplotlib.pyplot as plt
from scipy.stats import spearmanr
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skvae import VAEAnomalyDetector
from skvae.datasets import load_demo

X, y = load_demo(return_X_y=True)
models = {
    "VAEAnomalyDetector": VAEAnomalyDetector(contamination=0.05, random_state=0),
    "IsolationForest": IsolationForest(contamination=0.05, random_state=0),
}
scores = {}
for name, model in models.items():
    model.fit(X)
    scores[name] = model.score_samples(X)
    flagged = model.predict(X) == -1
    print(
        f"{name:>18}: ROC-AUC {roc_auc_score(y, -scores[name]):.3f}, "
        f"flagged {flagged.sum()}, of which known anomalies {y[flagged].sum()}"
    )
rho = spearmanr(scores["VAEAnomalyDetector"], scores["IsolationForest"])[0]
print(f"rank correlation of the two scores: {rho:.2f}")

# %%
fig, ax = plt.subplots(figsize=(5, 4.5))
ax.scatter(
    scores["IsolationForest"], scores["VAEAnomalyDetector"], c=y, cmap="coolwarm", s=8
)
ax.set_xlabel("IsolationForest.score_samples")
ax.set_ylabel("VAEAnomalyDetector.score_samples")
ax.set_title("red: known anomalies")
fig.tight_layout()
