#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# device.sh: the bundled model's run on a lent GPU (docs/pretraining.md, "On a lent GPU").
#   pack DIR         here: the images of train.txt from the shared data, squeezed as the
#                    trainer squeezes them at the recipe's image side, as 8-bit grey PNGs
#                    in DIR (tools/pretrain/pack.py; DIR/manifest.tsv lists them)
#   train DIR OUT    there: tools/pretrain/train.py with the recipe's options
#                    (recipe.sh --print-train-args) on the packed images, from scratch or
#                    resuming the run folder's checkpoint, stopped with SIGINT (train.py
#                    saves and exits 130) before --minutes are spent; at every snapshot
#                    step (every $snap_every steps and the run's last) the teacher is
#                    exported as an F16 model (tools/pretrain/peac_export.py, the format of
#                    peac export --dtype f16) into OUT as teacher-step-N.safetensors, beside
#                    the loss log (log.csv) and device.txt (machine, trainer, steps and
#                    seconds of each call): at most 8 files for the planned run (6
#                    snapshots, or 5 and the step where the budget stopped it).
# --smoke takes recipe.sh --smoke's options (micro preset, 8 steps, 12 images) and a
# snapshot every 4 steps, so that both verbs run on a CPU in a minute.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=${PYTHON:-python3}
# Snapshot steps: every 500 steps (32k images at batch 64) and the last, 6 files for 3,000.
snap_every=500 smoke=0 minutes=9 run=/tmp/peac-device-run device=cuda workers=8

usage () {
  cat <<EOF
Usage: tools/bundled-model/device.sh pack DIR [--data SHARED] [--smoke]
       tools/bundled-model/device.sh train DIR OUT [--minutes M] [--run RUNDIR]
                                       [--device cuda|cpu] [--workers N] [--smoke]

  --data SHARED the shared data folder (default ../shared/data beside the checkout)
  --minutes M   stop training early enough to save and export within M minutes
                (default $minutes; a device command may run 10)
  --run RUNDIR  the run folder: checkpoint.safetensors and log.csv (default $run, on
                the device's own disk; a second call on the same warm machine resumes it)
  --device D    train.py --device (default $device)
  --workers N   train.py --workers: processes cutting the crops (default $workers)
  --smoke       recipe.sh --smoke's configuration and images, a snapshot every 4 steps
The Python with PyTorch is \$PYTHON (default python3).
EOF
}

[ $# -ge 1 ] || { usage >&2; exit 2; }
verb=$1; shift
pos=() data=$(cd "$repo/.." && pwd)/shared/data
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --run) run=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --smoke) smoke=1 snap_every=4; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "device.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) pos+=("$1"); shift ;;
  esac
