#!/bin/sh
# The README's recipes: every block fenced as ```sh recipe, run as written
# against the built ffmpeg (and ffplay, zmqsend beside it), in a scratch
# directory where in.mp4, bt2020.mkv and hdr.mkv are short clips made here,
# build/ is the build and ../shared the shared data. A recipe passes when it
# exits with status 0 within its time and every video or image file it
# wrote can be read back by ffprobe with a frame in it. Prints
# "ok - recipe N (line L): ..." / "not ok - ...".
#
# What cannot run here is replaced, and the check says so: a camera
# (-f v4l2 ... -i /dev/videoN) by the clip read at its own rate (-re -i
# in.mp4), a v4l2loopback output (-f v4l2 /dev/videoN) by -f null -, the
# modprobe that makes one by nothing (no module can be loaded here), and
# ffplay's window by -nodisp -autoexit.
#
# Environment: NST_BUILD (build), NST_SHARED (../shared), RECIPE_TIMEOUT
# (seconds a recipe may take, 900).

HERE=$(dirname "$0")
top=$(cd "$HERE/.." && pwd -P)
B=${NST_BUILD:-build}
S=${NST_SHARED:-../shared}
case $B in /*) babs=$B ;; *) babs=$top/$B ;; esac
case $S in /*) sabs=$S ;; *) sabs=$top/$S ;; esac
T=$babs/check/recipes
W=$T/work
FF=$babs/ffmpeg
PROBE=$babs/ffprobe
CLIP=$sabs/media/clips/vtest.avi
LIMIT=${RECIPE_TIMEOUT:-900}

ok() { echo "ok - $*"; }
fail() { echo "not ok - $1: $2"; }

for f in "$FF" "$PROBE" "$CLIP" "$top/README.md" "$babs/models/udnie.bin"; do
	[ -f "$f" ] || { fail setup "$f is missing (make all models; NST_SHARED=$S)"; exit 1; }
done
# The recipes are written for the full profile (./configure's default);
# the lean ones lack most of what they use.
profile=$(sed -n 's/^FFMPEG_PROFILE *:= *//p' "$babs/config.mk" 2>/dev/null)
if [ "$profile" != full ]; then
	echo "# ffmpeg built with the $profile profile: the README's recipes need the full one, not run"
	exit 0
fi
rm -rf "$T" && mkdir -p "$W/samples" "$T/logs" || exit 1
ln -s "$babs" "$W/build"
ln -s "$sabs" "$T/shared" # ../shared from the work directory
ln -s "$babs/models/udnie.bin" "$W/udnie.bin"

# ---- the inputs ------------------------------------------------------------------
# Two seconds of the real clip at 256x192, with a tone as its sound; a 10-bit
# BT.2020 clip and a PQ HDR one, a second each.
venc=mpeg4
"$FF" -hide_banner -encoders 2>/dev/null | grep -q ' libx264 ' && venc=libx264
if ! "$FF" -nostdin -v error -i "$CLIP" -f lavfi -i sine=frequency=440:sample_rate=48000 \
	-t 2 -vf scale=256:192,fps=25 -c:v $venc -c:a aac -shortest "$W/in.mp4" 2>"$T/logs/inputs.log" ||
   ! "$FF" -nostdin -v error -f lavfi -i testsrc2=s=256x144:r=25:d=1 \
	-vf format=yuv420p10le,setparams=color_primaries=bt2020:color_trc=bt2020-10:colorspace=bt2020nc:range=tv \
	-c:v ffv1 "$W/bt2020.mkv" 2>>"$T/logs/inputs.log" ||
   ! "$FF" -nostdin -v error -f lavfi -i testsrc2=s=256x144:r=25:d=1 \
	-vf format=yuv420p10le,setparams=color_primaries=bt2020:color_trc=smpte2084:colorspace=bt2020nc:range=tv \
	-c:v ffv1 "$W/hdr.mkv" 2>>"$T/logs/inputs.log"; then
	fail setup "making the input clips failed: $(tail -n 3 "$T/logs/inputs.log")"
	exit 1
fi
touch "$T/stamp"

# ---- the recipes ------------------------------------------------------------------
# recipe-N.sh, each with its README line as recipe-N.line
awk -v dir="$T" '
	/^```sh recipe[ \t]*$/ { n++; f = dir "/recipe-" n ".sh"; print NR + 1 > (dir "/recipe-" n ".line"); on = 1; next }
	on && /^```/ { on = 0; close(f); next }
	on { print > f }
