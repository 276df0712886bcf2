#!/bin/sh
# Leak check: ffmpeg with the nst filter, built with AddressSanitizer and
# linked against the sanitized libnst (build/libnst-san.a), runs 100 frames
# twice (the default path; pipeline=1 with temporal=0.5) under LeakSanitizer.
# Prints "ok - leak check (NAME): N frames, no leak" per run, or
# "not ok - leak check (NAME): why" with the sanitizer's summary; exits
# non-zero on a leak, any other sanitizer report, a failed ffmpeg, or a
# frame count other than 100.
#
#   tools/leak-check.sh            (make leakcheck)
#
# Needs `make ffmpeg` (the patched FFmpeg tree),
# build/libnst-san.a (make tests) and build/models/udnie.bin (make models).
#
# The FFmpeg is a second build of the same patched tree, in
# build/ffmpeg-build-<series>-asan/, configured with the minimal profile's
# arguments (tools/build-ffmpeg.sh --print-args minimal) plus
# --toolchain=gcc-asan, against build/pkgconfig-san/nst.pc
# (libnst-san.a, the UBSan runtime, lavapipe kept loaded); it becomes
# build/ffmpeg-asan. As in build-ffmpeg.sh, configure runs again only when
# its line changes, and make rebuilds only what changed. The filter's
# sources (filter/*.c, *.h) are compiled from copies in the build dir, so
# the source tree (shared with build/ffmpeg) is never written.
#
# Environment: NST_SHARED (../shared), JOBS (nproc), ASAN_OPTIONS,
# LSAN_OPTIONS, UBSAN_OPTIONS (added to the ones set here).
set -eu

case ${NST_SHARED:-} in
'') S=../shared ;; # relative to the top, as in the Makefile
/*) S=$NST_SHARED ;;
*)  S=$(pwd -P)/$NST_SHARED ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top"
B=build
FRAMES=100
die() { printf 'not ok - leak check: %s\n' "$*"; exit 1; }

[ -f $B/config.mk ] || die "$B/config.mk is missing: run ./configure first"
conf() { sed -n "s/^$1 *:= *//p" $B/config.mk; }
src=$(conf FFMPEG_SRC)
series=$(conf FFMPEG_SERIES)
[ -n "$src" ] && [ -n "$series" ] || die "$B/config.mk is incomplete: re-run ./configure"
bdir=$B/ffmpeg-build-$series-asan
model=$B/models/udnie.bin
clip=$S/media/clips/vtest.avi
T=$B/leak-check

for f in $B/libnst-san.a $B/include/nst.h $B/pkgconfig/nst.pc "$src/configure" "$model" "$clip"; do
	[ -f "$f" ] || die "$f is missing (make tests ffmpeg models; NST_SHARED=$S)"
done

# One leak check at a time (they share the build dir).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$B/.leak-check.lock"
	flock 9
fi

