"""
Filling the holes of a mixed table
==================================

A fifth of the cells of a small mixed table (scikit-learn's wine data with a
categorical and a boolean column) are removed at random. ``VAEImputer`` fills the
numbers and the categories at once, from one model of the whole table; the
numeric columns are compared with ``SimpleImputer`` (the column mean) and
``KNNImputer`` on the same holes, in units of each column's standard deviation.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.impute import KNNImputer, SimpleImputer

from skvae import VAEImputer

wine = load_wine(as_frame=True)
table = wine.data[["alcohol", "malic_acid", "color_intensity", "proline", "hue"]]
table = table.assign(
    cultivar=pd.Categorical(np.asarray(wine.target_names)[wine.target]),
    strong=(table["alcohol"] > table["alcohol"].median()).astype("boolean"),
)
rng = np.random.RandomState(0)
holes = rng.rand(*table.shape) < 0.2
holed = table.mask(holes)

filled = VAEImputer(random_state=0).fit_transform(holed)
print(filled.dtypes.to_string())

numeric = list(table.columns[:5])
numbers = holed[numeric].to_numpy()
others = {
    "SimpleImputer": SimpleImputer().fit_transform(numbers),
    "KNNImputer": KNNImputer().fit_transform(numbers),
    "VAEImputer": filled[numeric].to_numpy(),
}
truth = table[numeric].to_numpy()
gone = holes[:, :5]
errors = {
    name: np.sqrt(np.mean(((guess - truth) / truth.std(axis=0))[gone] ** 2))
    for name, guess in others.items()
}
print({name: round(float(error), 3) for name, error in errors.items()})
cultivar = holes[:, 5]
accuracy = (filled["cultivar"][cultivar] == table["cultivar"][cultivar]).mean()
print(f"cultivar filled right in {accuracy:.0%} of its holes")

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.barh(list(errors), list(errors.values()))
ax.set_xlabel("RMSE on the removed numeric cells (standard deviations)")
fig.tight_layout()
