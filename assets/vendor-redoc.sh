#!/bin/sh
# Vendors Redoc's standalone bundle from the npm package redoc, at a pinned
# version, into assets/static/redoc.standalone.js (with the bundle's own
# third-party licence notices beside it), and records the version and
# checksums in assets/VENDORED-redoc.md. Redoc is MIT-licensed.
# /api/v1/docs renders the OpenAPI document with it; nothing comes from a CDN.
#
# Usage: sh assets/vendor-redoc.sh   (works from any directory; `make assets`)
# Override the pin only on purpose: REDOC_VERSION=2.5.x sh assets/vendor-redoc.sh
# Needs npm, tar and sha256sum; the result is committed, so builds need none.
set -eu

REDOC_VERSION="${REDOC_VERSION:-2.5.2}"

case "$REDOC_VERSION" in
2.*) ;;
*)
	echo "vendor-redoc: refusing redoc $REDOC_VERSION; only 2.x is reviewed" >&2
	exit 1
	;;
esac

here=$(cd "$(dirname "$0")" && pwd)
static="$here/static"
record="$here/VENDORED-redoc.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

(cd "$tmp" && npm pack --silent "redoc@$REDOC_VERSION" >/dev/null)
tarball=$(ls "$tmp"/redoc-*.tgz)
tar -xzf "$tarball" -C "$tmp" package/bundles/redoc.standalone.js package/bundles/redoc.standalone.js.LICENSE.txt package/package.json package/LICENSE

got=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$tmp/package/package.json" | head -n 1)
if [ "$got" != "$REDOC_VERSION" ]; then
	echo "vendor-redoc: asked for $REDOC_VERSION, npm gave $got" >&2
	exit 1
fi
if ! grep -q '"license": *"MIT"' "$tmp/package/package.json"; then
	echo "vendor-redoc: redoc $REDOC_VERSION is no longer MIT-licensed; review before vendoring" >&2
	exit 1
fi

mkdir -p "$static"
# The bundle's last line points at a source map we do not ship.
sed '/^\/\/# sourceMappingURL=/d' "$tmp/package/bundles/redoc.standalone.js" >"$static/redoc.standalone.js"
cat "$tmp/package/LICENSE" "$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" >"$static/redoc.LICENSE.txt"

js_sum=$(sha256sum "$static/redoc.standalone.js" | cut -d ' ' -f 1)
tgz_sum=$(sha256sum "$tarball" | cut -d ' ' -f 1)

cat >"$record" <<MD
# Vendored files: Redoc

Written by \`assets/vendor-redoc.sh\`; do not edit by hand. Re-run the script
(\`make assets\`) to refresh.

| file | source | version | licence | sha256 |
|---|---|---|---|---|
| \`redoc.standalone.js\` | npm \`redoc\`, \`package/bundles/redoc.standalone.js\` (source-map line removed) | $REDOC_VERSION | MIT (notices in \`redoc.LICENSE.txt\`) | \`$js_sum\` |

npm tarball \`$(basename "$tarball")\` sha256: \`$tgz_sum\`
MD

echo "vendor-redoc: redoc@$REDOC_VERSION -> $static/redoc.standalone.js ($js_sum)"
