"""MLEM on language models: hidden states, sentence designs, layer profiles, brain comparison.

Needs the ``transformers`` package (``pip install mlem_neuro[llm]``) for
:func:`hidden_states` and :func:`load_local_model`; models load from local
folders only.
"""

from .compare import best_matches, compare_metrics, rsa_similarity
from .hidden import POOLINGS, hidden_states, load_local_model
from .profile import LayerProfileResult, layer_profile, layer_units
from .stimuli import relative_clause_sentences

__all__ = [
    "hidden_states",
    "load_local_model",
    "POOLINGS",
    "relative_clause_sentences",
    "layer_profile",
    "LayerProfileResult",
    "layer_units",
    "compare_metrics",
    "best_matches",
    "rsa_similarity",
]