' "$top/README.md"
n=$(ls "$T"/recipe-*.sh 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { fail recipes "no \`\`\`sh recipe block in README.md"; exit 1; }

# What stands in for what cannot run here; each substitution is named in
# the check's line.
adapt() { # recipe.sh -> the command run, on stdout; the notes in $T/notes
	: >"$T/notes"
	grep -q -- '-i /dev/video' "$1" && echo "a camera read as in.mp4 at its rate" >>"$T/notes"
	grep -q -- '-f v4l2 /dev/video' "$1" && echo "v4l2loopback output to -f null -" >>"$T/notes"
	grep -q 'modprobe' "$1" && echo "no modprobe (no module loading here)" >>"$T/notes"
	grep -q 'ffplay' "$1" && echo "ffplay without a window" >>"$T/notes"
	sed -e 's#-f v4l2 [^|]*-i /dev/video[0-9]*#-re -i in.mp4#' \
	    -e 's#-f v4l2 /dev/video[0-9]*#-f null -#' \
	    -e 's#^\(sudo \)*modprobe .*#: modprobe left out#' \
	    -e 's#\./build/ffplay #./build/ffplay -nodisp -autoexit -loglevel error #' \
	    -e 's#^ffmpeg #./build/ffmpeg #' \
	    "$1"
}

# Each file a recipe wrote that holds pictures: ffprobe finds a frame in it.
outputs_readable() { # -> 0, or 1 with the reason on stdout
	find "$W" -newer "$T/stamp" -type f | while read -r f; do
		case $f in
		*.mp4|*.mkv|*.mov|*.webm|*.nut|*.avi|*.jpg|*.png) ;;
		*) continue ;;
		esac
		frames=$("$PROBE" -v error -count_frames -select_streams v:0 \
			-show_entries stream=nb_read_frames -of csv=p=0 "$f" 2>/dev/null | head -n 1)
		if [ -z "$frames" ] || [ "$frames" -lt 1 ] 2>/dev/null; then
			echo "${f#$W/}: no frame ffprobe can read"
			return 1
		fi
	done
}

export SDL_AUDIODRIVER=dummy
have_timeout=; command -v timeout >/dev/null 2>&1 && have_timeout=1
i=1
while [ $i -le "$n" ]; do
	r=$T/recipe-$i.sh
	line=$(cat "$T/recipe-$i.line")
	name="recipe $i (README line $line)"
	adapt "$r" >"$T/run-$i.sh"
	log=$T/logs/recipe-$i.log
	touch "$T/stamp"
	rc=0
	if [ -n "$have_timeout" ]; then
		(cd "$W" && timeout -k 10 "$LIMIT" sh -e "$T/run-$i.sh") >"$log" 2>&1 || rc=$?
	else
		(cd "$W" && sh -e "$T/run-$i.sh") >"$log" 2>&1 || rc=$?
	fi
	notes=$(paste -sd ';' "$T/notes" | sed 's/;/; /g')
	first=$(head -n 1 "$r" | cut -c 1-60)
	# which decoder ran: ffmpeg says so only when asked to be verbose
	if grep -q -- '-hwaccel vulkan' "$r"; then
		if (cd "$W" && "$FF" -nostdin -v verbose -hwaccel vulkan -i in.mp4 -frames:v 1 -f null -) 2>&1 |
			grep -q 'Failed setup for format vulkan'; then
			how="the device has no Vulkan video decoding: decoded in software"
		else
			how="decoded by Vulkan video"
		fi
		notes="${notes:+$notes; }$how"
	fi
	why=
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="did not finish in $LIMIT s"
	elif [ "$rc" -ne 0 ]; then
		why="exit status $rc: $(grep -v '^ *$' "$log" | tail -n 2 | tr '\n' ' ')"
	elif grep -q zmqsend "$r" && ! tr '\r' '\n' <"$log" | grep -q '^0 Success'; then
		why="zmqsend got no '0 Success' reply: $(tail -n 2 "$log" | tr '\n' ' ')"
	else
		why=$(outputs_readable)
	fi
	if [ -z "$why" ]; then
		ok "$name: $first${notes:+ [$notes]}"
	else
		fail "$name" "$why (log: $log)"
	fi
	i=$((i + 1))
done
