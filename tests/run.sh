#!/bin/sh
# Runs every test and adds up their "ok" / "not ok" lines. A test program
# that dies (crash, sanitizer report, non-zero exit without a failed check)
# counts as one more failure. Last line: "N passed, N failed".
# With arguments, only the tests whose names hold one of them run
# (tests/run.sh test_ffmpeg test_faults).
#
# Environment: NST_SHARED (../shared), NST_BUILD (build).
B=${NST_BUILD:-build}
export NST_SHARED=${NST_SHARED:-../shared} NST_BUILD=$B
export NST_VALIDATION=${NST_VALIDATION:-1}
# The sanitizer runtimes: fail on the first report; leaks of the Vulkan
# driver and its JIT are not ours (tests/lsan.supp says which).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$B/check
mkdir -p "$log"
pass=0 fail=0
run() { # name, command...
	name=$1; shift
	out=$log/$name.log
	"$@" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	grep -E '^(ok|not ok) - ' "$out" | sed "s|^|$name: |"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: exited with status $rc (log: $out)"
		tail -n 20 "$out" | sed 's/^/    /'
		f=$((f + 1))
	elif [ "$f" -ne 0 ]; then
		echo "    (log: $out)"
	fi
	pass=$((pass + p)); fail=$((fail + f))
}
only=$*
wanted() { # name
	[ -z "$only" ] && return 0
	for o in $only; do
		case $1 in *$o*) return 0 ;; esac
	done
	return 1
}
for t in "$B"/tests/test_* "$B"/tests-san/test_*; do
	[ -x "$t" ] || continue
	case $t in *tests-san/*) n=san-$(basename "$t") ;; *) n=$(basename "$t") ;; esac
	wanted "$n" || continue
	run "$n" "$t"
done
for t in tests/test_*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	wanted "$n" || continue
	run "$n" sh "$t"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
