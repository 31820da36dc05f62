"""Make GX Data Docs open offline: the CDN scripts, stylesheets, fonts and images their pages name are
replaced by the copies vendored in ``gx_static/vendor`` (see ``gx_static/LICENSES.md``).

``make_offline(docs_dir)`` copies the vendored files to ``<docs_dir>/static/vendor/`` and rewrites every
HTML page below ``docs_dir`` to point at them by relative path (pages sit at different depths:
``index.html``, ``validations/<suite>/<run>/<time>/<id>.html``). A page that names a CDN this table
does not know is reported (the offline test then fails, naming it) rather than silently left online.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

VENDOR_DIR = Path(__file__).with_name("gx_static") / "vendor"

# URL as the GX 1.24 templates write it -> file under gx_static/vendor
CDN_ASSETS = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js-1.12.9/dist/umd/popper.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/dist/js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    # an older template names 1.19.0's stylesheet of the same extension: same rules
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome-free-6.6.0/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark-1.1.0/dist/css/bootstrap-prefers-dark.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/build/vega-embed.min.js",
}
# GX's logos are fetched from its S3 bucket (with a cache-busting query); static/images ships the logo
# (the dark-theme variant, named only in the stylesheet, falls back to it).
_GX_ASSET = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/([A-Za-z0-9_.-]+)(\?[^\"')]*)?")
_VENDORED_TAG = re.compile(r"""<(?:script|link)\b[^>]*?(?:src|href)="[^"]*static/vendor/[^"]*"[^>]*>""", re.I)
_SRI_ATTRS = re.compile(r"""\s+(?:integrity|crossorigin)(?:="[^"]*")?""", re.I)
# what still points outside after the rewrite: script/link/img sources and CSS url()/@import
EXTERNAL_REFERENCE = re.compile(
    r"""(?:<script\b[^>]*\bsrc|<link\b[^>]*\bhref|<img\b[^>]*\bsrc|<iframe\b[^>]*\bsrc|<source\b[^>]*\bsrc)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|url\(\s*["']?((?:https?:)?//[^"')\s]+)|@import\s+["']((?:https?:)?//[^"']+)""",
    re.I,
)


def external_references(text: str) -> list[str]:
    """Scripts, stylesheets, fonts, images or frames a page loads from outside (links a person may
    click are not loads and are not listed)."""
    return [next(g for g in m.groups() if g) for m in EXTERNAL_REFERENCE.finditer(text)]


def _relative(target: Path, page: Path) -> str:
    return Path(os.path.relpath(target, page.parent)).as_posix()


def make_offline(docs_dir: Path) -> dict[str, list[str]]:
    """Vendor the assets into ``docs_dir`` and rewrite its pages; returns {page: external refs left}."""
    vendor = docs_dir / "static" / "vendor"
    if vendor.exists():
        shutil.rmtree(vendor)
    shutil.copytree(VENDOR_DIR, vendor)
    images = docs_dir / "static" / "images"

    def gx_asset(m: re.Match, page: Path) -> str:
        image = images / m.group(1)
        return _relative(image if image.exists() else images / "logo-long.png", page)

    left: dict[str, list[str]] = {}
    for page in sorted([*docs_dir.rglob("*.html"), *(docs_dir / "static").rglob("*.css")]):
        if vendor in page.parents:
            continue
        text = page.read_text(encoding="utf-8")
        for url, local in CDN_ASSETS.items():
            if url in text:
                text = text.replace(f'"{url}"', f'"{_relative(vendor / local, page)}"')
        text = _GX_ASSET.sub(lambda m: gx_asset(m, page), text)
        # subresource-integrity + CORS attributes make a browser refuse file:// copies ("origin null")
        text = _VENDORED_TAG.sub(lambda m: _SRI_ATTRS.sub("", m.group(0)), text)
        tmp = page.with_name(page.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(page)
        refs = external_references(text)
        if refs:
            left[page.relative_to(docs_dir).as_posix()] = refs
    return left
