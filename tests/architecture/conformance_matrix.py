#!/usr/bin/python3
"""Keeps docs/conformance.md, the RFC matrix, true to the code and the tests.

The matrix has one row per normative statement of RFC 6455 and RFC 7692 that
applies to an endpoint:

    | ID | § | statement | C/S | enforced in | test | status |

This script fails if
  - an ID appears in two rows, or is not of a known family (URI-n, HSC-n, ...);
  - a row has no status, or one that is not tested / partial / untested /
    not implemented / n/a;
  - a file cited in "enforced in" does not exist, or a function cited after it
    does not appear in that file;
  - a test cited in "test" is neither a TEST_CASE name under tests/ (bare, or
    with its label, "<label>: <name>" or "<label>:<name>") nor a CTest name of tests/CMakeLists.txt;
  - a row says tested or partial and cites no test, or says untested,
    not implemented or n/a and cites one;
  - an ID used in a TEST_CASE name under tests/ has no row;
  - a rule of the rule book (src/rules/rules.cpp) is not cited, as
    `src/rules/rules.cpp` `rule_name`, in the row of its checklist ID, or is
    cited in another row;
  - the counts table at the top of the document disagrees with the rows.
It prints the counts per family. Usage:

    /usr/bin/python3 tests/architecture/conformance_matrix.py --root /work/main
"""
import argparse
import os
import re
import sys
from collections import Counter, OrderedDict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import harness  # noqa: E402  check(), summary()

FAMILIES = ["URI", "HSC", "HSS", "FR", "MK", "HB", "CL", "U8", "EX", "PMD", "TLS", "INV", "API"]
ID_RE = re.compile(r"\b(" + "|".join(FAMILIES) + r")-(\d+)\b")
STATUSES = ["tested", "partial", "untested", "not implemented", "n/a"]
MATRIX_HEADER = ["ID", "§", "statement", "C/S", "enforced in", "test", "status"]
ROLES = {"client", "server", "both"}
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".py", ".cmake", ".txt", ".sh", ".md")


def split_row(line):
    """The cells of a Markdown table row: split on '|' outside backticks
    (a '\\|' is a literal bar)."""
    cells, cell, in_code, i = [], "", False, 0
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] == "|":
            cell += "|"
            i += 2
            continue
        if c == "`":
            in_code = not in_code
        if c == "|" and not in_code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += c
        i += 1
    cells.append(cell.strip())
    return cells


