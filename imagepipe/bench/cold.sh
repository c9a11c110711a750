#!/usr/bin/env bash
# cold.sh — `tableround image prepare FILE` as a fresh process per run, against the
# original's compress_for_api (original.py, PIL) side by side, on the shared corpus
# plus two derived files (made here on first use, see below). Prints a Markdown table:
# best-of-N wall time (ms) and peak RSS (MB, the largest of the N runs).
#
#   imagepipe/bench/cold.sh [N]          (default N=5; needs python3-pil, libjpeg-turbo-progs,
#                                         libheif-examples; the repo root is the working dir)
#   COLD_FILES="a.jpg b.heic" WARM=0 imagepipe/bench/cold.sh 15
#                                        only those files (names as below), no warm table
#
# Derived files (in $BENCH_CACHE, default /tmp/imagepipe-bench):
#   photo-5184x3456-q100.jpg  18 MP baseline q100: djpeg -scale 11/8 -crop of the 12 MP
#                             phone JPEG, re-encoded by cjpeg -quality 100 (libjpeg-turbo)
#   phone-4032x3024.heic      12 MP HEIC: heif-enc -q 60 (libheif 1.15 + x265) of the phone
#                             JPEG. Encoder-made, not phone-made (no grid, no iPhone metadata).
#   phone-grid-4032x3024.heic the same picture laid out as an iPhone lays out its HEICs: an 8×6
#                             grid of 512×512 HEVC tiles (gridheic.py, tiles by heif-enc -q 60).
#                             Encoder-made too: no iPhone metadata.
#   bomb-100000x100000.png    a PNG whose header declares 10^10 pixels
# Runs hold flock /tmp/measure.lock (shared with other measurements); the load average is printed, as other work on the
# machine skews every figure.
set -euo pipefail
N=${1:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${IMAGEPIPE_CORPUS:-$ROOT/../../shared/corpus/images}
[ -d "$CORPUS" ] || CORPUS=/work/shared/corpus/images
CACHE=${BENCH_CACHE:-/tmp/imagepipe-bench}
mkdir -p "$CACHE"

# Built as shipped: the Dockerfile's fast-path build, and .ci/run's static pure-Go one.
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$CACHE/tableround-fast" ./cmd/tableround &&
	CGO_ENABLED=0 go build -tags nodynamic -trimpath -ldflags "-s -w" -o "$CACHE/tableround-pure" ./cmd/tableround)

phone=$CORPUS/phone-4032x3024.jpg
if [ ! -s "$CACHE/photo-5184x3456-q100.jpg" ]; then
	djpeg -scale 11/8 -crop 5184x3456+180+351 -ppm "$phone" >"$CACHE/big.ppm"
	cjpeg -quality 100 "$CACHE/big.ppm" >"$CACHE/photo-5184x3456-q100.jpg"
	rm -f "$CACHE/big.ppm"
fi
[ -s "$CACHE/phone-4032x3024.heic" ] || heif-enc -q 60 "$phone" -o "$CACHE/phone-4032x3024.heic" >/dev/null
[ -s "$CACHE/phone-grid-4032x3024.heic" ] ||
	/usr/bin/python3 "$ROOT/imagepipe/bench/gridheic.py" "$phone" "$CACHE/phone-grid-4032x3024.heic"
[ -s "$CACHE/bomb-100000x100000.png" ] || python3 - "$CACHE/bomb-100000x100000.png" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
idat = zlib.compress(b"\0" * (1 + 3 * 100000) * 4)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
PY

# run CMD...: one timed run; prints "ms rssKB".
run() {
	local t0 t1
	t0=$(date +%s%N)
	/usr/bin/time -f %M -o "$CACHE/rss" "$@" >/dev/null 2>&1 || true
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000)) $(tail -1 "$CACHE/rss")"
}

# best LABEL CMD...: best-of-N ms and max RSS, as "ms|MB".
best() {
	local ms=999999 rss=0 m r
	for _ in $(seq "$N"); do
		read -r m r < <(run "$@")
		((m < ms)) && ms=$m
		((r > rss)) && rss=$r
	done
	echo "$ms|$((rss / 1024))"
}

ratio() { python3 -c "print(f'{$1/$2:.1f}×')"; }

