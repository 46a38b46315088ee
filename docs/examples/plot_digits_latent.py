"""
A latent map of the digits: VAE against PCA
===========================================

``VAETransformer`` is a nonlinear ``PCA``: ``transform`` maps rows to a small latent
space (the posterior means), ``inverse_transform`` maps codes back. On the 8x8
digits, two latent dimensions of the VAE separate the classes better than the first
two principal components.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skvae import VAETransformer

X, y = load_digits(return_X_y=True)
maps = {
    "PCA": PCA(n_components=2).fit_transform(X),
    "VAETransformer": VAETransformer(n_components=2, random_state=0).fit_transform(X),
}
for name, Z in maps.items():
    accuracy = cross_val_score(KNeighborsClassifier(), Z, y, cv=5).mean()
    print(f"{name:>14}: 5-NN accuracy in 2 dimensions {accuracy:.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, (name, Z) in zip(axes, maps.items(), strict=True):
    points = ax.scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", s=5)
    ax.set_title(name)
fig.colorbar(points, ax=axes, label="digit")
