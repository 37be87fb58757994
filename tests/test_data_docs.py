"""The Great Expectations Data Docs work with no network (data_docs_offline.py, D28), and each
validation is named after the Dagster run that made it.

The browser test opens the rulebook run's Data Docs from disk in Debian's Chromium with the
network switched off, and reads what a person sees: the index's table (built by the vendored
jQuery and bootstrap-table) lists every suite's validation of that run, the pages are styled by
the vendored Bootstrap, and nothing was fetched from anywhere but the site's own folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.dagster_ui import CHROMIUM_ARGS, require_chromium

from expectations import all_suites
from orchestration.defs.quality.data_docs_offline import (
    CDN_FILES,
    GX_IMAGE_FILES,
    GX_IMAGES,
    VENDOR_DIR,
    external_resources,
    localize_page,
)
from orchestration.rule_vars import rule_var_defaults

SUITES = {suite.name for suite in all_suites(rule_var_defaults())}


def _gx_templates() -> Path:
    import great_expectations

    return Path(great_expectations.__file__).parent / "render" / "view" / "templates"


def test_every_address_gx_pages_load_has_a_vendored_copy():
    """If a Great Expectations upgrade loads another script, style or image from the network,
    this names it: vendor it (data_docs_vendor/README.md) and map it in CDN_FILES."""
    loaded = set()
    for template in _gx_templates().glob("*.j2"):
        loaded |= external_resources(template.read_text())
    assert loaded, f"no external address found in {_gx_templates()}: has GX moved its templates?"
    unknown = {url for url in loaded if url not in CDN_FILES and not GX_IMAGES.fullmatch(url)}
    assert not unknown, f"Data Docs would load these from the network: {sorted(unknown)}"
    images = {GX_IMAGES.fullmatch(url).group(1) for url in loaded if GX_IMAGES.fullmatch(url)}
    assert images <= set(GX_IMAGE_FILES), f"GX images not mapped: {images - set(GX_IMAGE_FILES)}"


def test_each_vendored_file_is_there_with_its_licence():
    for vendored in CDN_FILES.values():
        assert (VENDOR_DIR / vendored).is_file(), vendored
    for package in {Path(v).parts[0] for v in CDN_FILES.values()}:
        licences = list((VENDOR_DIR / package).glob("LICENSE*"))
        assert licences, f"{package}: no licence file beside the vendored copy"


def test_a_page_points_at_the_sites_own_copies_relative_to_itself(tmp_path):
    site = tmp_path / "data_docs"
    page = site / "validations" / "marts" / "account_rewards" / "run" / "t" / "batch.html"
    html = (
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>'
        '<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js"'
        ' integrity="sha384-x" crossorigin="anonymous"></script>'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/'
        'logo-long.png?d=1&dataContextId=2">'
        '<link rel="icon" href="../../../../static/images/favicon.ico">'
        '<a href="https://greatexpectations.io">a link, not loaded</a>'
    )
    assert localize_page(html, page, site) == (
        '<script src="../../../../../static/vendor/jquery/jquery.min.js"></script>'
        '<script src="../../../../../static/vendor/bootstrap/js/bootstrap.min.js"></script>'
        '<img src="../../../../../static/images/logo-long.png">'
        '<link rel="icon" href="../../../../../static/images/favicon.ico">'
        '<a href="https://greatexpectations.io">a link, not loaded</a>'
    )


@pytest.mark.browser
def test_data_docs_index_lists_every_suite_of_the_run_with_no_network(rulebook_run):
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    run_id = rulebook_run["summary"].dagster_run_id
    index = Path(rulebook_run["summary"].data_docs)
    site = index.parent
    for page in site.rglob("*.html"):
        assert not external_resources(page.read_text()), f"{page} still loads from the network"

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(offline=True)  # no network at all
        requested: list[str] = []
        failed: list[str] = []
        context.on("request", lambda request: requested.append(request.url))
        context.on("requestfailed", lambda request: failed.append(request.url))
        try:
            page = context.new_page()
            page.goto(index.as_uri())
            page.wait_for_function("() => document.querySelectorAll('table tbody tr').length")
            # every row bootstrap-table built, on every page of the table
            # every row bootstrap-table built for the validations table, on all its pages
            tables = page.evaluate(
                "() => $('table').toArray().filter(t => $(t).data('bootstrap.table'))"
                ".map(t => $(t).bootstrapTable('getData', {useCurrentPage: false}))"
            )
            (rows,) = [rows for rows in tables if rows and "run_name" in rows[0]]
            styled = page.evaluate("() => getComputedStyle(document.body).fontFamily")

            # a validation page, opened from the index as a person would: click its row
            page.locator("tr", has_text="warehouse_marts-account_rewards").first.click()
            page.wait_for_url(re.compile(r"/validations/marts/account_rewards/"))
            page.wait_for_load_state()
            validation_text = page.inner_text("body")
        finally:
            browser.close()

    assert not [url for url in requested if not url.startswith("file://")], requested
    assert not failed, f"missing from the site: {failed}"
    assert "Times" not in styled, f"Bootstrap's styles did not load: {styled}"
    listed = {(row["_expectation_suite_name_sort"], row["run_name"]) for row in rows}
    assert listed == {(suite, run_id) for suite in SUITES}  # each suite, validated by this run
    assert run_id in validation_text and "Succeeded" in validation_text


def test_a_run_from_the_ui_gets_its_pages_from_the_sensor_once_it_has_ended(rulebook_run, tmp_path):
    """The check steps store results and render nothing: the `data_docs_after_run` sensor renders
    every page of a run that was not `rewards run`'s once it has ended (here the rulebook run's
    stored results, in a copy of its quality folder without the site), and skips `rewards
    run`'s own, which it renders itself."""
    import shutil

    from dagster import DagsterRun, SkipReason, build_run_status_sensor_context

    from orchestration.defs.quality.data_docs_sensor import data_docs_after_success
    from orchestration.defs.quality.validation import RESULTS_DIR
    from orchestration.defs.resources import QualityResource
    from orchestration.instance import open_instance

    summary = rulebook_run["summary"]
    run_id = summary.dagster_run_id
    quality = tmp_path / "quality"
    shutil.copytree(Path(summary.data_docs).parent.parent / RESULTS_DIR, quality / RESULTS_DIR)
    with open_instance(Path(summary.dagster_home)) as instance:
        cli_run = instance.get_run_by_id(run_id)
        events = [e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event]
        (ended,) = [e for e in events if e.event_type_value == "PIPELINE_SUCCESS"]

        def evaluate(run: DagsterRun):
            context = build_run_status_sensor_context(
                sensor_name="data_docs_after_run",
                dagster_event=ended,
                dagster_instance=instance,
                dagster_run=run,
                resources={"quality": QualityResource(path=str(quality))},
            )
            return data_docs_after_success(context)

        assert isinstance(evaluate(cli_run), SkipReason)
        nothing_stored = DagsterRun(job_name=cli_run.job_name, run_id="0" * 36, tags={})
        assert isinstance(evaluate(nothing_stored), SkipReason)
        assert not (quality / "data_docs").exists()
        ui_run = DagsterRun(job_name=cli_run.job_name, run_id=run_id, tags={})  # the UI's tags
        evaluate(ui_run)
    index = quality / "data_docs" / "index.html"
    pages = list((quality / "data_docs" / "validations").rglob("*.html"))
    assert index.exists() and run_id in index.read_text()
    assert len(pages) == len(SUITES) and all(run_id in str(page) for page in pages)
    for page in [index, *pages]:
        assert not external_resources(page.read_text()), f"{page} still loads from the network"
