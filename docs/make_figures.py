"""Draw the figures of the user guide into docs/images/ (needs matplotlib).

Usage: python docs/make_figures.py
"""

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skvae import VAEAnomalyDetector, VAETransformer  # noqa: E402
from skvae.datasets import load_demo  # noqa: E402

IMAGES = Path(__file__).resolve().parent / "images"


def anomaly_figures():
    X, y = load_demo(return_X_y=True)
    detector = VAEAnomalyDetector(random_state=0).fit(X)
    scores = detector.score_samples(X)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    bins = np.linspace(np.percentile(scores, 0.5), scores.max(), 50)
    ax.hist(scores[y == 0], bins=bins, alpha=0.7, label="normal (benign)")
    ax.hist(scores[y == 1], bins=bins, alpha=0.9, label="known anomaly (malignant)")
    ax.axvline(
        detector.offset_, color="k", ls="--", label='offset_ (contamination="auto")'
    )
    ax.set_xlabel("score_samples (higher = more normal)")
    ax.set_ylabel("rows")
    ax.set_title("VAEAnomalyDetector on the demo table")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMAGES / "anomaly_scores.png", dpi=110)
    plt.close(fig)

    worst = X.iloc[[int(np.argmin(scores))]]
    contributions = detector.explain(worst).iloc[0].sort_values().head(10)[::-1]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.barh(contributions.index, contributions.to_numpy(), color="tab:red")
    ax.set_xlabel("contribution (log-likelihood vs. a typical training row)")
    ax.set_title(f"Why row {worst.index[0]} is the most unusual (10 largest columns)")
    fig.tight_layout()
    fig.savefig(IMAGES / "anomaly_explanation.png", dpi=110)
    plt.close(fig)


def transformer_figure():
    digits = load_digits()
    X, y = digits.data, digits.target
    vae = VAETransformer(n_components=2, random_state=0).fit(X)
    embeddings = {
        "VAETransformer (2-D latent means)": vae.transform(X),
        "PCA (2 components)": PCA(n_components=2).fit_transform(
            StandardScaler().fit_transform(X)
        ),
    }
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, (title, Z) in zip(axes, embeddings.items(), strict=True):
        points = ax.scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", s=6)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(points, ax=axes, label="digit")
    fig.savefig(IMAGES / "transformer_digits.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    IMAGES.mkdir(exist_ok=True)
    anomaly_figures()
    transformer_figure()
