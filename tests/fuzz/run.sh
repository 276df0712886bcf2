#!/bin/sh
# Runs libFuzzer harnesses (built by `make fuzzers` into $NST_BUILD/fuzz)
# for FUZZ_SECONDS in all, split between them: fuzz_model, the style.bin
# reader, gets two shares, every other harness one. Each starts from its
# seed corpus, tests/fuzz/corpus/<name>/, which it replays first, and
# writes what it finds to $NST_BUILD/fuzz/corpus-<name>/ (kept between
# runs, never committed by itself: copy an input worth keeping into the
# seed corpus).
#
#   tests/fuzz/run.sh model frame
#
# Prints a line per harness (executions, executions per second, corpus
# size) and exits non-zero when any harness failed: a crash, a sanitizer
# report, a leak, an input slower than FUZZ_TIMEOUT seconds or one that
# made the process use more than FUZZ_RSS_MB. libFuzzer leaves the input
# in $NST_BUILD/fuzz/artifacts/ and its log in $NST_BUILD/fuzz/<name>.log.
B=${NST_BUILD:-build}
total=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
here=$(dirname "$0")

[ $# -gt 0 ] || { echo "usage: $0 HARNESS..." >&2; exit 2; }
shares=0
for h; do
	case $h in model) shares=$((shares + 2)) ;; *) shares=$((shares + 1)) ;; esac
done

mkdir -p "$B/fuzz/artifacts"
fail=0
for h; do
	bin=$B/fuzz/fuzz_$h
	seeds=$here/corpus/$h
	work=$B/fuzz/corpus-$h
	log=$B/fuzz/$h.log
	case $h in model) share=2 ;; *) share=1 ;; esac
	secs=$((total * share / shares))
	[ "$secs" -ge 1 ] || secs=1
	# Inputs up to 256 KiB: room for models with every op and real
	# shapes, small enough that the reader's allocation limit (4x the
	# input) stays far below the malloc limit, which only backs it up.
	set -- -max_total_time="$secs" -timeout="$timeout" -rss_limit_mb="$rss" \
		-malloc_limit_mb=256 -max_len=262144 -print_final_stats=1 \
		-artifact_prefix="$B/fuzz/artifacts/$h-"
	[ -f "$here/$h.dict" ] && set -- "$@" -dict="$here/$h.dict"
	[ -x "$bin" ] || { echo "fuzz $h: $bin is missing (make fuzzers)"; fail=1; continue; }
	mkdir -p "$work"
	echo "fuzz $h: $secs s, seeds $seeds ($(ls "$seeds" 2>/dev/null | wc -l) files)"
	"$bin" "$@" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	new=$(sed -n 's/^stat::new_units_added: *//p' "$log")
	corp=$(grep -o 'corp: [0-9]*/[0-9]*[bKM]*' "$log" | tail -n 1 | sed 's/corp: //')
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
	echo "fuzz $h: ${runs:-?} executions in $secs s (${rate:-?}/s), coverage ${cov:-?}," \
		"corpus ${corp:-?} (files/bytes), ${new:-0} new, exit $rc"
	if [ "$rc" -ne 0 ]; then
		fail=1
		echo "fuzz $h: FAILED (log: $log; inputs: $B/fuzz/artifacts/$h-*)"
		grep -E 'ERROR|fuzz_[a-z]+:|SUMMARY|runtime error|Test unit written' "$log" |
			head -n 20 | sed 's/^/    /'
	fi
done
exit "$fail"
