#!/bin/sh
# Builds ffmpeg with the nst filter into build/ffmpeg (and build/ffprobe).
# Called by `make ffmpeg` once build/libnst.a and build/pkgconfig/nst.pc
# exist; reads build/config.mk, written by ./configure. NST_BUILD (relative
# to the top, or absolute) names another build directory, as make B= does.
#
# FFmpeg is configured out of tree in build/ffmpeg-build-<series>/, again only
# when its configure line changes, and linked statically against libnst.
#
#   tools/build-ffmpeg.sh --print-args PROFILE
#
# prints FFmpeg's configure arguments for PROFILE (full, lean, minimal), one
# a line, and builds nothing: tools/leak-check.sh builds its sanitized
# ffmpeg with the minimal profile's, whatever profile build/ffmpeg has.
set -eu
print=
if [ "${1:-}" = --print-args ]; then
	[ $# -eq 2 ] || { echo "usage: $0 [--print-args PROFILE]" >&2; exit 2; }
	print=$2
fi

top=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$top"
B=${NST_BUILD:-build}
case $B in /*) babs=$B ;; *) babs=$top/$B ;; esac
die() { printf 'build-ffmpeg.sh: %s\n' "$*" >&2; exit 1; }

[ -f $B/config.mk ] || die "$B/config.mk is missing: run ./configure first"
conf() { sed -n "s/^$1 *:= *//p" $B/config.mk; }
src=$(conf FFMPEG_SRC)
series=$(conf FFMPEG_SERIES)
profile=${print:-$(conf FFMPEG_PROFILE)}
x264=$(conf FFMPEG_LIBX264)
external=$(conf FFMPEG_EXTERNAL)
vulkan=$(conf FFMPEG_VULKAN)
vulkan_include=$(conf FFMPEG_VULKAN_INCLUDE)
cc=$(conf CC)
[ -n "$src" ] && [ -n "$series" ] || die "$B/config.mk is incomplete: re-run ./configure"
[ -f $B/libnst.a ] && [ -f $B/pkgconfig/nst.pc ] || die "build libnst first (make lib)"

# Two makes at once (make check here, make demo there) would build in the same
# directory: take turns.
if [ -z "$print" ] && command -v flock >/dev/null 2>&1; then
	exec 9>"$B/.build-ffmpeg.lock"
	flock 9
fi

# patches/ changed since ./configure applied them (a pull, an edit): let it
# bring the tree up to date with the options it was given.
stale=
[ -n "$print" ] ||
for p in patches/ffmpeg-"$series"/*.patch "$src"/.nst-patches/*.patch; do
	[ -f "$p" ] || continue
	cmp -s "patches/ffmpeg-$series/${p##*/}" "$src/.nst-patches/${p##*/}" || stale=1
done
if [ -n "$stale" ]; then
	echo "build-ffmpeg.sh: patches/ffmpeg-$series changed; re-running ./configure"
	eval "./configure $(conf CONFIGURE_ARGS)" >/dev/null || die "./configure failed"
fi

# The filter's sources live in filter/; the patch only registers them. Each
# is copied only when it differs, so that an unchanged file does not rebuild.
[ -n "$print" ] ||
for f in filter/*.c filter/*.h; do
	[ -f "$f" ] || continue
	cmp -s "$f" "$src/libavfilter/${f##*/}" || cp "$f" "$src/libavfilter/${f##*/}"
done

# ---- what goes in ---------------------------------------------------------
# full is FFmpeg's own default set of components, the libraries ./configure
# found (FFMPEG_EXTERNAL) and ffplay. The lean profiles start from
# --disable-everything and name their components, so that the binary does
# not depend on what happens to be installed. The tests and tools/demo.sh
# need what `minimal` has; the null muxer (-f null) takes its frames from
# the wrapped_avframe encoder.
MIN_DECODERS='h264 mjpeg msmpeg4v3 png rawvideo'
MIN_DEMUXERS='avi image2 mov rawvideo'
MIN_MUXERS='framecrc framemd5 image2 mp4 null rawvideo'
MIN_ENCODERS='mpeg4 png ppm rawvideo wrapped_avframe'
MIN_FILTERS='crop format hstack hwdownload hwupload null nst scale select sendcmd
	setpts setsar split trim'
MIN_PARSERS='h264'
PROTOCOLS='file pipe'

# There is no native software AV1 decoder (FFmpeg's "av1" decoder only drives
# hardware), so AV1 would need libdav1d: left out.
DEF_DECODERS='aac h263 h264 hevc mjpeg mp3 mp3float mpeg1video mpeg2video mpeg4
	msmpeg4v1 msmpeg4v2 msmpeg4v3 opus png rawvideo vorbis vp8 vp9 pcm_*'
DEF_DEMUXERS='aac avi h264 hevc image2 image2pipe matroska mov mp3 mpegts ogg
	rawvideo wav'
DEF_MUXERS='avi framecrc framemd5 image2 matroska mov mp4 mpegts null nut
	rawvideo wav webm'
DEF_ENCODERS='aac mjpeg mpeg4 pcm_s16le png ppm rawvideo wrapped_avframe'
DEF_FILTERS='aformat anull aresample asetpts atrim crop format fps hflip
	hstack hwdownload hwupload nst null overlay pad psnr scale scdet select sendcmd setpts
	setsar split tile transpose trim vflip vstack'
DEF_PARSERS='aac aac_latm h264 hevc mjpeg mpeg4video mpegaudio mpegvideo opus
	png vorbis vp8 vp9'
DEF_BSFS='aac_adtstoasc extract_extradata h264_mp4toannexb hevc_mp4toannexb
	vp9_superframe'

comma() { echo $* | tr ' ' ','; }
programs='ffmpeg ffprobe'
case $profile in
full)
	set --
	for lib in $external; do
		set -- "$@" --enable-$lib
		case $lib in libx264|libx265) gpl=1 ;; esac
	done
	[ -n "${gpl:-}" ] && set -- "$@" --enable-gpl
	case " $external " in *" sdl2 "*) programs="$programs ffplay" ;; esac
	;;