# ---- pkg-config: libnst-san.a instead of libnst.a ------------------------------
# From the plain nst.pc (the Makefile's NST_LIBS stay in one place): the
# archive as -l:libnst-san.a (configure's test link puts only -l* and *.so
# after the object, a path to the .a would come before it);
# -fsanitize=address,undefined for the runtimes its objects call; and the
# Makefile's SAN_LINK: lavapipe linked in (--no-as-needed), so
# that the loader's dlclose at vkDestroyInstance does not unload the driver
# before LeakSanitizer looks at its memory (it would show up as leaks of an
# "<unknown module>" that no suppression can name).
lvp=
for f in /usr/lib/*/libvulkan_lvp.so; do
	[ -f "$f" ] && { lvp=$f; break; }
done
keep=${lvp:+ -Wl,--no-as-needed $lvp -Wl,--as-needed}
grep -q '^Libs: -L${libdir} -lnst ' $B/pkgconfig/nst.pc ||
	die "$B/pkgconfig/nst.pc: no 'Libs: -L\${libdir} -lnst ...' line to replace"
mkdir -p $B/pkgconfig-san
sed -e 's|^Description: .*|& (ASan+UBSan, tools/leak-check.sh)|' \
    -e "s|^Libs: -L\${libdir} -lnst \(.*\)|Libs: -L\${libdir} -l:libnst-san.a \\1 -fsanitize=address,undefined$keep|" \
    $B/pkgconfig/nst.pc >$B/pkgconfig-san/nst.pc.tmp
if cmp -s $B/pkgconfig-san/nst.pc.tmp $B/pkgconfig-san/nst.pc; then
	rm -f $B/pkgconfig-san/nst.pc.tmp
else
	mv $B/pkgconfig-san/nst.pc.tmp $B/pkgconfig-san/nst.pc
fi
export PKG_CONFIG_PATH="$top/$B/pkgconfig-san${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

# ---- configure: the minimal profile's line, plus ASan -------------------------
# build-ffmpeg.sh says what the line is, one argument a line: a run needs
# little of FFmpeg (AVI, MS-MPEG4, scale, null), and the full profile's
# build would take three times as long under ASan.
set --
nl='
'
IFS_=$IFS IFS=$nl
set -f # pcm_* is FFmpeg's pattern, not the shell's
for a in $(tools/build-ffmpeg.sh --print-args minimal); do
	set -- "$@" "$a"
done
set +f
IFS=$IFS_
[ $# -gt 0 ] || die "tools/build-ffmpeg.sh --print-args minimal printed nothing"
# gcc-asan: -fsanitize=address in CFLAGS and LDFLAGS (--cc, from the
# line, still names the compiler). configure adds -fomit-frame-pointer after
# any --extra-cflags, so -fno-omit-frame-pointer (whole stacks for the fast
# unwinder) comes through ECFLAGS, which FFmpeg's make appends last.
set -- "$@" --toolchain=gcc-asan
ecflags=-fno-omit-frame-pointer

stamp=$(printf '%s\n' "$src/configure" "$@" "ECFLAGS=$ecflags"
	pkg-config --static --cflags --libs nst)
if [ "$(cat "$bdir/.nst-configure" 2>/dev/null)" != "$stamp" ]; then
	# Objects of another tree must not be reused (FFmpeg's dependency files
	# name the sources by path), nor objects of other ECFLAGS (make does not
	# see them); the rest configure's config.h and config.mak tell make.
	old=$(cat "$bdir/.nst-configure" 2>/dev/null || :)
	if [ "$(echo "$old" | sed -n 1p)" != "$src/configure" ] ||
	   [ "$(echo "$old" | grep '^ECFLAGS=')" != "ECFLAGS=$ecflags" ]; then
		rm -rf "$bdir"
	fi
	mkdir -p "$bdir"
	rm -f "$bdir/.nst-configure"
	echo "configuring FFmpeg $series with ASan in $bdir"
	(cd "$bdir" && "$src/configure" "$@") >"$bdir/configure.log" 2>&1 || {
		tail -n 20 "$bdir/ffbuild/config.log" >&2
		die "FFmpeg's configure failed (log: $bdir/ffbuild/config.log)"
	}
	printf '%s\n' "$stamp" >"$bdir/.nst-configure"
fi

# ---- build -----------------------------------------------------------------
# The filter as it is in filter/ now, compiled from copies here: make takes
# libavfilter/vf_nst*.c from the build dir before its vpath (the source tree,
# whose copies are build-ffmpeg.sh's), and they include the vf_nst.h beside
# them, also a copy. Their "avfilter.h" and the like are the tree's:
# -iquote, for those objects alone.
mkdir -p "$bdir/libavfilter"
objs=
for f in filter/*.c filter/*.h; do
	[ -f "$f" ] || continue
	n=${f##*/}
	cmp -s "$f" "$bdir/libavfilter/$n" || cp "$f" "$bdir/libavfilter/$n"
	case $n in *.c) objs="$objs libavfilter/${n%.c}.o" ;; esac
