#!/bin/sh
# libnst's folders are its layers: each includes only those below it, no
# include cycle, no file over 700 lines, filter/ sees nst.h alone and
# libnst.a holds no object of the C reference (tests/layers.py says how).
#
# Environment: NST_BUILD (build), PYTHON (python3).
exec "${PYTHON:-python3}" "$(dirname "$0")/layers.py"
