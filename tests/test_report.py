"""HTML reports: their sections and figures, and the page as a browser shows it."""

import json
import os
import re
import shutil
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from mlem_neuro import FitOptions, fit_units
from mlem_neuro.core import UnitResults
from mlem_neuro.core.simulation import make_continuous_data
from mlem_neuro.datasets import haxby_features, load_eeg_sample, load_haxby
from mlem_neuro.fmri import SearchlightResult, estimate_patterns, searchlight
from mlem_neuro.fmri.searchlight import unit_values_img
from mlem_neuro.meeg import timecourse
from mlem_neuro.outputs import fit_parameters
from mlem_neuro.report import write_report
from mlem_neuro.report.figures import steps_figure
from mlem_neuro.report.text import methods_paragraph

SECTIONS = ["Summary", "Design", "Results", "Learned metrics", "Diagnostics", "Provenance"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def searchlight_folder(tmp_path_factory):
    haxby = load_haxby()
    patterns, stimuli = estimate_patterns(
        haxby.bold[:6], haxby.events[:6], mask_img=haxby.mask_brain
    )
    features = haxby_features(stimuli["trial_type"])
    result = searchlight(
        patterns,
        features,
        haxby.mask_brain,
        radius=30,
        cv=3,
        groups=stimuli["run"],
        bg_img=haxby.bold[0],
        random_state=0,
        n_repeats=2,
    )
    folder = result.save(tmp_path_factory.mktemp("report") / "searchlight")
    write_report(folder)
    return folder


@pytest.fixture(scope="module")
def timecourse_folder(tmp_path_factory):
    epochs = load_eeg_sample().to_epochs()
    result = timecourse(
        epochs,
        tag_names=["modality", "side"],
        window=0.05,
        step=0.05,
        generalize=True,
        random_state=0,
    )
    folder = result.save(tmp_path_factory.mktemp("report") / "timecourse")
    write_report(folder)
    return folder


@pytest.fixture(scope="module")
def whole_brain_folder(tmp_path_factory):
    """A 3 mm whole-brain searchlight result (69,765 spheres), with made-up values."""
    from nilearn.datasets import load_mni152_brain_mask

    brain = load_mni152_brain_mask(resolution=3)
    mask = nib.Nifti1Image((brain.get_fdata() > 0).astype(np.uint8), brain.affine)
    n_units = int(np.asarray(mask.dataobj).sum())
    rng = np.random.default_rng(0)
    terms = ["animate", "face", "manmade", "large"]
    metrics = np.zeros((n_units, 4, 4))
    metrics[:, range(4), range(4)] = rng.uniform(0.1, 1, (n_units, 4))
    metrics /= np.linalg.norm(metrics, axis=(1, 2), keepdims=True)
    results = UnitResults(
        scores=rng.normal(0, 0.05, n_units),
        fold_scores=rng.normal(0, 0.05, (4, n_units)),
        importances=pd.DataFrame(rng.normal(0, 0.01, (n_units, 4)), columns=terms),
        metrics=metrics,
        feature_names=terms,
        term_names=terms,
        train_scores=rng.uniform(0, 0.3, n_units),
        info={
            "n_pairs": 4560,
            "training": "exact over 2556 pairs in 11 groups",
            "n_folds": 4,
            "unit_steps": rng.integers(20, 400, n_units),
            "seconds": 198.0,
            "device": "cpu",
            "design": {
                "features": [
                    {"name": term, "kind": "categorical", "n_levels": 2, "levels": ["no", "yes"]}
                    for term in terms
                ],
                "distance_correlations": np.eye(4).tolist(),
                "pairs_differing": [0.4, 0.2, 0.5, 0.4],
            },
        },
    )
    maps = {term: unit_values_img(results.importances[term], mask) for term in terms}
    parameters = fit_parameters(
        FitOptions(random_state=0), 4, np.zeros(96), 96, time.perf_counter()
    )
    result = SearchlightResult(
        unit_values_img(results.scores, mask),
        maps,
        maps,
        mask,
        results,
        6.0,
        parameters={"space": "MNI152NLin2009cAsym", **parameters},
    )
    folder = result.save(tmp_path_factory.mktemp("report") / "whole-brain")
    write_report(folder)
    return folder


def figures_and_sections(html):
    return len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)), re.findall(
        r'<h1 class="h4[^"]*"[^>]*>\s*([^<]+?)\s*<', html
    )


def test_searchlight_report_has_every_section_and_embeds_every_figure(searchlight_folder):
    html = (searchlight_folder / "report.html").read_text()
    for section in SECTIONS:
        assert f">{section}<" in html or f"> {section} <" in html or section in html
    n_figures, _ = figures_and_sections(html)
    # maps, correlations, metrics, training length, fold scores (+ the MNE logo)
    assert n_figures >= 5
    # Nothing is fetched when the page opens (a link a reader may click is fine).
    assert not re.search(r'src="https?://|<link[^>]+href="https?://', html)
    assert "We fitted Metric Learning Encoding Models" in html
    assert "3-fold cross-validation over groups" in html
    assert "Interactive score map" in html and "Best spheres" in html
    assert "correlated across pairs of stimuli" in html  # the run's warning


