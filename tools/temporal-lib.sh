# Shared by tools/temporal-baseline.sh and tools/temporal-sweep.sh (sourced):
# stylizing one prepared clip and timing it. Needs FF, B, NICE and die().

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# stylize INPUT STYLE OPTIONS BASE: INPUT through nst=$B/models/STYLE.bin
# with OPTIONS (nst's, ':'-separated), lossless, to BASE.mp4 (written under
# a temporary name, renamed when complete) and its wall-clock seconds to
# BASE.seconds. The network runs at nice $NICE: the machine is shared.
stylize() {
	t0=$(now_ms)
	nice -n "$NICE" "$FF" -hide_banner -nostdin -v error -y -i "$1" \
		-vf "nst=$B/models/$2.bin:$3" -c:v png "$4.tmp.mp4" ||
		die "$4: ffmpeg failed"
	t1=$(now_ms)
	echo "$t0 $t1" | awk '{ printf "%.1f\n", ($2 - $1) / 1000 }' > "$4.seconds"
	mv "$4.tmp.mp4" "$4.mp4"
}
