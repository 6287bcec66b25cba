"""Model packs in the analysis: which installed packs a run uses, and what their labels mean.

The services resolve the selection from the registry (:func:`select_packs`) into
``AnalysisSettings.packs`` — plain paths, so a worker process or a cluster node rebuilds the
same models from the settings it was shipped (see :mod:`retrouve.vision.models`, which loads
them once per process), and the run records exactly which packs it used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from retrouve.config import PackSelection
from retrouve.domain import Attribute
from retrouve.vision.classifier import Classifier
from retrouve.vision.packs import PackRegistry, split_make_model
from retrouve.vision.packs.catalogue import ROLES

#: Make/model labels below this probability are not stored (noise, not evidence).
MIN_MAKE_MODEL = 0.1


def select_packs(registry: PackRegistry) -> PackSelection:
    """One pack per analysis role (:data:`retrouve.vision.packs.catalogue.ROLES`): the most
    recently installed pack of that role, several roles active at once."""
    chosen = {role: (p.path if (p := registry.active_role(role)) is not None else None)
              for role in ROLES}
    return PackSelection(**chosen)


def make_model_attributes(classifier: Classifier, crops: Sequence[npt.NDArray[np.uint8]]
                          ) -> list[list[Attribute]]:
    """``make``/``model`` attributes (lower-case values, probability 0..1 rounded to 4
    places) per RGB vehicle crop, from a classifier whose labels read ``"Make|Model"``.

    A make's probability is the sum over its models' labels, a model's the best of its
    labels; values below :data:`MIN_MAKE_MODEL` are dropped.
    """
    if not crops:
        return []
    out = []
    for labels in classifier.classify(list(crops)):
        makes: dict[str, float] = {}
        models: dict[str, float] = {}
        for label, p in labels:
            make, model = split_make_model(label)
            makes[make.lower()] = makes.get(make.lower(), 0.0) + p
            models[model.lower()] = max(models.get(model.lower(), 0.0), p)
        attrs = [Attribute("make", k, round(v, 4)) for k, v in makes.items()
                 if v >= MIN_MAKE_MODEL]
        attrs += [Attribute("model", k, round(v, 4)) for k, v in models.items()
                  if v >= MIN_MAKE_MODEL]
        out.append(attrs)
    return out