def tables(text):
    """Every Markdown table as (header cells, [(line number, cells), ...])."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            header = split_row(lines[i])
            rows, j = [], i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                rows.append((j + 1, split_row(lines[j])))
                j += 1
            out.append((header, rows))
            i = j
        else:
            i += 1
    return out


def c_string(literals):
    """The value of adjacent C string literals (their quotes stripped)."""
    value = ""
    for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', literals):
        value += re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), lit)
    return value


def test_cases(root):
    """{TEST_CASE name: CTest label prefix} for every .cpp under tests/."""
    names = {}
    tests_dir = os.path.join(root, "tests")
    pattern = re.compile(r'TEST_CASE\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
    for dirpath, _, files in os.walk(tests_dir):
        for f in files:
            if not f.endswith(".cpp"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, tests_dir).split(os.sep)
            if rel[0] == "conformance" and len(rel) > 2:
                label = "conformance " + rel[1]
            else:
                label = rel[0]
            with open(path, encoding="utf-8", errors="replace") as fh:
                for m in pattern.finditer(fh.read()):
                    names[c_string(m.group(1))] = label
    return names


def ctest_names(root):
    """The NAMEs of add_test() in tests/CMakeLists.txt."""
    path = os.path.join(root, "tests", "CMakeLists.txt")
    with open(path, encoding="utf-8") as fh:
        return set(re.findall(r'add_test\(\s*NAME\s+"([^"]+)"', fh.read()))


def known_test(name, cases, ctests):
    if name in ctests or name in cases:
        return True
    for label in set(cases.values()):
        # "framing: FR-3 ..." as cited; "framing:FR-3 ..." as catch_discover_tests registers it
        for prefix in (label + ": ", label + ":"):
            if name.startswith(prefix) and cases.get(name[len(prefix):]) == label:
                return True
    return False


def code_spans(cell):
    return re.findall(r"`([^`]+)`", cell)


def is_path(token):
    return "/" in token and token.endswith(SOURCE_SUFFIXES) and " " not in token


def status_of(cell):
    lowered = cell.strip().lower()
    for s in STATUSES:
        if lowered == s or lowered.startswith(s + " ") or lowered.startswith(s + ":") or lowered.startswith(s + ","):
            return s
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    parser.add_argument("--doc", default="docs/conformance.md")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    with open(os.path.join(root, args.doc), encoding="utf-8") as fh:
        text = fh.read()

    cases = test_cases(root)
    ctests = ctest_names(root)
    file_cache = {}

    def source(rel):
        if rel not in file_cache:
            path = os.path.join(root, rel)
            file_cache[rel] = open(path, encoding="utf-8", errors="replace").read() if os.path.isfile(path) else None
        return file_cache[rel]

    rows = OrderedDict()
    problems = {k: [] for k in ["shape", "duplicate", "status", "role", "file", "function", "test", "tested without test", "untested with test",
                                "unlisted ID", "rule book", "counts"]}
    counts_table = None
    for header, body in tables(text):
        if header[:len(MATRIX_HEADER)] == MATRIX_HEADER:
            for line, cells in body:
                where = f"{args.doc}:{line}"
                if len(cells) != len(MATRIX_HEADER):
                    problems["shape"].append(f"{where}: {len(cells)} cells, expected {len(MATRIX_HEADER)}")
                    continue
                rid, section, statement, role, enforced, tests, status = cells
                if not re.fullmatch(r"(" + "|".join(FAMILIES) + r")-\d+", rid):
                    problems["shape"].append(f"{where}: {rid!r} is not an ID of a known family")
                    continue
                if rid in rows:
                    problems["duplicate"].append(f"{where}: {rid} already in line {rows[rid]['line']}")
                    continue
                if not section or not statement:
                    problems["shape"].append(f"{where}: {rid} lacks its section or statement")
                st = status_of(status)
                if st is None:
                    problems["status"].append(f"{where}: {rid} status {status!r} is not one of {', '.join(STATUSES)}")
                if role not in ROLES:
                    problems["role"].append(f"{where}: {rid} C/S {role!r} is not one of {', '.join(sorted(ROLES))}")
                current = None
                for token in code_spans(enforced):
                    if is_path(token):
                        current = token
                        if source(token) is None:
                            problems["file"].append(f"{where}: {rid} cites {token}, which does not exist")
                    elif current is None:
                        problems["function"].append(f"{where}: {rid} cites `{token}` before any file")
                    elif source(current) is not None and not re.search(
                            r"(?<![\w:])" + re.escape(token) + r"(?!\w)", source(current)):
                        problems["function"].append(f"{where}: {rid}: `{token}` does not appear in {current}")
                cited = code_spans(tests)
                for name in cited:
                    if not known_test(name, cases, ctests):
                        problems["test"].append(f"{where}: {rid} cites test {name!r}, which no TEST_CASE or "
                                                f"CTest name matches")
                if st in ("tested", "partial") and not cited:
                    problems["tested without test"].append(f"{where}: {rid} says {st} but cites no test")
                if st in ("untested", "not implemented", "n/a") and cited:
                    problems["untested with test"].append(f"{where}: {rid} says {st} but cites a test")
                rules_cited = []
                current = None
                for token in code_spans(enforced):
                    if is_path(token):
                        current = token
                    elif current == "src/rules/rules.cpp":
                        rules_cited.append(token)
                rows[rid] = {"line": line, "family": rid.split("-")[0], "status": st, "rules": rules_cited}
        elif header and header[0].lower() == "family" and "rows" in [h.lower() for h in header]:
            counts_table = (header, body)

    for token in sorted(set(code_spans(text))):
        if is_path(token) and source(token) is None and not any(token in p for p in problems["file"]):
            problems["file"].append(f"{args.doc}: names {token}, which does not exist")

    if not rows:
        problems["shape"].append(f"{args.doc}: no matrix table (header {' | '.join(MATRIX_HEADER)})")

    # Every ID a test names must have its row.
    used = {}
    for name in cases:
        for fam, num in ID_RE.findall(name):
            used.setdefault(f"{fam}-{num}", name)
    for rid in sorted(used, key=lambda r: (r.split("-")[0], int(r.split("-")[1]))):
        if rid not in rows:
            problems["unlisted ID"].append(f"{rid} is used by TEST_CASE {used[rid]!r} but has no row")

    # Every rule of the rule book names the row it enforces.
    with open(os.path.join(root, "src", "rules", "rules.cpp"), encoding="utf-8") as fh:
        book = re.findall(r'Rule\{E::(\w+),\s*"\w+",\s*"([A-Z0-9]+-\d+)"', fh.read())
    if not book:
        problems["rule book"].append("src/rules/rules.cpp: no Rule{E::..., \"name\", \"ID\", ...} rows found")
    book_ids = dict(book)
    for name, rid in book:
        if rid not in rows:
            problems["rule book"].append(f"rule {name} names {rid}, which has no row")
        elif name not in rows[rid]["rules"]:
            problems["rule book"].append(f"rule {name} ({rid}) is not cited in the row of {rid}")
    for rid, r in rows.items():
        for name in r["rules"]:
            if name in book_ids and book_ids[name] != rid:
                problems["rule book"].append(f"{rid} cites rule {name}, whose checklist ID is {book_ids[name]}")

    # The counts, per family.
    per_family = OrderedDict((f, Counter()) for f in FAMILIES)
    for r in rows.values():
        per_family[r["family"]]["rows"] += 1
        per_family[r["family"]][r["status"] or "?"] += 1
    columns = ["rows"] + STATUSES
    total = Counter()
    table_lines = ["| family | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for fam, c in per_family.items():
        if c["rows"] == 0:
            continue
        total.update(c)
        table_lines.append(f"| {fam} | " + " | ".join(str(c[k]) for k in columns) + " |")
    table_lines.append("| all | " + " | ".join(str(total[k]) for k in columns) + " |")

    if counts_table is None:
        problems["counts"].append(f"{args.doc}: no counts table (header: family | rows | ...)")
    else:
        header, body = counts_table
        expected = {line.split("|")[1].strip(): [x.strip() for x in line.strip("|").split("|")[1:]]
                    for line in table_lines[2:]}
        keys = [h.lower() for h in header[1:]]
        if keys != columns:
            problems["counts"].append(f"counts table columns {header[1:]} differ from {columns}")
        else:
            seen = set()
            for line, cells in body:
                fam = cells[0].strip("* ")
                seen.add(fam)
                if fam not in expected:
                    problems["counts"].append(f"{args.doc}:{line}: family {fam!r} has no rows")
                elif [x.strip("* ") for x in cells[1:]] != expected[fam]:
                    problems["counts"].append(f"{args.doc}:{line}: {fam} says {cells[1:]}, the rows say {expected[fam]}")
            for fam in expected:
                if fam not in seen:
                    problems["counts"].append(f"counts table lacks the line for {fam}")

    print("RFC matrix counts (from the rows):")
    for line in table_lines:
        print("  " + line)
    print(f"  {len(cases)} TEST_CASE names and {len(ctests)} other CTest names known; "
          f"{len(used)} IDs used in test names, {len(book)} rules in the rule book")
    for kind, found in problems.items():
        harness.check(f"matrix: {kind}", not found, "\n     ".join(found[:40]) +
                      (f"\n     ... and {len(found) - 40} more" if len(found) > 40 else ""))
    return harness.summary()


if __name__ == "__main__":
    sys.exit(main())
