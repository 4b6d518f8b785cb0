#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# check-format.py: the line-structure defects a mechanical edit leaves in the
# lines a commit adds are reported, at their lines; kernel style clang-format
# merely disagrees with, and lines the commit does not add, are not. Uses the
# assembled tree's .clang-format. Prints TAP.
set -u
here=$(dirname "$(realpath "$0")")
top=$(realpath "$here/../../../..")
: "${OUT:=$top/out}"
check=$here/../check-format.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

ok() { # NAME CONDITION-STATUS
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n $1"
	else
		echo "# output:"
		sed 's/^/#   /' "$tmp/out" | head -20
		echo "not ok $n $1"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
echo "1..6"
if [ ! -f "$OUT/patched/src/.clang-format" ] || ! command -v clang-format >/dev/null; then
	for i in 1 2 3 4 5 6; do echo "not ok $i no assembled tree or no clang-format"; done
	exit 1
fi

r=$tmp/repo
git init -q "$r"
git -C "$r" config user.name test
git -C "$r" config user.email test@example.org
cp "$OUT/patched/src/.clang-format" "$r/"
# The base: one defect of the class already there (not added by the series).
cat > "$r/a.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
static int old(int x)
{
	if (x)
		x--;	x++;
	return x;
}
EOF
git -C "$r" add -A
git -C "$r" commit -qm base
git -C "$r" tag base
# Commit 1: kernel style clang-format disagrees with (stubs on one line,
# one-line macros, initializers, statement expressions, labels, case,
# trailing comments, a continuation line aligned by hand), plus three defects.
cat > "$r/a.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#define BAR(x) do { (x)++; } while (0)
#define BAZ(x)			\
	do {			\
		(x)++;		\
	} while (0)

struct s {
	int a, b;
};

static const struct s tbl[] = {
	{ .a = 1, .b = 2 }, { .a = 3, .b = 4 },
};

static inline int stub(void) { return 0; }
static inline void stub2(void) { }

static int old(int x)
{
	if (x)
		x--;	x++;
	return x;
}

static int foo(int x, int y)
{
	int i;

	for (i = 0; i < x; i++) {
		if (i)
			x--;
	}	x++;
	x = 1; y = 2;
	for (;;) {
		if (x)
			break;
	  x++;
	}
	switch (x) {
	case 1:
		x++;
		break;
	default:
		break;
	}
	do {
		x++;
	} while (0);
	if (x) {
		x--;
	} else {
		x++; /* trailing */
	}
	x = ({ int z = 1; z; });
	x = old(x) + old(y) +
		old(x + y);
	goto out;
out:
	return x + BAR(y);
}

int bar(void)
{
	return stub() + foo(tbl[0].a, tbl[1].b);
}
EOF
git -C "$r" commit -qam "add foo"
# Commit 2: the defects fixed.
sed -i -e 's/^\t}\tx++;$/\t}\n\tx++;/' -e 's/^\tx = 1; y = 2;$/\tx = 1;\n\ty = 2;/' \
	-e 's/^\t  x++;$/\t\tx++;/' "$r/a.c"
git -C "$r" commit -qam "fix foo"

python3 "$check" "$r" base..HEAD~1 > "$tmp/out" 2>&1
rc=$?
ok exit_status_1_on_findings "$([ $rc = 1 ]; echo $?)"
ok statement_after_closing_brace "$(grep -qx 'add foo: a.c:33: statement-after-end: }	x++;' "$tmp/out"; echo $?)"
ok two_statements_on_one_line "$(grep -qx 'add foo: a.c:34: statement-after-end: x = 1; y = 2;' "$tmp/out"; echo $?)"
ok misindented_statement "$(grep -q '^add foo: a.c:38: indent (clang-format: column 16, here 10): x++;$' "$tmp/out"; echo $?)"
# Exactly those three: not kernel style, not the base's own defect (its line 22).
ok nothing_else_reported "$([ "$(wc -l < "$tmp/out")" = 3 ]; echo $?)"
python3 "$check" "$r" HEAD~1..HEAD > "$tmp/out" 2>&1
ok fixed_commit_passes "$(echo $?)"
[ $failed = 0 ]
