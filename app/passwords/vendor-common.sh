#!/bin/sh
# Refreshes common.txt, the list of common passwords Gatehouse refuses, from
# the npm package @zxcvbn-ts/language-common (MIT, see common.LICENSE.txt).
# Only entries of 8 or more characters are kept: shorter ones fail the
# length rule anyway. Entries are lower-cased; the check folds case too.
set -eu
version=3.0.4
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack "@zxcvbn-ts/language-common@$version" >/dev/null
tar xzf ./*.tgz
node -e '
const l = require("./package/src/passwords.json");
const seen = new Set(); const out = [];
for (let p of l) { p = p.trim().toLowerCase(); if (p.length >= 8 && !seen.has(p)) { seen.add(p); out.push(p); } }
process.stdout.write(out.join("\n") + "\n");
' > "$here/common.txt"
cp package/LICENSE.txt "$here/common.LICENSE.txt"
echo "common.txt: $(wc -l < "$here/common.txt") passwords from @zxcvbn-ts/language-common@$version"
