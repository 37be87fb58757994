"""Great Expectations' Data Docs with no network: the site's scripts, styles and fonts served
from the site itself.

GX's page templates load jQuery, Bootstrap, bootstrap-table, Vega and Font Awesome from public
CDNs, and the index's table is built by that JavaScript: on a closed network the index lists
no validation at all. The same files, at the same versions, are vendored with their licences in
`data_docs_vendor/` (its README says where each comes from). After every Data Docs build they
are copied into `<site>/static/vendor/`, and each page written by that build gets its CDN
addresses replaced by relative paths to those copies (D28).

GX offers no way to override its page templates (custom views are searched after its own), so
this works on the rendered HTML: plain text replacement of the exact addresses below.
`external_resources` finds any other address a page would load; tests/test_data_docs.py fails
when a GX upgrade brings one.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
from pathlib import Path

VENDOR_DIR = Path(__file__).with_name("data_docs_vendor")
SITE_VENDOR = Path("static") / "vendor"  # inside the Data Docs site
STAMP = ".vendored"  # in SITE_VENDOR: the digest of the copied files

# What GX's templates load (great_expectations/render/view/templates) -> the vendored copy
# fmt: off
CDN_FILES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js/umd/popper.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        "bootstrap/js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/bootstrap-table.min.js",
    # GX asks for 1.19.0's stylesheet beside 1.19.1's script; 1.19.1's is the one that matches
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css":
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css":
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js":
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "bootstrap-dark/css/bootstrap-prefers-dark.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome/css/all.min.css",
}
# fmt: on
# GX's logos, from its web-assets bucket (with a query string), are in the site's static/images
GX_IMAGES = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+)(\?[^\"')\s]*)?"
)
GX_IMAGE_FILES = {"logo-long.png": "logo-long.png", "full_logo_dark.png": "logo-long.png"}
# GX's validation pages point their favicon one folder short of the site's root (a missing file)
FAVICON = re.compile(r'href="[./]*static/images/favicon\.ico"')
# Subresource-integrity and CORS attributes of the CDN script tags: a file:// page cannot make
# the CORS request `crossorigin` asks for, and the copies are ours, read from disk
SRI = re.compile(r'\s+(?:integrity="[^"]*"|crossorigin="[^"]*")')
# Anything a page would still fetch from the network: script/img/link addresses and CSS url()s
# (plain <a href> links are not fetched)
EXTERNAL = re.compile(
    r"<(?:script|img|link|source|iframe)\b[^>]*?\b(?:src|href)=[\"'](https?://[^\"']+)"
    r"|url\(\s*[\"']?(https?://[^\"')]+)"
)


@functools.cache  # the vendored files change only with the code: read them once per process
def _vendor_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(VENDOR_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(VENDOR_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def install_vendor_files(site: Path) -> Path:
    """Copy the vendored scripts, styles and fonts into the site (once per version of them)."""
    target = site / SITE_VENDOR
    stamp = target / STAMP
    digest = _vendor_digest()
    if not (stamp.exists() and stamp.read_text() == digest):
        shutil.copytree(VENDOR_DIR, target, dirs_exist_ok=True)
        stamp.write_text(digest)
    return target


def localize_page(html: str, page: Path, site: Path) -> str:
    """The page with every known CDN address pointing at the site's own copy, relative to the
    page (so the site can be moved or zipped whole)."""
    up = Path(os.path.relpath(site, page.parent))

    def local(relative: Path) -> str:
        return (up / relative).as_posix()

    for url, vendored in CDN_FILES.items():
        html = html.replace(url, local(SITE_VENDOR / vendored))

    def image(match: re.Match) -> str:
        name = GX_IMAGE_FILES.get(match.group(1))
        return local(Path("static") / "images" / name) if name else match.group(0)

    html = GX_IMAGES.sub(image, html)
    html = FAVICON.sub(f'href="{local(Path("static") / "images" / "favicon.ico")}"', html)
    return SRI.sub("", html)


def external_resources(html: str) -> set[str]:
    """The network addresses a page would still load."""
    return {a or b for a, b in EXTERNAL.findall(html)}


def localize_site(site: Path, since_ns: int = 0) -> list[Path]:
    """Install the vendored files and localize every page written at or after `since_ns` (all by
    default); returns the pages rewritten."""
    install_vendor_files(site)
    rewritten = []
    for page in site.rglob("*.html"):
        if page.stat().st_mtime_ns < since_ns:
            continue
        html = page.read_text(encoding="utf-8")
        local = localize_page(html, page, site)
        if local != html:
            page.write_text(local, encoding="utf-8")
            rewritten.append(page)
    return rewritten
