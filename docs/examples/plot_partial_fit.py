"""
Training in chunks with partial_fit
===================================

A table too large for memory can train a detector chunk by chunk: each
``partial_fit`` call is one pass over its chunk, with the optimiser's state kept
from the call before. Here the demo table is cut into four chunks, as a file read
with ``pandas.read_csv(..., chunksize=...)`` would be, and passed over 60 times;
the ranking of the known anomalies is followed pass by pass and compared with
``fit`` on the whole table. The first chunk fixes the schema and the scaling, so
the rows are shuffled first: a sorted file would give it a biased picture.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score

from skvae import VAEAnomalyDetector
from skvae.datasets import load_demo

X, y = load_demo(return_X_y=True)
order = np.random.RandomState(0).permutation(len(X))
chunks = [X.iloc[rows] for rows in np.array_split(order, 4)]

streamed = VAEAnomalyDetector(random_state=0)
passes, auc = [], []
for done in range(1, 61):
    for chunk in chunks:
        streamed.partial_fit(chunk)
    if done % 5 == 0:
        passes.append(done)
        auc.append(roc_auc_score(y, -streamed.score_samples(X)))
print(f"partial_fit: {streamed.n_iter_} calls, {streamed.n_samples_seen_} rows seen")

whole = VAEAnomalyDetector(random_state=0).fit(X)
whole_auc = roc_auc_score(y, -whole.score_samples(X))
print(f"ROC-AUC after 60 passes {auc[-1]:.3f}; fit on the whole table {whole_auc:.3f}")
flagged = streamed.predict(X) == -1
print(f"flagged {flagged.sum()} rows, {y[flagged].sum()} of them known anomalies")

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(passes, auc, marker="o", label="partial_fit, 4 chunks")
ax.axhline(whole_auc, color="grey", linestyle="--", label="fit, whole table")
ax.set_xlabel("passes over the table")
ax.set_ylabel("ROC-AUC of the known anomalies")
ax.legend(loc="lower right")
fig.tight_layout()
