#!/usr/bin/env bash
# Re-create dagster_project/quality/gx_static/vendor/: the static assets Great Expectations 1.24's Data Docs
# templates load from CDNs (great_expectations/render/view/templates/*.j2), fetched with the ordinary npm
# client from the npm registry at the exact versions the templates name (vega@5 / vega-lite@5 /
# vega-embed@6: the newest of that major, as the CDN resolves them). Run when GX is upgraded; the
# rewrite table is dagster_project/quality/offline_docs.py (CDN_ASSETS). Licences: LICENSES.md there.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=dagster_project/quality/gx_static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch() {  # fetch <npm spec> <folder>; prints the unpacked package dir
  (cd "$work" && npm pack "$1" --silent >/dev/null)
  local tgz; tgz=$(ls -t "$work"/*.tgz | head -1)
  mkdir -p "$work/$2"; tar xzf "$tgz" -C "$work/$2"; rm "$tgz"
  echo "$work/$2/package"
}
put() {  # put <package dir> <file in package> <vendor folder>
  mkdir -p "$dest/$3/$(dirname "$2")"; cp "$1/$2" "$dest/$3/$2"
}
rm -rf "$dest"; mkdir -p "$dest"
p=$(fetch jquery@3.7.1 jquery); put "$p" dist/jquery.min.js jquery-3.7.1; put "$p" LICENSE.txt jquery-3.7.1
p=$(fetch popper.js@1.12.9 popper); put "$p" dist/umd/popper.min.js popper.js-1.12.9
p=$(fetch bootstrap@4.3.1 bootstrap); for f in dist/css/bootstrap.min.css dist/js/bootstrap.min.js LICENSE; do put "$p" $f bootstrap-4.3.1; done
p=$(fetch bootstrap-table@1.19.1 bt); for f in dist/bootstrap-table.min.css dist/bootstrap-table.min.js \
  dist/extensions/filter-control/bootstrap-table-filter-control.min.css \
  dist/extensions/filter-control/bootstrap-table-filter-control.min.js LICENSE; do put "$p" $f bootstrap-table-1.19.1; done
p=$(fetch bootstrap-datepicker@1.9.0 bd); for f in dist/css/bootstrap-datepicker.min.css dist/js/bootstrap-datepicker.min.js LICENSE; do put "$p" $f bootstrap-datepicker-1.9.0; done
p=$(fetch @fortawesome/fontawesome-free@6.6.0 fa); for f in css/all.min.css LICENSE.txt webfonts/fa-brands-400.woff2 \
  webfonts/fa-regular-400.woff2 webfonts/fa-solid-900.woff2 webfonts/fa-v4compatibility.woff2; do put "$p" $f fontawesome-free-6.6.0; done
p=$(fetch @forevolve/bootstrap-dark@1.1.0 bdark); for f in dist/css/bootstrap-prefers-dark.min.css LICENSE; do put "$p" $f bootstrap-dark-1.1.0; done
for spec in vega@5 vega-lite@5 vega-embed@6; do
  name=${spec%@*}
  version=$(npm view "$spec" version --json | python3 -c "import json,sys; d=json.load(sys.stdin); d=d if isinstance(d,list) else [d]; print(max(d, key=lambda s: [int(x) for x in s.split('.')]))")
  p=$(fetch "$name@$version" "$name"); put "$p" "build/$name.min.js" "$name-$version"
  if [ -f "$p/LICENSE" ]; then put "$p" LICENSE "$name-$version"; fi  # vega ships none: BSD-3-Clause per package.json
done
du -sh "$dest"
