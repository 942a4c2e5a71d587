#!/usr/bin/python3
"""File and function sizes of src/ (STYLE.md: files <= 300 lines, functions <= 40 lines).

Usage: check_sizes.py [SRC_DIR] [--list]
Prints every file and function over its limit that tools/size_exceptions.txt does not list (with
the reason it stays), and exits 1 when there is one. --list prints the largest functions.

Functions are found by brace matching on the source with comments, strings and character
literals blanked: a '{' outside any function whose statement head ends like a function signature
(a ')' followed by qualifiers, a trailing return type or a constructor's initializer list) opens
a function; its length counts from the first line of the signature to the closing brace, lambdas
and local classes included. namespace/class/struct/enum bodies and '= {' initializers are scopes,
not functions.
"""
import os
import re
import sys

FILE_LIMIT = 300
FUNCTION_LIMIT = 40
HERE = os.path.dirname(os.path.abspath(__file__))


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
        elif text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and (text[i - 1].isalnum()):  # digit separator 1'000
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (j + 1 - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


SCOPE_RE = re.compile(r"\b(namespace|class|struct|union|enum)\b")
SIGNATURE_RE = re.compile(
    r"\)\s*(const|override|final|noexcept|mutable|volatile|&|&&|\s)*(->\s*[\w:<>,\s*&]+)?$")
INIT_LIST_RE = re.compile(r"\)\s*:\s*[\w:]+\s*[({].*[)}]\s*$", re.S)


def kind_of(head):
    """'function', 'scope' or 'other' for the statement head before a '{'."""
    h = head.strip()
    if not h:
        return "other"
    if SCOPE_RE.search(h) and "(" not in h.split("{")[0][: h.find(SCOPE_RE.search(h).group(0)) + 1]:
        if not SIGNATURE_RE.search(h):
            return "scope"
    if re.search(r"(^|[^=!<>])=\s*$", h) or h.endswith("return") or h.endswith(","):
        return "other"
    if SIGNATURE_RE.search(h) or INIT_LIST_RE.search(h):
        if re.match(r"^(if|for|while|switch|catch)\b", h.split()[-1] if h.split() else ""):
            return "other"
        return "function"
    if h.startswith('extern "C"') or h == "extern":
        return "scope"
    return "other"


def name_of(head):
    """The function's name: the identifier (or operator) before its parameter list."""
    h = re.sub(r"^\s*template\s*<[^{;]*?>\s*", "", head.strip())
    m = re.search(r"(operator\s*(\(\)|[^\s(]+)|[~\w:]+)\s*(<[^()]*>)?\s*\(", h)
    return m.group(1).split("::")[-1] if m else h[:40]


def functions(path):
    """[(name, first_line, last_line)] of the top-level function bodies in a file."""
    text = blank(open(path, encoding="utf-8").read())
    out = []
    stack = []  # kinds of the open braces
    head_start = 0
    depth_in_function = 0
    func_start = None
    for i, c in enumerate(text):
        if c in ";}" and depth_in_function == 0:
            pass
        if c == "{":
            if depth_in_function:
                depth_in_function += 1
                stack.append("inner")
            else:
                head = text[head_start:i]
                k = kind_of(head)
                stack.append(k)
                if k == "function":
                    depth_in_function = 1
                    lead = len(head) - len(head.lstrip())
                    func_start = (text.count("\n", 0, head_start + lead) + 1, name_of(head))
            head_start = i + 1
        elif c == "}":
            k = stack.pop() if stack else "other"
            if depth_in_function:
                depth_in_function -= 1
                if depth_in_function == 0 and k == "function":
                    out.append((func_start[1], func_start[0], text.count("\n", 0, i) + 1))
            head_start = i + 1
        elif c == ";" and not depth_in_function:
            head_start = i + 1
        elif c == ":" and not depth_in_function and re.search(
                r"\b(public|private|protected)\s*$", text[head_start:i]):
            head_start = i + 1
    return out


def load_exceptions():
    path = os.path.join(HERE, "size_exceptions.txt")
    out = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, why = line.partition("  ")
                out[key.strip()] = why.strip()
    return out


def main(argv):
    src = argv[1] if len(argv) > 1 and not argv[1].startswith("--") else os.path.join(HERE, "..", "src")
    src = os.path.abspath(src)
    exceptions = load_exceptions()
    bad, allowed, funcs = [], [], []
    for root, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith((".cpp", ".hpp", ".cu", ".cuh")):
                continue
            p = os.path.join(root, f)
            rel = os.path.relpath(p, os.path.dirname(src))
            n = sum(1 for _ in open(p, encoding="utf-8"))
            if n > FILE_LIMIT:
                (allowed if rel in exceptions else bad).append(f"{rel}: {n} lines (file limit {FILE_LIMIT})")
            for name, a, b in functions(p):
                length = b - a + 1
                funcs.append((length, f"{rel}:{a}", name))
                key = f"{rel}:{name}"
                if length > FUNCTION_LIMIT:
                    (allowed if key in exceptions else bad).append(
                        f"{key} ({rel}:{a}): {length} lines (function limit {FUNCTION_LIMIT})")
    if "--list" in argv:
        for length, where, name in sorted(funcs, reverse=True)[:25]:
            print(f"{length:4d}  {where}  {name}")
    for a in allowed:
        print("allowed: " + a)
    for b in bad:
        print("TOO LONG: " + b)
    print(f"{len(funcs)} functions; {len(bad)} over the limits without an exception")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