done
{
	echo "# written by tools/leak-check.sh: libavfilter/vf_nst*.[ch] here are"
	echo "# copies of filter/'s; the headers they name are the source tree's."
	echo "${objs# }: CPPFLAGS += -iquote \$(SRC_PATH)/libavfilter"
} >"$bdir/nst-asan.mk.tmp"
mv "$bdir/nst-asan.mk.tmp" "$bdir/nst-asan.mk"
# FFmpeg's make does not track external libraries: relink when libnst-san.a
# (or the .pc, which says how it links) is newer.
if [ -f "$bdir/ffmpeg_g" ] && { [ $B/libnst-san.a -nt "$bdir/ffmpeg_g" ] ||
	[ $B/pkgconfig-san/nst.pc -nt "$bdir/ffmpeg_g" ]; }; then
	rm -f "$bdir/ffmpeg_g" "$bdir/ffmpeg"
fi
jobs=${JOBS:-$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
MAKEFLAGS= MFLAGS= make -C "$bdir" -f Makefile -f nst-asan.mk -j"$jobs" \
	ECFLAGS="$ecflags" ffmpeg_g >"$bdir/make.log" 2>&1 || {
	tail -n 30 "$bdir/make.log" >&2
	die "building $bdir/ffmpeg_g failed (log: $bdir/make.log)"
}
# ffmpeg_g: the unstripped one, for symbolized stacks.
if ! cmp -s "$bdir/ffmpeg_g" $B/ffmpeg-asan; then
	cp "$bdir/ffmpeg_g" $B/ffmpeg-asan.tmp && mv $B/ffmpeg-asan.tmp $B/ffmpeg-asan
fi
# Without the runtime there would be no report to find: make sure it is in.
if command -v nm >/dev/null 2>&1; then
	nm $B/ffmpeg-asan | grep -q ' __asan_init' || die "$B/ffmpeg-asan has no ASan runtime"
	nm $B/ffmpeg-asan | grep -q ' nst_engine_' || die "$B/ffmpeg-asan has no libnst"
fi

# ---- the runs ------------------------------------------------------------------
# detect_leaks: LeakSanitizer at exit (a leak: exit status 1); the first
# other error ends the run. tests/lsan.supp names the driver's leaks alone.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
unset NST_VALIDATION # the validation layer's own allocations are not ours
mkdir -p "$T"
failed=0
check() { # name, nst options
	name=$1 opts=$2
	log=$T/$(echo "$name" | tr -c 'A-Za-z0-9.\n' '_').log
	rc=0
	$B/ffmpeg-asan -nostdin -i "$clip" -frames:v $FRAMES \
		-vf "scale=64:48,nst=$model$opts" -f null - >"$log" 2>&1 || rc=$?
	# the last progress line: "frame=  100 fps=..." (\r-separated)
	n=$(tr '\r' '\n' <"$log" | sed -n 's/^frame= *\([0-9][0-9]*\) .*/\1/p' | tail -n 1)
	why=
	if grep -q 'ERROR: LeakSanitizer' "$log"; then
		why="leak"
	elif grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'Sanitizer:DEADLYSIGNAL' "$log"; then
		why="sanitizer report"
	elif [ "$rc" -ne 0 ]; then
		why="ffmpeg exited with status $rc"
	elif [ "${n:-0}" -ne $FRAMES ]; then
		why="ffmpeg reported ${n:-no} frames, expected $FRAMES"
	fi
	if [ -z "$why" ]; then
		echo "ok - leak check ($name): $n frames, no leak"
		return
	fi
	failed=1
	echo "not ok - leak check ($name): $why (${n:-no} frames, exit status $rc; log: $log)"
	if grep -q 'SUMMARY: ' "$log"; then
		# the summary, then the first report and its stack, for a start
		grep 'SUMMARY: ' "$log" | sed 's/^/    /'
		awk '/^(Direct|Indirect) leak|ERROR: AddressSanitizer|runtime error:/ { on = 1 }
		     on && /^ *$/ { exit } on' "$log" | head -n 25 | sed 's/^/    /'
	else
		tail -n 15 "$log" | sed 's/^/    /'
	fi
}
check default ''
check 'pipeline=1 temporal=0.5' ':pipeline=1:temporal=0.5'
exit $failed
