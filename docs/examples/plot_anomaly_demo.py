"""
Anomaly detection on the demo table, with explanations
=======================================================

``VAEAnomalyDetector`` learns the distribution of the training rows; rows the model
finds improbable score low. ``explain`` says which columns make a row unusual: each
column's log-likelihood given the other columns, relative to a typical training row.
The demo table ships with skvae (breast cancer measurements, malignant tumours as
the rare class).
"""

import matplotlib.pyplot as plt
from sklearn.metrics import average_precision_score, roc_auc_score

from skvae import VAEAnomalyDetector
from skvae.datasets import load_demo

X, y = load_demo(return_X_y=True)
detector = VAEAnomalyDetector(random_state=0).fit(X)
scores = detector.score_samples(X)  # higher = more normal
print(f"ROC-AUC {roc_auc_score(y, -scores):.3f}")
print(f"average precision {average_precision_score(y, -scores):.3f}")
print(f"rows flagged by predict: {(detector.predict(X) == -1).sum()} of {len(X)}")

# %%
# The most unusual row and the columns that make it so.
top = scores.argmin()
explanation = detector.explain(X.iloc[[top]]).iloc[0].sort_values()
fig, ax = plt.subplots(figsize=(7, 4))
explanation.head(10)[::-1].plot.barh(ax=ax)
ax.set_xlabel("contribution (log-likelihood given the other columns, vs typical)")
ax.set_title(f"Row {X.index[top]}: the ten columns that make it unusual")
fig.tight_layout()