exec 9>/tmp/measure.lock
flock 9
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); N=$N; $(nproc) cores"
echo
echo "| file | original | fast path | × | pure Go | × | fast peak RSS | pure peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for f in "$phone" "$CORPUS/photo-3840x2400.jpg" "$CACHE/photo-5184x3456-q100.jpg" \
	"$CACHE/phone-grid-4032x3024.heic" "$CACHE/phone-4032x3024.heic" "$CORPUS/rotated-exif6.jpg" "$CORPUS/photo-2560x1600.png" \
	"$CACHE/bomb-100000x100000.png"; do
	name=$(basename "$f")
	if [ -n "${COLD_FILES:-}" ] && [[ " $COLD_FILES " != *" $name "* ]]; then
		continue
	fi
	IFS='|' read -r fm fr < <(best "$CACHE/tableround-fast" image prepare "$f" "$CACHE/out.jpg")
	IFS='|' read -r pm pr < <(best "$CACHE/tableround-pure" image prepare "$f" "$CACHE/out.jpg")
	case $name in
	*.heic)
		# The original cannot read HEIC; native libheif's own heif-convert is the yardstick.
		IFS='|' read -r om _ < <(best heif-convert "$f" "$CACHE/out-ref.jpg")
		echo "| $name | heif-convert $om ms | $fm ms | $(ratio "$om" "$fm") | $pm ms | $(ratio "$om" "$pm") | $fr MB | $pr MB |"
		;;
	*)
		IFS='|' read -r om _ < <(best /usr/bin/python3 "$ROOT/imagepipe/bench/original.py" "$f" "$CACHE/out-ref.jpg")
		echo "| $name | $om ms | $fm ms | $(ratio "$om" "$fm") | $pm ms | $(ratio "$om" "$pm") | $fr MB | $pr MB |"
		;;
	esac
done

if [ "${WARM:-1}" = 0 ]; then
	echo
	echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	exit 0
fi

# Warm: one process, the decoders loaded (and the WebAssembly HEIC compiled) before
# timing; the original's best of N in one Python process, ours ms/op of N iterations.
echo
echo "| warm, in process | original | fast path | × | pure Go | × |"
echo "|---|---:|---:|---:|---:|---:|"
extra="$CACHE/photo-5184x3456-q100.jpg:$CACHE/phone-grid-4032x3024.heic:$CACHE/phone-4032x3024.heic"
gobench() {
	(cd "$ROOT" && IMAGEPIPE_CORPUS=$CORPUS IMAGEPIPE_BENCH_EXTRA=$extra \
		go test "$@" -run '^$' -bench Prepare -benchtime "${N}x" ./imagepipe) |
		awk '/^BenchmarkPrepare\//{split($1, a, "/"); sub(/-[0-9]+$/, "", a[2]); for (i = 2; i < NF; i++) if ($(i+1) == "ms/op") print a[2], $i}'
}
gobench >"$CACHE/warm-fast"
CGO_ENABLED=0 gobench -tags nodynamic >"$CACHE/warm-pure"
/usr/bin/python3 "$ROOT/imagepipe/bench/original.py" --warm "$N" "$phone" "$CORPUS/photo-3840x2400.jpg" \
	"$CACHE/photo-5184x3456-q100.jpg" "$CORPUS/rotated-exif6.jpg" "$CORPUS/photo-2560x1600.png" >"$CACHE/warm-orig"
for name in phone-4032x3024.jpg photo-3840x2400.jpg photo-5184x3456-q100.jpg phone-grid-4032x3024.heic phone-4032x3024.heic \
	rotated-exif6.jpg photo-2560x1600.png; do
	o=$(awk -v n="$name" '$1 == n {print $2}' "$CACHE/warm-orig")
	f=$(awk -v n="$name" '$1 == n {printf "%.0f", $2}' "$CACHE/warm-fast")
	p=$(awk -v n="$name" '$1 == n {printf "%.0f", $2}' "$CACHE/warm-pure")
	if [ -z "$o" ]; then
		echo "| $name | cannot read it | $f ms | | $p ms | |"
	else
		echo "| $name | $o ms | $f ms | $(ratio "$o" "$f") | $p ms | $(ratio "$o" "$p") |"
	fi
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
