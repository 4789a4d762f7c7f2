"""Controlled sentence designs with their feature tables."""

import itertools

import numpy as np
import pandas as pd

from ..core import check_positive_int

__all__ = ["relative_clause_sentences"]

# Animate nouns with natural gender, singular and plural forms.
NOUNS = {
    "masculine": [("boy", "boys"), ("man", "men"), ("brother", "brothers"), ("king", "kings")],
    "feminine": [("girl", "girls"), ("woman", "women"), ("sister", "sisters"), ("queen", "queens")],
}
# Transitive verbs: third-person singular and plural present forms.
VERBS = [
    ("sees", "see"),
    ("knows", "know"),
    ("helps", "help"),
    ("likes", "like"),
    ("greets", "greet"),
    ("follows", "follow"),
]
OBJECTS = [("the teacher", "the teachers"), ("the doctor", "the doctors")]


def relative_clause_sentences(n_per_cell=4, random_state=None):
    """Sentences with a relative clause, in a balanced factorial design.

    Each sentence has a main clause with subject N1, verb V1 and object, and
    a relative clause with a second noun N2 and verb V2, after the design of
    the MLEM paper's relative-clause set. Verbs agree in number with their
    subjects, so number is visible in the surface form.

    ========================= =================================================
    feature                   levels
    ========================= =================================================
    ``n1_number``             singular / plural (N1, the relative clause's head)
    ``n1_gender``             masculine / feminine (N1)
    ``n2_number``             singular / plural (N2, the other noun of the clause)
    ``n2_gender``             masculine / feminine (N2)
    ``relative_clause``       subject ("N1 that V2 N2") / object ("N1 that N2 V2")
    ``attachment``            subject (N1 is the main clause's subject: "N1 that
                              ... V1 the teacher") / object (N1 is its object:
                              "the teacher V1 N1 that ...")
    ========================= =================================================

    For example, subject relative, attachment to the subject: "the boy that
    sees the girls knows the teacher"; object relative, attachment to the
    object: "the teacher knows the boys that the girl sees".

    Parameters
    ----------
    n_per_cell : int
        Sentences per combination of the 6 binary features (64 cells), with
        nouns and verbs drawn at random (N1 and N2 differ).
    random_state : int or None

    Returns
    -------
    sentences : list of str
        ``64 * n_per_cell`` sentences, in the order of ``features``.
    features : DataFrame
        The six features above (strings), one row per sentence.
    """
    n_per_cell = check_positive_int("n_per_cell", n_per_cell)
    rng = np.random.default_rng(random_state)
    levels = {
        "n1_number": ("singular", "plural"),
        "n1_gender": ("masculine", "feminine"),
        "n2_number": ("singular", "plural"),
        "n2_gender": ("masculine", "feminine"),
        "relative_clause": ("subject", "object"),
        "attachment": ("subject", "object"),
    }
    sentences, rows = [], []
    for cell in itertools.product(*levels.values()):
        row = dict(zip(levels, cell))
        for _ in range(n_per_cell):
            sentences.append(_sentence(row, rng))
            rows.append(row)
    return sentences, pd.DataFrame(rows)


def _pick(rng, options):
    return options[rng.integers(len(options))]


def _sentence(row, rng):
    plural_1 = row["n1_number"] == "plural"
    plural_2 = row["n2_number"] == "plural"
    n1 = _pick(rng, NOUNS[row["n1_gender"]])
    n2 = _pick(rng, [noun for noun in NOUNS[row["n2_gender"]] if noun != n1])
    v1, v2 = (VERBS[index] for index in rng.choice(len(VERBS), size=2, replace=False))
    obj = _pick(rng, OBJECTS)
    head = f"the {n1[plural_1]}"
    other = f"the {n2[plural_2]}"
    if row["relative_clause"] == "subject":
        # N1 is the relative clause's subject: V2 agrees with N1.
        clause = f"that {v2[plural_1]} {other}"
    else:
        # N2 is the relative clause's subject: V2 agrees with N2.
        clause = f"that {other} {v2[plural_2]}"
    if row["attachment"] == "subject":
        return f"{head} {clause} {v1[plural_1]} {obj[0]}"
    return f"{obj[0]} {v1[0]} {head} {clause}"
