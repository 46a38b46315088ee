"""
Balancing classes in an imbalanced-learn pipeline
=================================================

``VAEAugmenter.fit_resample`` adds synthetic rows of the rare classes, as
imbalanced-learn's over-samplers do, so the augmenter is a step of an
``imblearn.pipeline.Pipeline``: resampling happens when the pipeline is fitted,
never when it predicts. This example shows the mechanics; on this table, whose
classes a linear model separates almost perfectly, the synthetic rows do not
improve the classifier, and the printed scores say so. Whether they help on your
table is for cross-validation to tell.
"""

import numpy as np
from imblearn.pipeline import make_pipeline
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skvae import VAEAugmenter

X, y = load_breast_cancer(return_X_y=True)
# Keep one malignant tumour in ten: a rare class.
rare = (y == 0).nonzero()[0][::10]
keep = sorted(set((y == 1).nonzero()[0]) | set(rare))
X, y = X[keep], y[keep]
X_train, X_test, y_train, y_test = train_test_split(
    X, y, stratify=y, test_size=0.3, random_state=0
)
print("training rows per class:", np.bincount(y_train))

plain = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
balanced = make_pipeline(
    VAEAugmenter(random_state=0), StandardScaler(), LogisticRegression(max_iter=1000)
)
for name, model in [("without resampling", plain), ("with VAEAugmenter", balanced)]:
    model.fit(X_train, y_train)
    score = balanced_accuracy_score(y_test, model.predict(X_test))
    print(f"{name:>19}: balanced accuracy {score:.3f}")

X_res, y_res = VAEAugmenter(random_state=0).fit_resample(X_train, y_train)
print("after fit_resample:", np.bincount(y_res))
