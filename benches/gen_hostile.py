#!/usr/bin/env python3
"""Writes the manifests of the hostile-input benchmark (scripts/bench-hostile.sh, issue 14):
one small cargo workspace `ws` (package bench-hostile, bins a and b) and, beside it,

  valid-5000.kdl        5,000 nodes, valid: defaults and 4,994 functions of one workspace
  errors-5000.kdl       5,000 nodes, every node but the workspace an error: unknown bins,
                        unknown nodes, unknown properties, in turn
  comment-1mb.kdl       a valid manifest under a 1,000,000-byte `//` comment
  duplicates-2000.kdl   2,000 workspaces repeating the same two functions (3,998 duplicates)
  arch-40000.kdl        one `arch` with 40,000 values
  unknown-props-2000.kdl 2,000 functions with an unknown property and an extra argument each
  nested-5000.kdl       5,000 nested blocks

usage: gen_hostile.py DIR
"""
import sys

from benchlib import write_under

root = sys.argv[1]


def write(path, text):
    write_under(root, path, text)


write("ws/Cargo.toml",
      '[package]\nname = "bench-hostile"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[workspace]\n')
write("ws/src/bin/a.rs", "fn main() {}\n")
write("ws/src/bin/b.rs", "fn main() {}\n")

defaults = ('defaults {\n    profile "release"\n    compiler "cargo"\n    output-format "zip"\n'
            '    lambda-dir "target/lambda/{arch}"\n}\n')

# 5 nodes of defaults, the workspace, 4,994 functions: 5,000.
write("valid-5000.kdl", defaults + 'workspace "ws" {\n'
      + "".join(f'    function "f{i}" bin="a"\n' for i in range(4994)) + "}\n")

errors = []
for i in range(4999):
    errors.append([f'    function "missing-{i}"\n', f'    bogus-{i} "x"\n',
                   f'    function "g{i}" bin="a" colour="blue"\n'][i % 3])
write("errors-5000.kdl", 'workspace "ws" {\n' + "".join(errors) + "}\n")

write("comment-1mb.kdl", "// " + "x" * 1_000_000 + '\nworkspace "ws" {\n    function "a"\n}\n')

write("duplicates-2000.kdl",
      'workspace "ws" {\n    function "a"\n    function "b"\n}\n' * 2000)

write("arch-40000.kdl", 'workspace "ws" {\n    function "a" {\n        arch '
      + " ".join(['"x86_64"'] * 40000) + "\n    }\n}\n")

write("unknown-props-2000.kdl", 'workspace "ws" {\n' + "".join(
    f'    function "f{i}" x=1 {{\n        profile "dev" "release"\n    }}\n' for i in range(2000)) + "}\n")

write("nested-5000.kdl", 'workspace "ws" {\n' + 'function "a" {\n' * 5000 + "}\n" * 5000 + "}\n")
