"""skvae: scikit-learn estimators around a PyTorch variational autoencoder."""

# License: BSD 3-Clause

from skvae._anomaly import VAEAnomalyDetector

__version__ = "0.1.0.dev0"

__all__ = ["VAEAnomalyDetector", "__version__"]
