#!/usr/bin/env python3
"""The sha256 of every zip under some directories and of every entry inside them (the bootstrap
or extension executable, the includes), so that the outputs of two runs, of two lambda-batch
versions or of two tools, can be compared byte for byte with `diff`.

usage: zip_sha.py ROOT OUT EXPECTED DIR...

Writes OUT: one line per zip, `<sha256>  <path relative to ROOT>`, each followed by one line
per entry, `<sha256>  <path>!<entry> <mode>`, zips in sorted order, entries in archive order.
Fails when the number of zips found is not EXPECTED (a build that left one out).
"""
import hashlib
import os
import sys
import zipfile

root, out, expected, dirs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
zips = sorted(
    os.path.join(d, f)
    for top in dirs
    for d, _, files in os.walk(top)
    for f in files
    if f.endswith(".zip")
)
lines = []
for path in zips:
    rel = os.path.relpath(path, root)
    with open(path, "rb") as f:
        lines.append(f"{hashlib.sha256(f.read()).hexdigest()}  {rel}")
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            mode = (info.external_attr >> 16) & 0o7777
            digest = hashlib.sha256(z.read(info)).hexdigest()
            lines.append(f"{digest}  {rel}!{info.filename} {mode:04o}")
tmp = f"{out}.tmp"
with open(tmp, "w") as f:
    f.write("".join(line + "\n" for line in lines))
os.replace(tmp, out)
print(f"{out}: {len(zips)} zips", file=sys.stderr)
if len(zips) != expected:
    sys.exit(f"{out}: {len(zips)} zips under {' '.join(dirs)}, expected {expected}")
