#!/bin/sh
# make bench-ab BEFORE=DIR: the engine before a change against after it, in
# one run on this machine, so that its load hits both alike: DIR/nst-bench
# (built from the old tree: make build/nst-bench there) and this build's,
# alternating ROUNDS (5) times at SIZE (640x360), FRAMES (5) frames each.
# Prints each round's median ms per frame and the ratio after / before of
# their medians; below 1 is faster. A change that must not slow the
# engine (a restructuring) should stay within the rounds' spread.
#
# Environment: NST_BUILD (build), BEFORE, ROUNDS, SIZE, FRAMES.
set -eu
B=${NST_BUILD:-build}
before=${BEFORE:?"give BEFORE=DIR, a build with the old nst-bench"}
rounds=${ROUNDS:-5} size=${SIZE:-640x360} frames=${FRAMES:-5}
model=$B/models/udnie.bin
[ -x "$before/nst-bench" ] || { echo "bench-ab.sh: no $before/nst-bench" >&2; exit 1; }
ms() { # nst-bench: the ms column of its one row
	"$1" "$model" "$size" -n "$frames" | awk -F'|' -v s="$size" '$2 ~ s { print $3 + 0 }'
}
out=$B/bench-ab.txt
: > "$out"
i=1
while [ "$i" -le "$rounds" ]; do
	a=$(ms "$before/nst-bench") b=$(ms "$B/nst-bench")
	echo "round $i: before $a ms, after $b ms" | tee -a "$out"
	i=$((i + 1))
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
a=$(awk '{ print $4 }' "$out" | median) b=$(awk '{ print $7 }' "$out" | median)
awk -v a="$a" -v b="$b" 'BEGIN { printf "median: before %.1f ms, after %.1f ms, after / before %.3f\n", a, b, b / a }' |
	tee -a "$out"
