#!/bin/sh
# make check-ffmpeg-all: the filter's tests through ffmpeg (tests/test_ffmpeg.sh,
# test_faults.sh, test_hwframes.sh and test_realtime.sh) against every FFmpeg
# series patches/ holds, or against those named: tools/check-ffmpeg-all.sh
# [SERIES...]. Vulkan frames are 7.1's and later's: 5.1 runs no such check.
#
# Each series is configured and built in a build directory of its own,
# build/series-<S>/ (./configure --build-dir, make B=): FFmpeg's source and
# build, libnst, the models, ffmpeg and ffprobe. build/ and its ffmpeg are
# left as they are, and a second run rebuilds only what changed.
#
# Prints, per series, each check's "ok" / "not ok" line and "N passed, N
# failed" (tests/run.sh; a series that does not build counts one failure),
# then which series passed. Logs: build/series-<S>/build.log and check/.
#
# Environment: NST_SHARED, PYTHON (as for make check), MAKE.
set -u
top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top" || exit 1
MAKE=${MAKE:-make}

if [ $# -eq 0 ]; then
	for p in patches/ffmpeg-*/; do
		p=${p%/}
		set -- "$@" "${p#patches/ffmpeg-}"
	done
fi

passed= failed=
for s; do
	d=build/series-$s
	echo "==== FFmpeg $s in $d"
	mkdir -p "$d" || exit 1
	t0=$(date +%s)
	# The tests need the lean profile's formats (Matroska, MP4); the lean
	# profile keeps the three series' builds quick.
	if ! { ./configure --ffmpeg-series="$s" --build-dir="$d" --profile=lean &&
	       $MAKE B="$d" all models; } >"$d/build.log" 2>&1; then
		tail -n 15 "$d/build.log" | sed 's/^/    /'
		echo "not ok - build: FFmpeg $s (log: $d/build.log)"
		echo "0 passed, 1 failed"
		failed="$failed $s"
		continue
	fi
	t1=$(date +%s)
	echo "# $("$d/ffmpeg" -hide_banner -version | head -n 1), built in $((t1 - t0)) s"
	if NST_BUILD=$d tests/run.sh test_ffmpeg test_faults test_hwframes test_realtime; then
		passed="$passed $s"
	else
		failed="$failed $s"
	fi
	echo "# FFmpeg $s tested in $(($(date +%s) - t1)) s"
done
echo "==== series passed:${passed:- none}; failed:${failed:- none}"
[ -z "$failed" ]
