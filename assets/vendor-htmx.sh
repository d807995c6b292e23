#!/bin/sh
# Vendors htmx from the npm package htmx.org, at a pinned version, into
# assets/static/htmx.min.js, and records the version and checksums in
# assets/VENDORED.md (outside static/, so it is not embedded or served).
#
# Usage: sh assets/vendor-htmx.sh   (works from any directory; `make assets`)
# Override the pin only on purpose: HTMX_VERSION=2.0.x sh assets/vendor-htmx.sh
#
# Gatehouse pins htmx 2.x: htmx 4 changes attribute inheritance and event
# names, so a major upgrade needs a review of every view, not a re-run.
# Needs npm, tar and sha256sum; the result is committed, so builds need none.
set -eu

HTMX_VERSION="${HTMX_VERSION:-2.0.11}"

case "$HTMX_VERSION" in
2.*) ;;
*)
	echo "vendor-htmx: refusing htmx $HTMX_VERSION; only 2.x is supported" >&2
	exit 1
	;;
esac

here=$(cd "$(dirname "$0")" && pwd)
static="$here/static"
record="$here/VENDORED.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

(cd "$tmp" && npm pack --silent "htmx.org@$HTMX_VERSION" >/dev/null)
tarball=$(ls "$tmp"/htmx.org-*.tgz)
tar -xzf "$tarball" -C "$tmp" package/dist/htmx.min.js package/package.json

# Check that npm gave us the version we asked for.
got=$(node -p "require('$tmp/package/package.json').version" 2>/dev/null ||
	sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$tmp/package/package.json" | head -n 1)
if [ "$got" != "$HTMX_VERSION" ]; then
	echo "vendor-htmx: asked for $HTMX_VERSION, npm gave $got" >&2
	exit 1
fi

mkdir -p "$static"
cp "$tmp/package/dist/htmx.min.js" "$static/htmx.min.js"

js_sum=$(sha256sum "$static/htmx.min.js" | cut -d ' ' -f 1)
tgz_sum=$(sha256sum "$tarball" | cut -d ' ' -f 1)

cat >"$record" <<MD
# Vendored files

Written by \`assets/vendor-htmx.sh\`; do not edit by hand. Re-run the script
(\`make assets\`) to refresh.

| file | source | version | sha256 |
|---|---|---|---|
| \`htmx.min.js\` | npm \`htmx.org\`, \`package/dist/htmx.min.js\` | $HTMX_VERSION | \`$js_sum\` |

npm tarball \`$(basename "$tarball")\` sha256: \`$tgz_sum\`
MD

echo "vendor-htmx: htmx.org@$HTMX_VERSION -> $static/htmx.min.js ($js_sum)"