done
smoke_opt=() limit=0
[ "$smoke" = 1 ] && smoke_opt=(--smoke) limit=12   # recipe.sh --smoke's 12 images
mapfile -t train_args < <("$here/recipe.sh" --print-train-args "${smoke_opt[@]}")
[ ${#train_args[@]} -gt 0 ] || { echo "device.sh: recipe.sh --print-train-args printed nothing" >&2; exit 1; }

case "$verb" in
  pack)
    [ ${#pos[@]} = 1 ] || { usage >&2; exit 2; }
    [ -d "$data" ] || { echo "device.sh: $data: no shared data folder (--data)" >&2; exit 1; }
    exec nice -n 10 "$py" "$repo/tools/pretrain/pack.py" --root "$data" --list "$here/train.txt" \
      --out "${pos[0]}" --limit "$limit" -- "${train_args[@]}"
    ;;
  train) [ ${#pos[@]} = 2 ] || { usage >&2; exit 2; } ;;
  *) echo "device.sh: unknown verb '$verb' (pack or train)" >&2; usage >&2; exit 2 ;;
esac

packed=${pos[0]} out=${pos[1]}
[[ "$minutes" =~ ^[0-9]+$ ]] && [ "$minutes" -ge 1 ] \
  || { echo "device.sh: --minutes '$minutes': want whole minutes, at least 1" >&2; exit 2; }
[ -f "$packed/manifest.tsv" ] \
  || { echo "device.sh: $packed: no manifest.tsv (run device.sh pack $packed where the data is)" >&2; exit 1; }
mkdir -p "$out" "$run"
mapfile -t images < <(cut -f1 "$packed/manifest.tsv")
images=("${images[@]/#/$packed/}")
ckpt=$run/checkpoint.safetensors
trainer=("$py" "$repo/tools/pretrain/train.py")
steps=$(printf '%s\n' "${train_args[@]}" | sed -n '/^--steps$/{n;p;}')

step_of () {
  [ -f "$ckpt" ] || { echo 0; return; }
  "$py" -c 'import json, sys
sys.path.insert(0, sys.argv[1])
import peac_checkpoint as c
print(json.loads(c.read_safetensors(sys.argv[2])[1]["peac.train"])["step"])' "$repo/tools/pretrain" "$ckpt"
}

# The budget: a chunk gets SIGINT early enough that the checkpoint is saved and the last
# snapshot exported (seconds each for ViT-Ti) before the M minutes end.
t_start=$SECONDS
reserve=40
[ "$minutes" -lt 3 ] && reserve=15
deadline=$(( t_start + minutes * 60 - reserve ))
step=$(step_of)
calls=$(( $(grep -c '^call ' "$out/device.txt" 2>/dev/null || true) + 1 ))
{
  echo "call $calls: $(date -u +%FT%TZ), from step $step of $steps"
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
  echo "  machine: ${gpu:-no GPU}, $(nproc --all) cores, $(uname -sm)"
  commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')
  torch_v=$("$py" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda)')
  echo "  trainer: tools/pretrain/train.py at commit $commit, $torch_v, --device $device --workers $workers"
  echo "  options: ${train_args[*]}"
  echo "  data: ${#images[@]} packed images, manifest.tsv sha256 $(sha256sum < "$packed/manifest.tsv" | cut -c1-64)"
} >> "$out/device.txt"

while [ "$step" -lt "$steps" ]; do
  left=$(( deadline - SECONDS ))
  [ "$left" -gt 5 ] || { echo "device.sh: time budget spent at step $step" >&2; break; }
  next=$(( (step / snap_every + 1) * snap_every ))
  [ "$next" -gt "$steps" ] && next=$steps
  run_opts=(--stop-after $(( next - step )) --device "$device" --workers "$workers" --log-every 50)
  # SIGINT to train.py alone when the time is up; its exit status, not timeout's 124.
  within=(timeout --foreground --preserve-status --signal=INT --kill-after=30 "$left")
  set +e
  if [ -f "$ckpt" ]; then
    "${within[@]}" "${trainer[@]}" --resume "$ckpt" "${run_opts[@]}"
  else
    "${within[@]}" "${trainer[@]}" "${train_args[@]}" "${run_opts[@]}" --save-every 100 \
      --out "$run" "${images[@]}"
  fi
  rc=$?
  set -e
  cp "$run/log.csv" "$out/log.csv" 2>/dev/null || true
  # 0: the run's end; 130: stopped after the chunk or by the budget, checkpoint saved.
  [ "$rc" = 0 ] || [ "$rc" = 130 ] || { echo "device.sh: train.py failed ($rc)" >&2; exit 1; }
  step=$(step_of)
  # A run stopped by the budget exports its last teacher too: the run folder is lost when
  # the machine goes back, and its checkpoint (~240 MB for ViT-Ti) cannot come back.
  if [ "$step" -gt 0 ] && { [ $(( step % snap_every )) = 0 ] || [ "$step" = "$steps" ] \
    || [ "$step" -lt "$next" ]; }; then
    "$py" "$repo/tools/pretrain/peac_export.py" "$ckpt" -o "$out/teacher-step-$step.safetensors" -q
  fi
  [ "$step" -lt "$next" ] && { echo "device.sh: stopped at step $step by the time budget" >&2; break; }
done
echo "  reached step $step after $(( SECONDS - t_start )) s" >> "$out/device.txt"
echo "device.sh: step $step of $steps; teachers, log.csv and device.txt in $out" >&2
