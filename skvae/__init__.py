"""skvae: scikit-learn estimators around a PyTorch variational autoencoder."""

# License: BSD 3-Clause

from skvae._anomaly import VAEAnomalyDetector
from skvae._augmenter import VAEAugmenter
from skvae._imputer import VAEImputer
from skvae._transformer import VAETransformer

__version__ = "0.1.0.dev0"

__all__ = [
    "VAEAnomalyDetector",
    "VAEAugmenter",
    "VAEImputer",
    "VAETransformer",
    "__version__",
]
