"""
Synthetic rows of a mixed table
===============================

``VAEAugmenter`` models a DataFrame's numeric, integer, boolean and categorical
columns natively and draws new rows with the same columns, dtypes and category
levels. The table here is scikit-learn's wine data with a categorical cultivar,
an integer column and a boolean one added.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_wine

from skvae import VAEAugmenter

wine = load_wine(as_frame=True)
frame = wine.data[["alcohol", "malic_acid", "color_intensity", "proline"]].copy()
frame["magnesium"] = wine.data["magnesium"].astype(np.int64)
frame["cultivar"] = pd.Categorical(np.asarray(wine.target_names)[wine.target])
frame["strong"] = frame["alcohol"] > frame["alcohol"].median()

augmenter = VAEAugmenter(random_state=0).fit(frame)
synthetic = augmenter.sample(len(frame), random_state=0)
print(synthetic.dtypes.to_string())
print(synthetic.head().to_string())

# %%
# Real and synthetic distributions, column by column.
fig, axes = plt.subplots(2, 3, figsize=(10, 6))
numbers = ["alcohol", "proline", "magnesium", "color_intensity"]
for ax, column in zip(axes.ravel(), numbers, strict=False):
    bins = np.histogram_bin_edges(frame[column], bins=20)
    ax.hist(frame[column], bins=bins, alpha=0.6, label="real")
    ax.hist(synthetic[column], bins=bins, alpha=0.6, label="synthetic")
    ax.set_title(column)
axes[0, 0].legend()
shares = pd.DataFrame(
    {
        "real": frame["cultivar"].value_counts(normalize=True),
        "synthetic": synthetic["cultivar"].value_counts(normalize=True),
    }
)
shares.plot.bar(ax=axes[1, 1], rot=0, title="cultivar")
pd.DataFrame(
    {
        "real": frame.groupby("strong")["alcohol"].mean(),
        "synthetic": synthetic.groupby("strong")["alcohol"].mean(),
    }
).plot.bar(ax=axes[1, 2], rot=0, title="mean alcohol by 'strong'")
fig.tight_layout()
