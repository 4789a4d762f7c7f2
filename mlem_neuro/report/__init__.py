"""HTML reports of result folders: methods, design, results, learned metrics, diagnostics.

Built on :class:`mne.Report`: one self-contained file, figures embedded,
nothing fetched when the page opens. Every command writes ``report.html``
beside its results; ``mlem-neuro report`` (or :func:`write_report`) writes one
for any result folders.
"""

from .build import REPORT, make_report, write_report

__all__ = ["make_report", "write_report", "REPORT"]
