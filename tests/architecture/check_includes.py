#!/usr/bin/env python3
"""Checks every #include in src/, include/compe/, cli/ and python/src/ against the module graph.

The allowed graph is read from one data file (docs/module-graph.txt; its header explains the
format). Each file belongs to a module: src/<m>/... to <m>, include/compe/<h> to the module the
data file names as its owner, cli/ to `cli`, python/src/ to `python`. An include is an edge from
the including file's module to the included file's module. The check fails, naming file:line and
the edge, on:

  - an include of another module's private header (src/<m>/..., or a relative path into another
    module) that the data file does not expose to the includer;
  - an edge the data file does not allow;
  - a public header (include/compe/...) that the data file gives no owner;
  - a cycle among the edges that occur (pending edges aside), and a cycle in the allowed graph;
  - a pending edge that no longer occurs (the line is to be deleted).

Usage: check_includes.py [--root DIR] [--graph FILE]   (exit 0 clean, 1 violations, 2 bad input)
"""

import argparse
import fnmatch
import os
import re
import sys

SOURCE_SUFFIXES = (".hpp", ".cpp", ".h", ".cc", ".inc")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


class GraphError(Exception):
    pass


class Graph:
    def __init__(self):
        self.allowed = {}  # module -> set of modules
        self.allowed_line = {}
        self.owner = {}  # public header file name -> module
        self.expose = []  # (module, glob over "<module>/<path>", set of users or {"*"})
        self.pending = {}  # (from, to) -> (line, reason)


def parse_graph(path):
    g = Graph()
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise GraphError(f"{path}: cannot read the module graph: {e.strerror}")
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}:{n}"
        kind, _, rest = line.partition(" ")
        rest = rest.strip()
        if kind == "module":
            name, sep, deps = rest.partition(":")
            name = name.strip()
            if not sep or not name:
                raise GraphError(f"{where}: expected 'module <name>: <modules>', got '{raw.strip()}'")
            if name in g.allowed:
                raise GraphError(f"{where}: module '{name}' is declared twice "
                                 f"(first at line {g.allowed_line[name]})")
            g.allowed[name] = set(deps.split())
            g.allowed_line[name] = n
        elif kind == "header":
            parts = rest.split()
            if len(parts) != 2:
                raise GraphError(f"{where}: expected 'header <file> <module>', got '{raw.strip()}'")
            g.owner[parts[0]] = parts[1]
        elif kind == "expose":
            pattern, sep, users = rest.partition(":")
            pattern = pattern.strip()
            if not sep or "/" not in pattern or not users.split():
                raise GraphError(f"{where}: expected 'expose <module>/<glob>: <modules|*>', "
                                 f"got '{raw.strip()}'")
            g.expose.append((pattern.split("/", 1)[0], pattern, set(users.split())))
        elif kind == "pending":
            edge, sep, reason = rest.partition(":")
            ends = [e.strip() for e in edge.split("->")]
            if not sep or len(ends) != 2 or not all(ends) or not reason.strip():
                raise GraphError(f"{where}: expected 'pending <from> -> <to>: <why>', "
                                 f"got '{raw.strip()}'")
            g.pending[tuple(ends)] = (n, reason.strip())
        else:
            raise GraphError(f"{where}: unknown line kind '{kind}' "
                             "(expected module, header, expose or pending)")
    known = set(g.allowed)
    for name, deps in g.allowed.items():
        for d in sorted(deps - known):
            raise GraphError(f"{path}:{g.allowed_line[name]}: module '{name}' may include "
                             f"'{d}', which is not a declared module")
    for header, mod in g.owner.items():
        if mod not in known:
            raise GraphError(f"{path}: header {header} is owned by '{mod}', not a declared module")
    for mod, pattern, users in g.expose:
        for u in users - known - {"*"}:
            raise GraphError(f"{path}: 'expose {pattern}' names '{u}', not a declared module")
        if mod not in known:
            raise GraphError(f"{path}: 'expose {pattern}': '{mod}' is not a declared module")
    return g


