"""The settings a study's results depend on: recorded, compared, and digested into keys.

A finished subject is only reused, and subjects only tested together, when the
settings recorded in their summary.json equal the ones asked for.
"""

import hashlib
import json

from ..outputs.provenance import setting_differences

__all__ = ["study_settings", "settings_key", "differing_settings"]


def study_settings(config):
    """Every setting a subject's result depends on, JSON-ready (kept in its summary.json).

    Shards, chunk sizes, the device, reports and progress display are left
    out: results do not depend on them beyond float rounding.

    Returns
    -------
    dict
    """
    settings = {
        "features": list(config.features),
        "options": {
            name: value
            for name, value in config.options.to_dict().items()
            if name not in ("verbose", "units_per_chunk", "device")
        },
        **{
            name: getattr(config, name)
            for name in (
                "cv",
                "stimuli_table",
                "space",
                "radius",
                "atlas",
                "confounds",
                "method",
                "tmin",
                "tmax",
                "baseline",
                "window",
                "step",
                "source_radius",
                "source_labels",
                "inverse_method",
                "snr",
            )
        },
    }
    return json.loads(json.dumps(settings, default=str))


def settings_key(*parts):
    """A short digest of JSON-ready values (settings, output folder), for names and task keys."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=5).hexdigest()


def differing_settings(recorded, wanted):
    """Names of the settings that differ, with both values ("radius: 8.0 -> 16.0").

    Parameters
    ----------
    recorded : dict or None
        From a result's summary.json (None: written by an older version).
    wanted : dict
        :func:`study_settings` of the run.

    Returns
    -------
    list of str
    """
    if recorded is None:
        return ["settings not recorded (an older mlem_neuro)"]
    differences = setting_differences(recorded, wanted)
    return [f"{name}: {old} -> {new}" for name, (old, new) in differences.items()]
