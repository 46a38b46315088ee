"""Draw the figures of the user guide into docs/images/ (needs matplotlib).

Usage: python docs/make_figures.py
"""

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skvae import VAEAnomalyDetector, VAEAugmenter, VAETransformer  # noqa: E402
from skvae.datasets import load_demo  # noqa: E402

IMAGES = Path(__file__).resolve().parent / "images"
ADULT = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "tabular" / "adult.csv"
)


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


def augmenter_figures():
    if ADULT.exists():
        adult = pd.read_csv(ADULT, skipinitialspace=True)
        for column in adult.columns:
            if not pd.api.types.is_numeric_dtype(adult[column]):
                adult[column] = adult[column].astype(object)
        X, y = adult.drop(columns="income"), adult["income"]
        X_new, y_new = (
            VAEAugmenter(random_state=0).fit(X, y).sample(len(X), random_state=0)
        )
        columns = ["age", "hours-per-week", "education", "marital-status"]
        fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
        for ax, column in zip(axes, columns, strict=True):
            if pd.api.types.is_numeric_dtype(X[column]):
                bins = np.linspace(X[column].min(), X[column].max(), 40)
                ax.hist(X[column], bins=bins, alpha=0.6, density=True, label="real")
                ax.hist(
                    X_new[column], bins=bins, alpha=0.6, density=True, label="synthetic"
                )
            else:
                real = X[column].value_counts(normalize=True)
                fake = X_new[column].value_counts(normalize=True).reindex(real.index)
                top = real.index[:8]
                positions = np.arange(len(top))
                ax.barh(positions - 0.2, real[top], height=0.4, label="real")
                ax.barh(
                    positions + 0.2, fake[top].fillna(0), height=0.4, label="synthetic"
                )
                ax.set_yticks(positions, top, fontsize=7)
                ax.invert_yaxis()
            ax.set_title(column)
        axes[0].legend()
        fig.suptitle("adult: real rows vs. VAEAugmenter rows (conditional on income)")
        fig.tight_layout()
        fig.savefig(IMAGES / "augmenter_adult.png", dpi=100)
        plt.close(fig)

    digits = load_digits()
    augmenter = VAEAugmenter(random_state=0).fit(digits.data, digits.target)
    fig, axes = plt.subplots(10, 8, figsize=(8, 10))
    for label in range(10):
        real = digits.data[digits.target == label][:4]
        fake, _ = augmenter.sample(4, y=label, random_state=label)
        for j, image in enumerate(list(real) + list(fake)):
            ax = axes[label, j]
            ax.imshow(np.asarray(image).reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_title("real", fontsize=9, loc="left")
    axes[0, 4].set_title("synthetic (per class)", fontsize=9, loc="left")
    fig.tight_layout()
    fig.savefig(IMAGES / "augmenter_digits.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    IMAGES.mkdir(exist_ok=True)
    anomaly_figures()
    transformer_figure()
    augmenter_figures()