def find_cycle(edges):
    """One cycle in {node: set(nodes)} as a list [a, b, ..., a], or None."""
    state = {}
    stack = []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(edges.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                found = visit(v)
                if found:
                    return found
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(edges):
        if u not in state:
            found = visit(u)
            if found:
                return found
    return None


def module_of(rel, g):
    """The module a repository-relative path belongs to, or None (not checked)."""
    parts = rel.split("/")
    if parts[0] == "src" and len(parts) >= 3:
        return parts[1]
    if parts[:2] == ["include", "compe"] and len(parts) == 3:
        return g.owner.get(parts[2], "?")
    if parts[0] == "cli" and len(parts) >= 2:
        return "cli"
    if parts[:2] == ["python", "src"] and len(parts) >= 3:
        return "python"
    return None


def resolve(root, including_rel, target):
    """Repository-relative path of an included file: next to the includer first, then src/ and
    include/ (the core's include directories). None for a header outside the repository."""
    candidates = [os.path.join(os.path.dirname(including_rel), target),
                  os.path.join("src", target), os.path.join("include", target)]
    for c in candidates:
        c = os.path.normpath(c)
        if c.startswith(".."):
            continue
        if os.path.isfile(os.path.join(root, c)):
            return c.replace(os.sep, "/")
    # A path that names a module folder even though the file is missing still counts.
    first = target.split("/")[0]
    if first == "compe":
        return "include/" + target
    if "/" in target and os.path.isdir(os.path.join(root, "src", first)):
        return "src/" + target
    return None


def exposed(g, target_rel, includer):
    inner = target_rel[len("src/"):]
    mod = inner.split("/", 1)[0]
    for owner, pattern, users in g.expose:
        if owner == mod and fnmatch.fnmatchcase(inner, pattern) and ("*" in users or includer in users):
            return True
    return False


def source_files(root):
    for top in ("src", "include/compe", "cli", "python/src"):
        base = os.path.join(root, top)
        for d, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(SOURCE_SUFFIXES):
                    yield os.path.relpath(os.path.join(d, name), root).replace(os.sep, "/")


def check(root, graph_path):
    g = parse_graph(graph_path)
    errors = []
    notes = []
    allowed_cycle = find_cycle(g.allowed)
    if allowed_cycle:
        errors.append(f"{graph_path}: the allowed graph has a cycle: {' -> '.join(allowed_cycle)}")
    occurring = {}  # (from, to) -> first "file:line"
    for rel in source_files(root):
        mod = module_of(rel, g)
        if mod is None:
            continue
        if mod == "?":
            errors.append(f"{rel}: public header with no owner: add 'header "
                          f"{os.path.basename(rel)} <module>' to {graph_path}")
            continue
        if mod not in g.allowed:
            errors.append(f"{rel}: module '{mod}' is not declared in {graph_path}")
            continue
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                target = m.group(2)
                if m.group(1) == "<" and not target.startswith("compe/"):
                    continue  # system and third-party headers
                where = f"{rel}:{n}"
                target_rel = resolve(root, rel, target)
                if target_rel is None:
                    continue
                to = module_of(target_rel, g)
                if to is None:
                    continue
                if to == "?":
                    errors.append(f"{where}: includes {target_rel}, a public header with no owner "
                                  f"in {graph_path}")
                    continue
                if to == mod:
                    continue
                if target_rel.startswith("src/") and not exposed(g, target_rel, mod):
                    errors.append(f"{where}: private reach {mod} -> {to}: includes \"{target}\" "
                                  f"({target_rel}), a header private to src/{to}")
                    continue
                edge = (mod, to)
                occurring.setdefault(edge, where)
                if to in g.allowed[mod]:
                    continue
                if edge in g.pending:
                    continue
                errors.append(f"{where}: forbidden edge {mod} -> {to}: includes \"{target}\" "
                              f"({graph_path} does not let {mod} include {to})")
    for edge, (n, reason) in sorted(g.pending.items()):
        if edge in occurring:
            notes.append(f"pending {edge[0]} -> {edge[1]} (first at {occurring[edge]}): {reason}")
        else:
            errors.append(f"{graph_path}:{n}: pending edge {edge[0]} -> {edge[1]} no longer occurs: "
                          "delete the line")
    actual = {}
    for (a, b) in occurring:
        if (a, b) not in g.pending:
            actual.setdefault(a, set()).add(b)
    cycle = find_cycle(actual)
    if cycle:
        steps = [f"{a} -> {b} ({occurring[(a, b)]})" for a, b in zip(cycle, cycle[1:])]
        errors.append("cycle among the modules: " + ", ".join(steps))
    return errors, notes, occurring


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_root = os.path.normpath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--root", default=default_root, help="repository root")
    ap.add_argument("--graph", help="module graph (default: <root>/docs/module-graph.txt)")
    ap.add_argument("--print-edges", action="store_true", help="list the edges that occur")
    args = ap.parse_args()
    graph = args.graph or os.path.join(args.root, "docs", "module-graph.txt")
    try:
        errors, notes, occurring = check(args.root, graph)
    except GraphError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.print_edges:
        for (a, b), where in sorted(occurring.items()):
            print(f"{a} -> {b}  ({where})")
    for n in notes:
        print(n)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    if errors:
        print(f"{len(errors)} module graph violation(s)", file=sys.stderr)
        return 1
    print(f"module graph ok: {len(occurring)} edges between modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
