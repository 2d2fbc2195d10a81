#!/usr/bin/env python3
"""Lists C++ function bodies longer than N lines.

usage: scripts/long-functions.py [-n LINES] [--build build] [--root DIR] [--check] [PATH ...]

Files: the .cpp files named in <build>/compile_commands.json that lie under the given paths
(default: src cli python/src), plus any .hpp under those paths (every .cpp when the tree has no
compile_commands.json, e.g. an old commit checked out with --root). Each file is scanned with
comments, string and character literals blanked out; an opening brace whose preceding statement
looks like a function head (parentheses, not a control statement, a namespace, a type or an
initialiser) starts a function, which ends at its matching brace. Lambdas and local classes count
as part of the function around them. Prints "lines  file:line  name", longest first; exits 1 when
any function is over the limit and --check is given.

A function may carry a reason for its length: a comment containing "long-function:" within the
three lines above its head. Such functions are listed with the reason and do not fail --check.
"""
import argparse
import json
import os
import re
import sys

CONTROL = {"if", "for", "while", "switch", "catch", "do", "else", "try", "return"}
TYPE_HEADS = re.compile(r"^(?:template\s*<.*>\s*)?(namespace|class|struct|union|enum|extern)\b")


def blank(text):
    """Comments, string and char literals replaced by spaces (newlines kept)."""
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
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = ")" + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            # a digit separator (1'000) is not a character literal
            if c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def function_name(head):
    """The name before the parameter list of a function head, or None when it is not one."""
    head = " ".join(head.split())
    head = re.sub(r"^(?:public|private|protected)\s*:\s*", "", head)
    if not head or "(" not in head or TYPE_HEADS.match(head):
        return None
    before = head[: head.index("(")]
    if "=" in before.replace("operator=", "") or before.rstrip().endswith("]"):
        return None  # an initialiser or a lambda
    m = re.search(r"(operator\s*\S+|[~\w:]+)\s*$", before)
    if not m:
        return None
    name = m.group(1)
    if name.split("::")[-1] in CONTROL:
        return None
    return name


def scan(path, text):
    """(start_line, end_line, name) of each function in the file."""
    code = blank(text)
    found = []
    stack = []  # per open brace: "fn" (a function body), "in" (inside one), "scope"
    head_start = 0
    line = 1
    head_line = 1
    for i, ch in enumerate(code):
        if ch == "\n":
            line += 1
            continue
        if ch in ";}{" and not any(s[0] in ("fn", "in") for s in stack):
            if ch == "{":
                head = code[head_start:i]
                name = function_name(head)
                if name:
                    first = head_start + len(head) - len(head.lstrip())
                    stack.append(("fn", code.count("\n", 0, first) + 1, name))
                else:
                    stack.append(("scope",))
            elif ch == "}":
                if stack:
                    stack.pop()
            head_start = i + 1
            continue
        if ch == "{":
            stack.append(("in",))
        elif ch == "}":
            top = stack.pop() if stack else ("scope",)
            if top[0] == "fn":
                found.append((top[1], line, top[2]))
                head_start = i + 1
    return found


def reason_for(lines, start):
    for k in range(max(0, start - 4), start - 1):
        m = re.search(r"long-function:\s*(.*)", lines[k])
        if m:
            return m.group(1).strip()
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--lines", type=int, default=150, help="list functions longer than this")
    ap.add_argument("--build", default="build", help="folder with compile_commands.json (under --root)")
    ap.add_argument("--root", default=None,
                    help="tree to scan (default: the one holding this script); without a "
                         "compile_commands.json every .cpp under the paths is scanned")
    ap.add_argument("--check", action="store_true", help="exit 1 when a function without a reason is over")
    ap.add_argument("paths", nargs="*", default=["src", "cli", "python/src"])
    args = ap.parse_args()
    root = os.path.abspath(args.root) if args.root else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    prefixes = [os.path.normpath(os.path.join(root, p)) for p in args.paths]

    def wanted(f):
        f = os.path.normpath(f)
        return any(f == p or f.startswith(p + os.sep) for p in prefixes)

    files = set()
    cc = os.path.join(root, args.build, "compile_commands.json")
    if os.path.exists(cc):
        with open(cc) as fh:
            for e in json.load(fh):
                f = os.path.normpath(os.path.join(e.get("directory", ""), e["file"]))
                if wanted(f):
                    files.add(f)
    for p in prefixes:
        for dirpath, _, names in os.walk(p) if os.path.isdir(p) else [(os.path.dirname(p), [], [os.path.basename(p)])]:
            for nm in names:
                if nm.endswith((".hpp", ".h")) or (not os.path.exists(cc) and nm.endswith(".cpp")):
                    files.add(os.path.join(dirpath, nm))
    rows = []
    for f in sorted(files):
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        lines = text.split("\n")
        for start, end, name in scan(f, text):
            n = end - start + 1
            if n > args.lines:
                rows.append((n, os.path.relpath(f, root), start, name, reason_for(lines, start)))
    rows.sort(key=lambda r: (-r[0], r[1]))
    bad = 0
    for n, f, start, name, why in rows:
        print(f"{n:5d}  {f}:{start}  {name}" + (f"  (long-function: {why})" if why else ""))
        bad += why is None
    if args.check and bad:
        print(f"{bad} function(s) over {args.lines} lines without a reason", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