def methods_of(features, Y, **settings):
    options = FitOptions(random_state=0, **settings)
    results = fit_units(features, Y, options=options)
    summary = {
        "kind": "roi",
        "unit_labels": ["region"],
        "options": json.loads(json.dumps(options.to_dict())),
        "fit_info": json.loads(json.dumps(results.info, default=str)),
        "features": results.feature_names,
        "n_stimuli": len(features),
    }
    return methods_paragraph(summary)


def test_methods_paragraph_says_how_each_kind_of_fit_ran():
    features, Y, _ = make_continuous_data(600, random_state=0)
    sampled = methods_of(features, Y)
    assert "fixed sample of 50,000 training pairs" in sampled
    assert "regularisation 1 then 0.3" in sampled
    assert "each repeat scored on its own random sample of 16,000 pairs" in sampled
    assert "with AdamW (learning rate 0.02)" in sampled
    assert "BFGS" not in sampled and "grouped by" not in sampled
    regression = methods_of(features, Y, method="nnls", extra_terms=[("f0", "f1", "f2")])
    assert "fitted by non-negative least squares" in regression
    assert "We fitted metrics by non-negative least squares, the feature-reweighted" in regression
    assert "squared euclidean neural distances" in regression
    assert "f0:f1:f2 as extra terms" in regression
    assert "AdamW" not in regression and "Spearman correlation (l2" not in regression
    exact = methods_of(features > 0.5, Y, n_repeats=2)
    assert "closed-form optimum of the Pearson correlation with neural ranks;" in exact
    assert "grouped by feature-distance pattern" in exact
    assert "by BFGS with a backtracking line search per unit" in exact
    assert "stopped at the first iteration without an improvement of 0.0001" in exact
    patient = methods_of(features > 0.5, Y, n_repeats=2, patience=3)
    assert "stopped after 3 iterations in a row without an improvement of 0.0001" in patient
    assert "AdamW" not in exact
    assert "(2 shuffles)" in exact


def test_training_length_marks_the_budget_only_where_units_come_near_it():
    short = steps_figure(np.arange(5, 35), max_steps=1000).axes[0]
    assert short.get_title() == "training length (budget 1000, far from reached)"
    assert not short.lines  # no budget line squeezing the histogram against the left edge
    long = steps_figure(np.arange(300, 1001), max_steps=1000).axes[0]
    assert long.get_title() == "training length"
    assert long.lines[0].get_xdata()[0] == 1000


def test_timecourse_report_shows_the_generalisation_caveat(timecourse_folder):
    html = (timecourse_folder / "report.html").read_text()
    assert "Rows are nearly identical" in html
    assert "Time course" in html and "Metrics of the best units" in html


def test_report_command_makes_one_page_for_several_results(
    searchlight_folder, timecourse_folder, tmp_path
):
    from mlem_neuro.cli import main

    out = tmp_path / "both.html"
    argv = ["report", str(searchlight_folder), str(timecourse_folder), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    html = out.read_text()
    assert "searchlight: Results" in html and "timecourse: Results" in html
    assert main(["report", str(searchlight_folder), str(timecourse_folder), "--quiet"]) == 2


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("needs Chromium (.ci/run installs Debian's chromium package)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def open_in_browser(browser, path, screenshot):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    started = time.perf_counter()
    page.goto(Path(path).resolve().as_uri(), wait_until="load")
    seconds = time.perf_counter() - started
    widths = page.evaluate("Array.from(document.images).map(image => image.naturalWidth)")
    headings = page.locator("div.accordion-item.section > .accordion-header")
    visible = {
        section: headings.filter(has_text=section).first.is_visible() for section in SECTIONS
    }
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=screenshot, full_page=True)
    page.close()
    external = [
        url for url in requests if not url.startswith(("file:", "data:", "about:", "blob:"))
    ]
    return errors, external, widths, visible, overflow, seconds


def screenshot_path(tmp_path, name):
    folder = Path(os.environ.get("MLEM_NEURO_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


@pytest.mark.parametrize("name", ["searchlight", "timecourse", "whole-brain"])
def test_reports_load_cleanly_in_chromium(browser, name, request, tmp_path):
    folder = request.getfixturevalue(f"{name.replace('-', '_')}_folder")
    report = folder / "report.html"
    errors, external, widths, visible, overflow, seconds = open_in_browser(
        browser, report, screenshot_path(tmp_path, name)
    )
    assert errors == []
    assert external == []
    assert len(widths) >= 5 and min(widths) > 0  # every image decoded
    assert all(visible.values()), visible
    assert overflow <= 1280  # reads at 1280 px without sideways scrolling
    if name == "whole-brain":
        assert seconds < 3
        assert report.stat().st_size < 20e6
