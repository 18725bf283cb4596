#!/usr/bin/env bash
# compare.sh measures kura's vector indexes against hnswlib and FAISS on the
# same vectors in the same run, and prints the ratios the targets of issue 5
# are stated in.
#
#   bench/compare.sh [OUTDIR] [N] [DIM] [NQ] [BUILD_THREADS]
#   (defaults: /tmp/kura-ann 50000 1024 500 2 — the targets' dataset)
#
# 1. installs Debian's python3-numpy python3-hnswlib python3-faiss if the
#    system python3 cannot import them (needs root and apt);
# 2. runs ../shared/bench/ann_anchor.py, which writes base.fvecs,
#    query.fvecs and groundtruth.ivecs into OUTDIR and measures hnswlib HNSW
#    (M=16, efConstruction=200) and FAISS IVF_FLAT (nlist=128) and
#    IndexFlatIP, single-threaded search;
# 3. runs go run ./bench/ann on the same files: hnsw, hnsw -sq8, ivf_flat,
#    flat, single-threaded search, builds on BUILD_THREADS goroutines;
# 4. prints every JSON line and the kura/hnswlib and kura/FAISS ratios.
#
# Run it on a quiet machine: the 1-minute load average is printed with the
# results, and figures taken under load compare nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/kura-ann}
N=${2:-50000}
DIM=${3:-1024}
NQ=${4:-500}
BT=${5:-2}
PY=/usr/bin/python3 # Debian's python, which sees the Debian packages
ANCHOR=../shared/bench/ann_anchor.py

if ! $PY -c 'import numpy, hnswlib, faiss' 2>/dev/null; then
	echo "compare.sh: installing python3-numpy python3-hnswlib python3-faiss" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy python3-hnswlib python3-faiss >&2
fi
mkdir -p "$OUT"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
$PY "$ANCHOR" "$OUT" "$N" "$DIM" "$NQ" "$BT" | tee "$OUT/anchor.json"

go build -o "$OUT/kura-ann" ./bench/ann
ANN=("$OUT/kura-ann" -base "$OUT/base.fvecs" -query "$OUT/query.fvecs" -gt "$OUT/groundtruth.ivecs" -threads 1 -build-threads "$BT")
"${ANN[@]}" -index hnsw -m 16 -efc 200 -ef 16,32,64,128,256 | tee "$OUT/kura-hnsw.jsonl"
"${ANN[@]}" -index hnsw -m 16 -efc 200 -ef 16,32,64,128,256 -sq8 | tee "$OUT/kura-hnsw-sq8.jsonl"
"${ANN[@]}" -index ivf_flat -nlist 128 -nprobe 1,4,8,16,32 | tee "$OUT/kura-ivf.jsonl"
"${ANN[@]}" -index flat | tee "$OUT/kura-flat.jsonl"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

$PY - "$OUT" <<'PYEOF'
import json, sys
out = sys.argv[1]
a = json.load(open(f"{out}/anchor.json"))
def lines(name):
    return [json.loads(l) for l in open(f"{out}/{name}") if l.startswith("{")]
h, hs, iv, fl = lines("kura-hnsw.jsonl"), lines("kura-hnsw-sq8.jsonl"), lines("kura-ivf.jsonl"), lines("kura-flat.jsonl")
def first(rows, key, rec=0.95):
    for r in rows:
        if r["recall@10"] >= rec:
            return r
    return None
print("\n== ratios (kura / reference; QPS single-threaded) ==")
kh, lh = first(h, "ef"), first(a["hnswlib"], "ef")
if kh and lh:
    print(f"HNSW first ef with recall@10>=0.95: kura ef={kh['params']['ef']} {kh['qps']} qps, hnswlib ef={lh['ef']} {lh['qps_1thread']} qps -> QPS ratio {kh['qps']/lh['qps_1thread']:.2f} (target >= 0.8)")
else:
    print(f"HNSW: recall@10 0.95 not reached by {'kura' if not kh else 'hnswlib'}")
print(f"HNSW build on {h[0]['gomaxprocs']} procs: kura {h[0]['build_s']} s, hnswlib {a['hnswlib_build_s']} s -> ratio {h[0]['build_s']/a['hnswlib_build_s']:.2f} (target <= 1.5)")
print(f"HNSW index+vectors memory: {h[0]['index_bytes']/h[0]['raw_bytes']:.3f} x raw float32 (target <= 1.3)")
ks = first(hs, "ef")
print(f"HNSW+SQ8: first ef with recall@10>=0.95: {ks['params']['ef'] if ks else 'none'} ({ks['recall@10'] if ks else max(r['recall@10'] for r in hs)}), {ks['qps'] if ks else '-'} qps; index memory {hs[0]['index_bytes']/hs[0]['raw_bytes']:.3f} x raw (target <= 0.4); anonymous RSS {hs[-1]['rss_anon_bytes']/hs[-1]['raw_bytes']:.3f} x raw")
fa = {r["nprobe"]: r for r in a["faiss_ivf_flat"]}
for r in iv:
    f = fa.get(r["params"]["nprobe"])
    if f:
        print(f"IVF_FLAT nprobe={r['params']['nprobe']}: recall kura {r['recall@10']} FAISS {f['recall@10']} (diff {r['recall@10']-f['recall@10']:+.4f}, target within 0.01); QPS ratio {r['qps']/f['qps_1thread']:.2f} (target >= 0.8)")
print(f"FLAT: kura {fl[0]['qps']} qps, FAISS IndexFlatIP {a['faiss_flat_qps_1thread']} qps -> ratio {fl[0]['qps']/a['faiss_flat_qps_1thread']:.2f} (target >= 0.8)")
PYEOF
