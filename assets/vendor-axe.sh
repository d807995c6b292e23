#!/bin/sh
# Vendors axe-core (Deque's accessibility rules engine) from the npm package
# axe-core, at a pinned version, into app/testdata/axe/axe.min.js, with its
# licence beside it, and records the version and checksums in
# app/testdata/axe/VENDORED.md. It is test data only: the browser tests
# inject it into Chromium over the hosted pages and the console, so it is
# never embedded or served. axe-core is MPL-2.0, which allows shipping the
# unmodified file with its licence.
#
# Usage: sh assets/vendor-axe.sh   (works from any directory; `make assets`)
# Override the pin only on purpose: AXE_VERSION=4.x.y sh assets/vendor-axe.sh
# Needs npm, tar and sha256sum; the result is committed, so tests need none.
set -eu

AXE_VERSION="${AXE_VERSION:-4.14.1}"

case "$AXE_VERSION" in
4.*) ;;
*)
	echo "vendor-axe: refusing axe-core $AXE_VERSION; only 4.x is reviewed" >&2
	exit 1
	;;
esac

here=$(cd "$(dirname "$0")" && pwd)
dest="$here/../app/testdata/axe"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

(cd "$tmp" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null)
tarball=$(ls "$tmp"/axe-core-*.tgz)
tar -xzf "$tarball" -C "$tmp" package/axe.min.js package/package.json package/LICENSE

got=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$tmp/package/package.json" | head -n 1)
if [ "$got" != "$AXE_VERSION" ]; then
	echo "vendor-axe: asked for $AXE_VERSION, npm gave $got" >&2
	exit 1
fi
if ! grep -q '"license": *"MPL-2.0"' "$tmp/package/package.json"; then
	echo "vendor-axe: axe-core $AXE_VERSION is no longer MPL-2.0; review before vendoring" >&2
	exit 1
fi

mkdir -p "$dest"
cp "$tmp/package/axe.min.js" "$dest/axe.min.js"
cp "$tmp/package/LICENSE" "$dest/LICENSE"

js_sum=$(sha256sum "$dest/axe.min.js" | cut -d ' ' -f 1)
tgz_sum=$(sha256sum "$tarball" | cut -d ' ' -f 1)

cat >"$dest/VENDORED.md" <<MD
# Vendored test data: axe-core

Written by \`assets/vendor-axe.sh\`; do not edit by hand. Re-run the script
(\`make assets\`) to refresh. Used only by the browser tests (never served).

| file | source | version | licence | sha256 |
|---|---|---|---|---|
| \`axe.min.js\` | npm \`axe-core\`, \`package/axe.min.js\` | $AXE_VERSION | MPL-2.0 (\`LICENSE\`) | \`$js_sum\` |

npm tarball \`$(basename "$tarball")\` sha256: \`$tgz_sum\`
MD

echo "vendor-axe: axe-core@$AXE_VERSION -> $dest/axe.min.js ($js_sum)"
