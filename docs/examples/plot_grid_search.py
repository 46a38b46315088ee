"""
Grid search over a pipeline without labels
==========================================

``VAETransformer.score`` is the mean log-likelihood estimate per row, as ``PCA.score``
is, so ``GridSearchCV`` can choose the latent size with no labels: here over a
pipeline that scales the columns first. The fits are short (``max_epochs=20``) to
keep the example quick.
"""

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skvae import VAETransformer

X, _ = load_wine(return_X_y=True)
pipeline = make_pipeline(
    StandardScaler(), VAETransformer(max_epochs=20, random_state=0)
)
search = GridSearchCV(
    pipeline, {"vaetransformer__n_components": [1, 2, 4, 8]}, cv=3
).fit(X)
results = pd.DataFrame(search.cv_results_)
print(results[["param_vaetransformer__n_components", "mean_test_score"]].to_string())
print("chosen:", search.best_params_)

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.errorbar(
    results["param_vaetransformer__n_components"].astype(int),
    results["mean_test_score"],
    yerr=results["std_test_score"],
    marker="o",
)
ax.set_xscale("log", base=2)
ax.set_xlabel("n_components")
ax.set_ylabel("held-out log-likelihood per row")
fig.tight_layout()
