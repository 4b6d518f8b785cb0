#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Catch mechanical-edit defects in the lines a series adds to C files.

    check-format.py TREE [REV_RANGE]     (default range: base..HEAD)

For every commit of the range and every .c/.h file it adds or changes, the
file as that commit leaves it is formatted by clang-format with the tree's
own .clang-format, except ColumnLimit: 0 (clang-format then keeps the line
breaks it finds instead of rewrapping for length, the bulk of its
disagreements with kernel code). Only lines the commit adds are judged, and
only for the line-structure defects a scripted or hand-merged edit leaves,
which checkpatch does not see:

  statement-after-end   clang-format breaks the line after a ';' or a
                        closing '}' that ends a statement, declaration or
                        block, and code (not a comment, '}' or another
                        closer) follows on the same line:
                        "}	return 0;", "a = 1; b = 2;", "} foo();".
  indent                a line that starts a statement (the previous token
                        is ';', '{' or '}', outside preprocessor lines and
                        comments) is indented to another column than
                        clang-format's, and the line above it in the file
                        agrees with clang-format (so a whole block the
                        kernel and clang-format indent differently, e.g.
                        macro bodies, is not reported line by line).

Everything else clang-format would change (alignment of continuation lines,
spaces, brace placement of short functions, wrapping) is style on which
kernel code and clang-format disagree, and is not reported.

Output: one line per finding, "SUBJECT: FILE:LINE: RULE: text"; exit status 1
if there is any, 2 on a usage or tool error, 0 otherwise.
"""
import re
import subprocess
import sys
import tempfile

CLANG_FORMAT = 'clang-format'
ENDS = ';}'
# A split followed by one of these is clang-format's taste, not a merged line:
# closers, separators, and a trailing comment moved to its own line.
NOT_CODE_AFTER = '})],;/'


def git(tree, *args, binary=False):
    r = subprocess.run(['git', '-C', tree] + list(args), capture_output=True)
    if r.returncode:
        sys.exit('check-format: git %s: %s' % (' '.join(args), r.stderr.decode().strip()))
    return r.stdout if binary else r.stdout.decode('utf-8', 'replace')


def style_file(tree, base):
    """The tree's .clang-format with ColumnLimit: 0, in a temporary file."""
    text = git(tree, 'show', base + ':.clang-format')
    text, n = re.subn(r'(?m)^ColumnLimit:.*$', 'ColumnLimit: 0', text)
    if not n:
        text += '\nColumnLimit: 0\n'
    f = tempfile.NamedTemporaryFile('w', suffix='.clang-format', delete=False)
    f.write(text)
    f.close()
    return f.name


def added_lines(tree, commit, path):
    """Line numbers (1-based, in the new file) that COMMIT adds to PATH."""
    diff = git(tree, 'diff', '-U0', '--no-color', '--no-ext-diff', commit + '^', commit,
               '--', path)
    lines = set()
    for m in re.finditer(r'^@@ -\S+ \+(\d+)(?:,(\d+))? @@', diff, re.M):
        start, count = int(m.group(1)), int(m.group(2) or '1')
        lines.update(range(start, start + count))
    return lines


def nonspace(text):
    """[(char, line index)] of every non-white-space character; the
    backslash that continues a macro line counts as white space (clang-format
    moves line breaks in macros)."""
    out = []
    for i, line in enumerate(text.split('\n')):
        r = line.rstrip()
        if r.endswith('\\'):
            line = r[:-1]
        out.extend((c, i) for c in line if not c.isspace())
    return out


