"""File names of result folders: plain, or BIDS-like with a folder's entities."""

import re

__all__ = ["file_stem", "bids_label", "SUMMARY", "CHECKPOINT"]

SUMMARY = "summary.json"
CHECKPOINT = "checkpoint"


def bids_label(name):
    """A BIDS label (letters and digits) for a measure: "importance_a:b" -> "importanceAXB"."""
    words = [word for word in re.split(r"[^0-9a-zA-Z]+", file_stem(name)) if word]
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def file_stem(name):
    """File-name stem of a measure: "importance_a:b" is written as "importance_a_x_b"."""
    return str(name).replace(":", "_x_").replace("/", "-").replace(" ", "_")