minimal)
	set -- --enable-decoder="$(comma $MIN_DECODERS)" \
	       --enable-demuxer="$(comma $MIN_DEMUXERS)" \
	       --enable-muxer="$(comma $MIN_MUXERS)" \
	       --enable-encoder="$(comma $MIN_ENCODERS)" \
	       --enable-filter="$(comma $MIN_FILTERS)" \
	       --enable-parser="$(comma $MIN_PARSERS)"
	;;
lean)
	set -f # pcm_* is FFmpeg's pattern, not the shell's
	set -- --enable-decoder="$(comma $DEF_DECODERS)" \
	       --enable-demuxer="$(comma $DEF_DEMUXERS)" \
	       --enable-muxer="$(comma $DEF_MUXERS)" \
	       --enable-encoder="$(comma $DEF_ENCODERS)" \
	       --enable-filter="$(comma $DEF_FILTERS)" \
	       --enable-parser="$(comma $DEF_PARSERS)" \
	       --enable-bsf="$(comma $DEF_BSFS)" \
	       --enable-indev=v4l2 --enable-outdev=v4l2
	set +f
	[ "$x264" = yes ] && set -- "$@" --enable-gpl --enable-libx264 --enable-encoder=libx264
	;;
*)
	die "unknown profile '$profile' in $B/config.mk"
	;;
esac
# Vulkan frames (hwupload to the Vulkan device ffmpeg opens, restyled there):
# FFmpeg's Vulkan needs newer headers than Debian 12 has, which ./configure
# unpacked for it (FFMPEG_VULKAN_INCLUDE); FFmpeg loads libvulkan itself.
if [ "$vulkan" = yes ]; then
	set -- "$@" --enable-vulkan
	[ -n "$vulkan_include" ] && set -- "$@" --extra-cflags="-I$vulkan_include"
else
	set -- "$@" --disable-vulkan
fi
# The lean profiles: --disable-autodetect keeps optional system libraries
# out; threads and zlib (for png) are asked for by name. full lets FFmpeg
# find what it finds by itself (zlib, bzip2, lzma, iconv, ALSA, xcb...), as
# a distribution's build does. libnst is a static library whose own
# dependencies (-lvulkan ...) nst.pc lists in Libs.
if [ "$profile" = full ]; then
	set -- --cc="$cc" --disable-doc --enable-libnst "$@"
else
	set -- --cc="$cc" --disable-autodetect \
	       --enable-pthreads --enable-zlib --disable-doc --disable-ffplay \
	       --disable-network --enable-libnst \
	       --disable-everything --enable-protocol="$(comma $PROTOCOLS)" "$@"
fi

if [ -n "$print" ]; then
	printf '%s\n' "$@"
	exit 0
fi

# ---- configure ----------------------------------------------------------------
bdir=$B/ffmpeg-build-$series
export PKG_CONFIG_PATH="$babs/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# What the configure run depends on: its line, the tree, and what pkg-config
# says about libnst (FFmpeg's configure records those flags).
stamp=$(printf '%s\n' "$src/configure" "$@"
	pkg-config --cflags --libs nst)
if [ "$(cat "$bdir/.nst-configure" 2>/dev/null)" != "$stamp" ]; then
	# Objects of another tree must not be reused: FFmpeg's dependency files
	# name the sources by path.
	if [ "$(sed -n 1p "$bdir/.nst-configure" 2>/dev/null)" != "$src/configure" ]; then
		rm -rf "$bdir"
	fi
	mkdir -p "$bdir"
	rm -f "$bdir/.nst-configure"
	echo "configuring FFmpeg $series ($profile) in $bdir"
	(cd "$bdir" && "$src/configure" "$@") >"$bdir/configure.log" 2>&1 || {
		tail -n 20 "$bdir/ffbuild/config.log" >&2
		die "FFmpeg's configure failed (log: $bdir/ffbuild/config.log)"
	}
	printf '%s\n' "$stamp" > "$bdir/.nst-configure"
fi

# ---- build --------------------------------------------------------------------
# FFmpeg's make does not track external libraries: relink when libnst is newer.
for p in $programs; do
	if [ -f "$bdir/${p}_g" ] && [ $B/libnst.a -nt "$bdir/${p}_g" ]; then
		rm -f "$bdir/${p}_g" "$bdir/$p"
	fi
done
jobs=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
# A make of its own: not a job slot of the make that called us.
# zmqsend, FFmpeg's own client for the zmq filter, where there is libzmq.
tools=
case " $external " in *" libzmq "*) tools=tools/zmqsend ;; esac
MAKEFLAGS= MFLAGS= make -C "$bdir" -j"$jobs" $programs $tools

if [ -n "$tools" ] && ! cmp -s "$bdir/tools/zmqsend" "$B/zmqsend"; then
	cp "$bdir/tools/zmqsend" "$B/zmqsend.tmp" && mv "$B/zmqsend.tmp" "$B/zmqsend"
fi
for p in $programs; do
	if ! cmp -s "$bdir/$p" "$B/$p"; then
		cp "$bdir/$p" "$B/$p.tmp" && mv "$B/$p.tmp" "$B/$p"
	fi
done
echo "built $(for p in $programs; do printf '%s ' "$B/$p"; done)(FFmpeg $(cat "$src/RELEASE" 2>/dev/null), $profile profile)"
