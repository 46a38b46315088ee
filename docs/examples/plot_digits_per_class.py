"""
New digit images, per class
===========================

``VAEAugmenter.fit(X, y)`` conditions the VAE on the class, so that ``sample`` draws
rows of a chosen class. Each 8x8 digit is a row of 64 pixel columns; new rows are
drawn and shown as images beside real ones.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skvae import VAEAugmenter

X, y = load_digits(return_X_y=True)
augmenter = VAEAugmenter(random_state=0).fit(X, y)

fig, axes = plt.subplots(10, 8, figsize=(6, 8))
for digit in range(10):
    real = X[y == digit][:4]
    new, _ = augmenter.sample(4, y=digit, random_state=digit)
    for k, image in enumerate(np.vstack([real, new])):
        ax = axes[digit, k]
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_axis_off()
axes[0, 1].set_title("real", loc="right")
axes[0, 5].set_title("synthetic", loc="right")
fig.tight_layout()
