# Shared by the ffmpeg tests (sourced): reporting, and running ffmpeg with
# its log kept and its death by a signal told apart. Expects FF, T, PY and
# HERE to be set.

ok() { echo "ok - $*"; }
fail() { echo "not ok - $1: $2"; }

# ff NAME ARGS...: runs ffmpeg; stderr goes to $T/NAME.err, the exit status to
# $rc. A death by signal is written to the log (ffmpeg's own exit status can
# be anything up to 255, so a shell cannot tell a signal from it).
ff() {
	name=$1; shift
	"$PY" - "$FF" -hide_banner -nostdin -y -v warning "$@" <<-'EOF' 2>"$T/$name.err"
		import signal, subprocess, sys
		r = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL).returncode
		if r < 0:
		    print(f"killed by signal {-r} ({signal.Signals(-r).name})", file=sys.stderr)
		    sys.exit(255)
		sys.exit(r)
	EOF
	rc=$?
}
# trouble NAME: prints why the run NAME is suspect (a crash, a sanitizer or
# validation-layer message), nothing when it is clean.
trouble() {
	grep -m 1 -E 'killed by signal|Segmentation|AddressSanitizer|runtime error|Assertion|alidation' \
		"$T/$1.err"
}
# run NAME CHECK ARGS...: ff, then reports CHECK as failed (and returns 1)
# if ffmpeg failed or the run is suspect.
run() {
	name=$1 check=$2; shift 2
	ff "$name" "$@"
	why=$(trouble "$name")
	if [ -n "$why" ]; then
		fail "$check" "$why (log: $T/$name.err)"; return 1
	elif [ "$rc" -ne 0 ]; then
		fail "$check" "ffmpeg exited with $rc: $(grep -v '^ *$' "$T/$name.err" | tail -n 1) (log: $T/$name.err)"
		return 1
	fi
}
psnr() { "$PY" "$HERE/psnr.py" "$1" "$2" 2>&1; }
size() { wc -c < "$1" | tr -d ' '; }
