"""The old name of ``conformance.divergent_node`` (the first divergent ONNX node), kept for
importers outside the core (``conformance/check.py``); new code imports ``divergent_node``."""
from .divergent_node import (Divergence, LocalizationError, expose_intermediates,  # noqa: F401
                             first_divergent_node, load_model, node_value_names, one_node_model)
