#!/usr/bin/env bash
# Checks that imports in src/ run one way between quiver's layers:
#
#   types → config → connectors → engine → plan → run → flight (serve) / cli (and bench)
#
# * src/types imports none of config, connectors, engine, plan, cli, bench, flight;
# * src/config imports none of connectors, engine, plan, cli, bench, flight;
# * src/connectors imports none of engine, plan, cli, bench, flight;
# * a file in src/connectors/<system>/ imports no other system's folder
#   (connectors::<system2>), except the shared connectors::store (where file sinks write) and
#   connectors::azure (Entra ID tokens, Key Vault); the files directly in src/connectors/
#   (mod.rs, registry.rs, the contracts) are exempt;
# * src/engine imports none of plan, run, cli, bench, flight;
# * src/plan imports none of run, cli, bench, flight; src/run imports none of cli, flight;
# * src/flight (the Flight server) imports none of cli, bench.
#
# It reads `crate::…` paths (in `use` and anywhere else, `{…}` groups included) and
# `super::…` paths (resolved against the file's module and any inline `mod x { … }`), with
# comments and string literals left out. Each violation is printed as
# `file:line: <layer> imports <layer>`; the exit status is 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."

exec python3 - "$@" <<'PY'
import os
import re
import sys

LAYERS = {"types", "config", "connectors", "engine", "plan", "run", "cli", "bench", "flight"}
FORBIDDEN = {
    "types": {"config", "connectors", "engine", "plan", "run", "cli", "bench", "flight"},
    "config": {"connectors", "engine", "plan", "run", "cli", "bench", "flight"},
    "connectors": {"engine", "plan", "run", "cli", "bench", "flight"},
    "engine": {"plan", "run", "cli", "bench", "flight"},
    "plan": {"run", "cli", "bench", "flight"},
    "run": {"cli", "flight"},
    "flight": {"cli", "bench"},
}
SHARED_SYSTEMS = {"store", "azure"}
SRC = "src"
CONNECTORS = os.path.join(SRC, "connectors")
# A system is a folder in src/connectors/ that is a module of its own (`hive/mod.rs`), not
# the submodules of a file module (`registry.rs` with `registry/tests.rs`).
SYSTEMS = {
    d
    for d in (os.listdir(CONNECTORS) if os.path.isdir(CONNECTORS) else [])
    if os.path.isdir(os.path.join(CONNECTORS, d))
    and not os.path.exists(os.path.join(CONNECTORS, d + ".rs"))
}


def module_of(path):
    """The module path of a source file: src/a/b.rs and src/a/b/mod.rs are ['a', 'b']."""
    parts = os.path.relpath(path, SRC).split(os.sep)
    last = parts.pop()
    if last not in ("mod.rs", "lib.rs", "main.rs"):
        parts.append(last[:-3])
    return parts


def clean(text):
    """The text with comments, string and char literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + len(hashes) + 2)
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


TOKEN = re.compile(r"\s*(::|\{|\}|,|\*|[A-Za-z_][A-Za-z0-9_]*)")


def parse_path(text, pos):
    """Paths starting at pos (`a::b`, `a::{b, c::d}`): a list of segment lists."""
    def tok(p):
        m = TOKEN.match(text, p)
        return (m.group(1), m.end()) if m else (None, p)

    def path(p):
        t, p = tok(p)
        if t is None or not (t[0].isalpha() or t[0] == "_" or t == "*"):
            return [], p
        segs = [t]
        while True:
            t, q = tok(p)
            if t != "::":
                return [segs], p
            t, r = tok(q)
            if t == "{":
                paths, p = group(r)
                return [segs + sub for sub in paths] or [segs], p
            if t is None or not (t[0].isalpha() or t[0] == "_" or t == "*"):
                return [segs], p
            segs.append(t)
            p = r

    def group(p):
        paths = []
        while True:
            t, q = tok(p)
            if t == "}":
                return paths, q
            if t == ",":
                p = q
                continue
            if t == "{":
                sub, p = group(q)
                paths.extend(sub)
                continue
            if t is None:
                return paths, p
            sub, p2 = path(p)
            if p2 == p:
                return paths, p
            paths.extend(sub)
            # `x as y`
            t, q = tok(p2)
            if t == "as":
                _, p2 = tok(q)
            p = p2

    return path(pos)[0]


INLINE_MOD = re.compile(r"\bmod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{")


def check(path, violations):
    module = module_of(path)
    if not module or module[0] not in LAYERS:
        return
    layer = module[0]
    system = module[1] if layer == "connectors" and len(module) > 1 and module[1] in SYSTEMS else None
    # A file directly in src/connectors/ (not in a system folder) is exempt from the rule
    # between systems.
    if system and os.path.dirname(os.path.relpath(path, SRC)) == "connectors":
        system = None
    with open(path, encoding="utf-8") as f:
        text = clean(f.read())
    line_starts = [0]
    for m in re.finditer("\n", text):
        line_starts.append(m.end())

    def line_of(pos):
        lo, hi = 0, len(line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if line_starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    # Inline modules open at each position (`mod tests { … }`), for resolving `super`.
    opens = {m.end() - 1: m.group(1) for m in INLINE_MOD.finditer(text)}
    depth, stack, names, scope_at = 0, [], (), []
    for i, c in enumerate(text):
        if c == "{":
            depth += 1
            if i in opens:
                stack.append(depth)
                names = names + (opens[i],)
        elif c == "}":
            if stack and stack[-1] == depth:
                stack.pop()
                names = names[:-1]
            depth -= 1
        scope_at.append(names)

    def scope(pos):
        return list(scope_at[pos]) if pos < len(scope_at) else []

    for m in re.finditer(r"(?<![A-Za-z0-9_:])(crate|super)(?=\s*::)", text):
        for segs in parse_path(text, m.start()):
            if segs[0] == "crate":
                target = segs[1:]
            else:
                ups = 0
                while ups < len(segs) and segs[ups] == "super":
                    ups += 1
                base = module + scope(m.start())
                if ups > len(base):
                    continue
                target = base[: len(base) - ups] + segs[ups:]
            if not target or target[0] not in LAYERS:
                continue
            where = f"{path}:{line_of(m.start())}"
            if target[0] in FORBIDDEN.get(layer, set()):
                violations.add((where, f"{layer} imports {target[0]}"))
            if (
                system
                and target[0] == "connectors"
                and len(target) > 1
                and target[1] in SYSTEMS
                and target[1] != system
                and target[1] not in SHARED_SYSTEMS
            ):
                violations.add((where, f"connectors/{system} imports connectors/{target[1]}"))


violations = set()
for root, _, files in os.walk(SRC):
    for name in files:
        if name.endswith(".rs"):
            check(os.path.join(root, name), violations)


def order(v):
    file, line = v[0].rsplit(":", 1)
    return (file, int(line), v[1])


for where, what in sorted(violations, key=order):
    print(f"{where}: {what}")
if violations:
    print(f"{len(violations)} layering violation(s); see scripts/check-layers.sh for the rules", file=sys.stderr)
    sys.exit(1)
PY
