#!/usr/bin/env bash
# The ImageNet-21K recipe of reference_pipeline/README.md ("On GPUs"), end to end, at a size
# that runs in about 5 minutes on one GPU:
#   a synthetic ImageFolder pool of JPEGs at 224 px (synth_folder.py; stands in for IN-21K),
#   a timm ConvNeXt teacher (untrained weights, or a local checkpoint via TEACHER_CKPT),
#   torchrun scoring in resumable shards (one rank is SIGKILLed midway, then the run resumes),
#   the stratified selection, the payload, and a ResNet-18 student on the payload's pool items.
# It fails (exit != 0) if any stage fails or a check does not hold, and prints each stage's time.
#
# Every size is an environment variable, so the same script runs on a CPU at a tiny size
# (tests/test_pipeline_gpu_check.py does that in CI):
#   ITEMS=20000 SIZE=224 NPROC=<GPUs> bash reference_pipeline/gpu_check.sh [WORKDIR]
set -euo pipefail

WORK=${1:-${WORK:-/tmp/plada-gpu-check}}
PY=${PYTHON:-python}
ITEMS=${ITEMS:-20000}                 # pool items (JPEG files)
SIZE=${SIZE:-224}                     # px: pool files, teacher and student inputs
TEACHER_MODEL=${TEACHER_MODEL:-convnext_atto}
TEACHER_CKPT=${TEACHER_CKPT:-}        # local timm weights (nothing is downloaded); empty = untrained
TEACHER_STEPS=${TEACHER_STEPS:-300}
STUDENT_MODEL=${STUDENT_MODEL:-resnet18}
STUDENT_STEPS=${STUDENT_STEPS:-300}
BATCH=${BATCH:-256}                   # scoring batch (a shard is SHARD_BATCHES of them)
TRAIN_BATCH=${TRAIN_BATCH:-128}
SHARD_BATCHES=${SHARD_BATCHES:-8}
KEEP=${KEEP:-0.05}                    # 5 % of 20,000 = 1,000 items (1 % of IN-21K is 142k)
WORKERS=${WORKERS:-}                  # loader processes per rank (empty: the pipeline's default)
TASK=${TASK:-fashion}
SOURCE=${SOURCE:-broad}               # the array pool the JPEGs are made from
if [[ -z "${NPROC:-}" ]]; then
  NPROC=$($PY -c "import torch; print(max(1, torch.cuda.device_count()))")
fi

mkdir -p "$WORK"
CACHE="$WORK/cache"
POOL="folder:$WORK/pool"
W=()
[[ -n "$WORKERS" ]] && W=(--workers "$WORKERS")
T_CK=()
[[ -n "$TEACHER_CKPT" ]] && T_CK=(--teacher-checkpoint "$TEACHER_CKPT")

now() { date +%s%N; }
stamp() { local ms=$(( ($(now) - $2) / 1000000 )); printf '== %-8s %6d.%01d s\n' "$1" $((ms / 1000)) $((ms % 1000 / 100)); }
T0=$(now)
$PY - <<'EOF'
import torch
print(f"torch {torch.__version__}, cuda {torch.cuda.is_available()}, "
      f"{torch.cuda.device_count()} GPU(s) {[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]}")
EOF

t=$(now)
$PY -m reference_pipeline.synth_folder --items "$ITEMS" --size "$SIZE" --source "$SOURCE" --cache "$CACHE" \
    --out "$WORK/pool"
$PY -m reference_pipeline.pools --pool "$POOL" --cache "$CACHE" --out "$WORK/pool.json"
stamp pool "$t"

t=$(now)
$PY -m reference_pipeline.train_teacher --task "$TASK" --model "$TEACHER_MODEL" "${T_CK[@]}" --img-size "$SIZE" \
    --steps "$TEACHER_STEPS" --batch-size "$TRAIN_BATCH" --out "$WORK/teacher.pt"
stamp teacher "$t"

# Scoring under torchrun, killed once: the first run loses one rank to SIGKILL after its first
# shard (torchrun then stops the others), the second run scores only the shards still missing.
t=$(now)
rm -rf "$WORK/scores.npz" "$WORK/scores.npz.shards"
SCORE=(-m reference_pipeline.score_pool --teacher "$WORK/teacher.pt" --pool "$POOL" --cache "$CACHE"
       --batch-size "$BATCH" --shard-size $((BATCH * SHARD_BATCHES)) "${W[@]}" --out "$WORK/scores.npz")
$PY -m torch.distributed.run --standalone --nproc-per-node "$NPROC" "${SCORE[@]}" &
RUN=$!
for _ in $(seq 1 3000); do   # wait for the first finished shard (at most 10 min)
  compgen -G "$WORK/scores.npz.shards/shard-*.npz" > /dev/null && break
  kill -0 $RUN 2>/dev/null || break
  sleep 0.05
done
VICTIM=$(pgrep -P $RUN | tail -n 1 || true)   # torchrun's children are the ranks
if [[ -n "$VICTIM" && ! -f "$WORK/scores.npz" ]]; then
  kill -9 "$VICTIM" && echo "SIGKILLed rank process $VICTIM after $(ls "$WORK/scores.npz.shards" | grep -c '^shard-') shard(s)"
else
  echo "scoring finished before the kill: no resume exercised (raise ITEMS or lower SHARD_BATCHES)"
fi
wait $RUN || echo "first scoring run ended with status $? (expected after the kill)"
$PY -m torch.distributed.run --standalone --nproc-per-node "$NPROC" "${SCORE[@]}"
stamp scores "$t"

t=$(now)
$PY -m reference_pipeline.selection --scores "$WORK/scores.npz" --rule stratified --keep "$KEEP" --out "$WORK/keep.npz"
$PY -m reference_pipeline.build_payload --scores "$WORK/scores.npz" --keep "$WORK/keep.npz" \
    --teacher "$WORK/teacher.pt" --out "$WORK/payload.plada"
stamp payload "$t"

t=$(now)
$PY -m reference_pipeline.train_student --payload "$WORK/payload.plada" --pool "$POOL" --cache "$CACHE" \
    --task "$TASK" --model "$STUDENT_MODEL" --img-size "$SIZE" --steps "$STUDENT_STEPS" \
    --batch-size "$TRAIN_BATCH" "${W[@]}" --out "$WORK/student.pt"
stamp student "$t"

# The checks: no shard scored twice over the two runs, every item in scores.npz, and the
# payload decodes. A shard the killed rank had written but not yet logged (the log line
# follows the file) is merged without a log line: at most one such shard per rank.
$PY - "$WORK" <<'EOF'
import json, sys
from pathlib import Path
import numpy as np
import pladafmt
work = Path(sys.argv[1])
run = json.loads((work / "scores.npz.run.json").read_text())
shards = [r["shard"] for r in run["shard_log"]]
with np.load(work / "scores.npz") as z:
    n = len(z["labels"])
twice = sorted({s for s in shards if shards.count(s) > 1})
unlogged = sorted(set(range(run["shards"])) - set(shards))
assert not twice and len(unlogged) <= run["world"], f"scored twice: {twice}; not logged: {unlogged}"
payload = pladafmt.decode((work / "payload.plada").read_bytes())
assert n == run["items"], f"scores.npz has {n} items, the pool {run['items']}"
print(f"scored {n} items in {run['shards']} shards over {len({r['run'] for r in run['shard_log']})} run(s); "
      f"scored twice: {twice or 'none'}; finished at the kill, not logged: {unlogged or 'none'}; payload {(work / 'payload.plada').stat().st_size:,} B, k = {len(payload.indices)}")
EOF
stamp total "$T0"