def columns(line):
    col = 0
    for c in line:
        if c == '\t':
            col = (col // 8 + 1) * 8
        elif c == ' ':
            col += 1
        else:
            break
    return col


def code_mask(text):
    """Per line: True where the line is code (not in a comment, not a
    preprocessor line or its continuation)."""
    mask = []
    in_comment = False
    in_pp = False
    for line in text.split('\n'):
        s = line.strip()
        starts_in_comment = in_comment
        # Track /* */ across lines (strings with "/*" are rare enough here).
        i = 0
        while i < len(line):
            if in_comment:
                j = line.find('*/', i)
                if j < 0:
                    i = len(line)
                    break
                in_comment = False
                i = j + 2
            else:
                j = line.find('/*', i)
                k = line.find('//', i)
                if k >= 0 and (j < 0 or k < j):
                    break
                if j < 0:
                    break
                in_comment = True
                i = j + 2
        pp = in_pp or s.startswith('#')
        in_pp = pp and line.rstrip().endswith('\\')
        mask.append(not pp and not starts_in_comment and not s.startswith(('/*', '*', '//')))
    return mask


def findings(src, fmt, added):
    """(line, rule) for the ADDED lines of SRC that the rules flag, FMT being
    clang-format's version of SRC."""
    a, b = nonspace(src), nonspace(fmt)
    if [c for c, _ in a] != [c for c, _ in b]:
        return [(0, 'clang-format changed more than white space; not judged')]
    src_lines, fmt_lines = src.split('\n'), fmt.split('\n')
    mask = code_mask(src)
    out = []
    flagged = set()
    # statement-after-end: a break clang-format adds inside one source line.
    for k in range(1, len(a)):
        (c0, l0), (c1, l1) = a[k - 1], a[k]
        if l0 != l1 or b[k - 1][1] == b[k][1]:
            continue
        ln = l0 + 1
        if ln in added and mask[l0] and c0 in ENDS and c1 not in NOT_CODE_AFTER \
                and ln not in flagged:
            flagged.add(ln)
            out.append((ln, 'statement-after-end'))
    # indent: the first character of each source line, where clang-format
    # also starts a line with it.
    first = {}
    for k, (c, l) in enumerate(a):
        first.setdefault(l, k)

    def indent_ok(l):
        k = first.get(l)
        if k is None:
            return True
        fl = b[k][1]
        if k > 0 and b[k - 1][1] == fl:
            return True     # clang-format joins it to the line above: not judged
        return columns(src_lines[l]) == columns(fmt_lines[fl])

    for l, k in sorted(first.items()):
        ln = l + 1
        if ln not in added or ln in flagged or not mask[l] or k == 0:
            continue
        if a[k - 1][0] not in ';{}' or a[k][0] == '}':
            continue
        if indent_ok(l):
            continue
        # The nearest code line above it: if clang-format disagrees there
        # as well, the block is indented the kernel's way, not misedited.
        p = l - 1
        while p >= 0 and (p not in first or not mask[p]):
            p -= 1
        if p >= 0 and not indent_ok(p):
            continue
        out.append((ln, 'indent (clang-format: column %d, here %d)' % (
            columns(fmt_lines[b[k][1]]), columns(src_lines[l]))))
    return sorted(out)


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().split('\n\n')[1], file=sys.stderr)
        return 2
    tree = sys.argv[1]
    rng = sys.argv[2] if len(sys.argv) == 3 else 'base..HEAD'
    base = rng.split('..')[0]
    style = style_file(tree, base)
    bad = 0
    for commit in git(tree, 'rev-list', '--reverse', rng).split():
        subj = git(tree, 'log', '-1', '--format=%s', commit).strip()
        paths = git(tree, 'diff-tree', '--no-commit-id', '-r', '--name-only',
                    '--diff-filter=AM', commit, '--', '*.c', '*.h').split()
        for path in paths:
            added = added_lines(tree, commit, path)
            if not added:
                continue
            src = git(tree, 'show', '%s:%s' % (commit, path))
            r = subprocess.run([CLANG_FORMAT, '--style=file:' + style,
                                '--assume-filename=' + path],
                               input=src.encode(), capture_output=True)
            if r.returncode:
                print('check-format: clang-format failed on %s at %s: %s' % (
                    path, commit[:12], r.stderr.decode().strip()), file=sys.stderr)
                return 2
            lines = src.split('\n')
            for ln, rule in findings(src, r.stdout.decode('utf-8', 'replace'), added):
                bad += 1
                text = lines[ln - 1].strip() if ln else ''
                print('%s: %s:%d: %s: %s' % (subj, path, ln, rule, text))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
