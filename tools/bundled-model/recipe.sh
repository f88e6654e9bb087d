#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# recipe.sh: the one command that trains, evaluates and exports the bundled model.
# It trains `peac train --preset tiny --seed 1` with the reference run's recipe (issue 18:
# batch 64, AdamW β2 0.95, lr 3.5e-4 with 5 % warm-up, EMA 0.996 → 1, 304/288 geometry
# with 0–15 px jitter and crop offsets up to 4 cells, gamma/inversion/out-painting
# distortions, the teacher seeing shuffled crops, projectors 2048/512, the paper's MSE
# local term), plus the position head (--w-position: every token predicts where its cell
# lies in the whole radiograph; issue 18's stop rule, see docs/bundled-model.md) on the
# images of train.txt (split.py: Hannover minus the held-out patients,
# plus NIH minus its validation split; never JSRT, Shenzhen or Montgomery) in chunks of
# --eval-every steps; after each chunk it exports the teacher (kept in OUT/teachers/) and
# appends a row to learning-curve.csv from `peac eval-landmarks` on a fixed subset of the
# JSRT pairs (evaluation only) and `peac eval-reid` (held-out patients). Re-running it
# continues the run from its checkpoint (an interrupted chunk restarts from the last
# --save-every checkpoint). The shipped model is declared before the run: the teacher of
# the run's last step (--ship-at 0). It is exported to data/models/peac-vit-tiny.safetensors
# (F16, at most 50 MB) and the model card's figures are written into OUT/card/. The model
# shipped before this recipe (step 2,029 of the earlier batch-8 InfoNCE recipe) is made by
# this script as of commit 8a977ad.
# --smoke runs the same pipeline with the micro preset on a few images in a minute or two,
# into a temporary folder, and never touches data/models.
# A run trained elsewhere (device.sh: train.py on a lent GPU, docs/pretraining.md "On a lent
# GPU") comes back as teacher files: --score-teacher appends a curve row for one, and
# --ship-teacher ships one with the card; --print-train-args gives that trainer the
# recipe's options, stated here once.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=$(cd "$repo/.." && pwd)/shared/data
peac=""
out="${XDG_CACHE_HOME:-$HOME/.cache}/peac-explorer/bundled-model-v3"
steps=3000 batch=64 threads=0 eval_every=100 save_every=25 eval_pairs=100
smoke=0 preset=tiny seed=1 out_given=0 model_out="" local_temp=0 dense=8 card_now=0 until=0
shorten=0 ship_at=0 ship_given=0 print_args=0 score_teacher="" ship_teacher="" given_step=0
made_by=""
# The position term's weight: its loss falls from ~0.67 (no knowledge) to ~0.05 with the
# crop position alone (offsets of 0–4 cells and 0–15 px of jitter in a 303-px image);
# at 10 that remainder, which only the anatomy can explain, weighs as much as the others.
w_position=10
# The reference run's recipe (issue 18), beside --batch and --local-temp above. The local
# weight 1/512 makes the engine's local term (squared distance of unit vectors, summed over
# both directions: 2 × 512 × the element mean) the reference's element-mean MSE summed over
# both directions, as the global weight's default does for the global term.
# The training crops' scale: tokens see 16-px cells of a radiograph squeezed to 18 cells.
train_scale=288
recipe_opts=(--lr 3.5e-4 --warmup 150 --beta2 0.95 --ema-momentum 0.996 --max-shift 4
  --jitter 15 --distortions reference --teacher-sees-shuffled 1 --proj-hidden 2048
  --proj-out 2048 --local-hidden 512 --local-out 512 --w-local 0.001953125)

usage () {
  cat <<EOF
Usage: tools/bundled-model/recipe.sh [OPTIONS]

  --steps N        optimiser steps the run is planned for (default $steps: 192k images at
                   batch 64); the teacher's EMA schedule follows it
  --ship-at N      the step whose teacher is exported and carded (default $ship_at: the
                   run's end, declared before the run). The run trains to it and stops
  --shorten AT:END at step AT, move the run's end to step END (peac train --resume --steps
                   END: the LR's cosine refitted to end there, the EMA schedule kept);
                   default $shorten (none)
  --batch N        images per step (default $batch)
  --threads N      threads (default: all cores)
  --eval-every N   steps between learning-curve rows (default $eval_every)
  --save-every N   steps between checkpoints (default $save_every)
  --eval-pairs N   landmark pairs per learning-curve row (default $eval_pairs; the
                   final evaluation uses all pairs)
  --out DIR        run folder: checkpoint, logs, curve, card (default $out)
  --data DIR       the shared data folder (default $data)
  --peac PATH      the peac executable (default: the newest build in the checkout, else PATH)
  --model-out FILE the shipped model (default data/models/peac-vit-tiny.safetensors)
  --w-position X   peac train --w-position of a new run (default $w_position; 0: no
                   position head, the recipe of the v2 run); a resumed run keeps its own
  --local-temp T   peac train --local-temp of a new run (default $local_temp: the paper's
                   MSE term; T > 0: the contrastive term); a resumed run keeps the value
                   it was started with
  --dense S        the card's second landmark table uses tokens at patch stride S
                   (default $dense; 0: none)
  --card-now       no more training: export the checkpoint as it is and write the card
                   (an interim model; the card says at which step)
  --until N        train only up to step N of the run's schedule (curve rows included),
                   then stop without exporting; with --card-now afterwards this makes
                   the model of step N, as --ship-at N does in one go
  --smoke          micro preset, 8 steps, a row every 4, 12 images, 4 landmark
                   images; a temporary --out unless one is given
  --print-train-args
                   print the training options of a new run, one a line (the
                   configuration: preset, seed, steps, batch and the recipe's options;
                   no data, output or thread options) and exit; tools/pretrain/train.py
                   takes them as they are
  --score-teacher FILE
                   no training: append the learning-curve row of step --step of an
                   exported teacher FILE (a model file, e.g. made on a lent GPU)
  --ship-teacher FILE
                   no training: ship the exported teacher FILE (F16) of step --step as
                   the model and write the card; --made-by says where and by what it was
                   trained, the loss log is OUT/log.csv
                   Both need an --out of their own (no checkpoint trained here).
  --step N         the step of --score-teacher / --ship-teacher's FILE (default: the
                   step its provenance records; refused if they differ)
  --made-by TEXT   the card's line on the machine and trainer of a --ship-teacher run
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --shorten) shorten=$2; shift 2 ;;
    --ship-at) ship_at=$2; ship_given=1; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --eval-every) eval_every=$2; shift 2 ;;
    --save-every) save_every=$2; shift 2 ;;
    --eval-pairs) eval_pairs=$2; shift 2 ;;
    --out) out=$2; out_given=1; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --peac) peac=$2; shift 2 ;;
    --model-out) model_out=$2; shift 2 ;;
    --local-temp) local_temp=$2; shift 2 ;;
    --w-position) w_position=$2; shift 2 ;;
    --dense) dense=$2; shift 2 ;;
    --card-now) card_now=1; shift ;;
    --until) until=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --print-train-args) print_args=1; shift ;;
    --score-teacher) score_teacher=$2; shift 2 ;;
    --ship-teacher) ship_teacher=$2; shift 2 ;;
    --step) given_step=$2; shift 2 ;;
    --made-by) made_by=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "recipe.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

final_model="$repo/data/models/peac-vit-tiny.safetensors"
[ -n "$model_out" ] && final_model=$model_out
landmark_opts=()
if [ "$smoke" = 1 ]; then
  preset=micro steps=8 batch=4 eval_every=4 save_every=2 eval_pairs=6
  # The micro preset's 4 × 4 grid of 8-px cells: shifts below 4 cells, jitter below 8 px.
  train_scale=48
  recipe_opts=(--warmup 2 --beta2 0.95 --ema-momentum 0.996 --max-shift 2 --jitter 7
    --distortions reference --teacher-sees-shuffled 1 --proj-hidden 64 --proj-out 64
    --local-hidden 32 --local-out 32 --w-local 0.03125)
  [ "$ship_given" = 1 ] || ship_at=6
  [ "$out_given" = 1 ] || [ "$print_args" = 1 ] || out=$(mktemp -d "${TMPDIR:-/tmp}/peac-recipe-smoke.XXXXXX")
  final_model=${model_out:-$out/peac-vit-micro.safetensors}
  landmark_opts=(--images 4)
fi
planned=$steps shorten_at=0
if [ "$shorten" != 0 ]; then
  [[ "$shorten" =~ ^([0-9]+):([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -lt "${BASH_REMATCH[2]}" ] \
    && [ "${BASH_REMATCH[2]}" -lt "$steps" ] \
    || { echo "recipe.sh: --shorten '$shorten': want AT:END with AT < END < --steps ($steps)" >&2; exit 2; }
  shorten_at=${BASH_REMATCH[1]} steps=${BASH_REMATCH[2]}
fi
# A new run's configuration: every trainer of the recipe is given exactly these.
train_args=(--preset "$preset" --seed "$seed" --steps "$planned" --batch "$batch"
  --local-temp "$local_temp" --w-position "$w_position" "${recipe_opts[@]}")
if [ "$print_args" = 1 ]; then
  printf '%s\n' "${train_args[@]}"
  exit 0
fi
. "$here/find-peac.sh" recipe.sh
[ -f "$data/cxr-followup/followup_pairs.csv" ] || { echo "recipe.sh: $data: not the shared data folder (--data)" >&2; exit 1; }
elsewhere=${score_teacher:-$ship_teacher}
if [ -n "$elsewhere" ]; then
  [ -n "$score_teacher" ] && [ -n "$ship_teacher" ] \
    && { echo "recipe.sh: --score-teacher and --ship-teacher are separate calls" >&2; exit 2; }
  # A run folder of its own: never rows or a card mixed into a run trained here.
  [ "$out_given" = 1 ] && [ ! -e "$out/checkpoint.safetensors" ] \
    || { echo "recipe.sh: $elsewhere: give --out a run folder of its own (not one that holds a checkpoint trained here)" >&2; exit 2; }
  # The step the exporter recorded (peac.provenance), which --step must agree with.
  file_step=$(python3 - "$elsewhere" <<'EOF' 2>/dev/null || true
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    meta = json.loads(f.read(n)).get("__metadata__", {})
print(json.loads(meta.get("peac.provenance", "{}")).get("step", ""))
EOF
)
  [ "$given_step" = 0 ] && given_step=$file_step
  [[ "$given_step" =~ ^[1-9][0-9]*$ ]] \
    || { echo "recipe.sh: $elsewhere: no training step in its provenance: give it with --step N" >&2; exit 2; }
  [ -z "$file_step" ] || [ "$file_step" = "$given_step" ] \
    || { echo "recipe.sh: $elsewhere: its provenance says step $file_step, not $given_step (--step)" >&2; exit 2; }
  # peac opens it as a model (peac export reads any model file; the copy is thrown away).
  mkdir -p "$out"
  "$peac" export "$elsewhere" -o "$out/check.safetensors" -q \
    || { echo "recipe.sh: $elsewhere: not a model file peac opens" >&2; exit 1; }
  rm -f "$out/check.safetensors"
fi
[[ "$ship_at" =~ ^[0-9]+$ ]] && [ "$ship_at" -le "$steps" ] \
  || { echo "recipe.sh: --ship-at '$ship_at': want a step from 1 to $steps (0: the end)" >&2; exit 2; }
final=$steps
[ "$ship_at" -gt 0 ] && final=$ship_at
mkdir -p "$out/card"
ckpt="$out/checkpoint.safetensors"
curve="$out/learning-curve.csv"
teacher="$out/teacher.safetensors"
echo "recipe.sh: peac $peac, run folder $out" >&2

# The split is deterministic: recompute it and insist it matches the committed lists.
python3 "$here/split.py" --data "$data" --out "$out/split" >&2
for f in train.txt heldout-patients.txt; do
  cmp -s "$here/$f" "$out/split/$f" || { echo "recipe.sh: $f differs from split.py's output in $out/split" >&2; exit 1; }
done
mapfile -t train < "$here/train.txt"
[ "$smoke" = 1 ] && train=("${train[@]:0:12}")
train=("${train[@]/#/$data/}")

# The checkpoint's step (0 when there is none yet).
step_of () {
  [ -n "$elsewhere" ] && { echo "$given_step"; return; }
  [ -f "$ckpt" ] || { echo 0; return; }
  "$peac" train --resume "$ckpt" --print-config | python3 -c 'import json,sys; print(json.load(sys.stdin)["train"]["step"])'
}

reid=(--pairs "$data/cxr-followup/followup_pairs.csv" --root "$data" --patients "$here/heldout-patients.txt" --threads "$threads" -q)

# One learning-curve row: export the teacher, score it on landmark pairs.
curve_row () {
  local s=$1
  "$peac" export "$ckpt" -o "$teacher" --dtype f32 -q
  # Every row's teacher is kept (F16), so that the curve can be scored again later.
  mkdir -p "$out/teachers"
  "$peac" export "$ckpt" -o "$out/teachers/step-$s.safetensors" --dtype f16 -q
  score_row "$s" "$teacher"
}

# The learning-curve row of step $1 from the model file $2.
score_row () {
  local s=$1 teacher=$2
  "$peac" eval-landmarks --model "$teacher" --data "$data/landmarks/jsrt" --pairs "$eval_pairs" \
    --threads "$threads" "${landmark_opts[@]}" --json > "$out/eval-$s.json"
  # affine_mre_px: the guided matcher without the deformable refinement (model_affine; a
  # binary from before the refinement has only the affine, as model), comparable over the
  # whole run. The same pairs with the radiograph fed at the training crops' scale (--input).
  "$peac" eval-landmarks --model "$teacher" --data "$data/landmarks/jsrt" --pairs "$eval_pairs" \
    --input "$train_scale" --threads "$threads" "${landmark_opts[@]}" --json > "$out/eval-$s-$train_scale.json"
  "$peac" eval-reid --model "$teacher" "${reid[@]}" --json > "$out/reid-$s.json"
  [ -f "$curve" ] || echo "step,images,train_s,mre_px,median_px,pck1,pck2,pck4,nearest_mre_px,identity_mre_px,ncc_mre_px,random_mre_px,reid_top1,retrieval_top1,retrieval_top5,random_retrieval_top1,random_retrieval_top5,train_scale,scaled_mre_px,scaled_nearest_mre_px,scaled_retrieval_top1,scaled_random_mre_px,affine_mre_px" > "$curve"
  # train_s: this machine's training seconds; none for a teacher trained elsewhere.
  local secs=""
  [ -z "$elsewhere" ] && secs=$(cat "$wall")
  python3 - "$out/eval-$s.json" "$out/reid-$s.json" "$s" "$batch" "$secs" \
    "$out/eval-$s-$train_scale.json" "$train_scale" >> "$curve" <<'EOF'
import json, sys
j, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
k = json.load(open(sys.argv[6]))
s, b, t = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
m, b_, lr = j["model"], j["baselines"], j["landmark_retrieval"]
print(f'{s},{s * b},{t},{m["mre_px"]:.2f},{m["median_px"]:.2f},{m["pck1"]:.4f},{m["pck2"]:.4f},'
      f'{m["pck4"]:.4f},{j["model_nearest"]["mre_px"]:.2f},{b_["identity"]["mre_px"]:.2f},'
      f'{b_["ncc"]["mre_px"]:.2f},{b_["random_init"]["mre_px"]:.2f},{r["top1"]:.4f},'
      f'{lr["model"]["top1"]:.4f},{lr["model"]["top5"]:.4f},{lr["random_init"]["top1"]:.4f},'
      f'{lr["random_init"]["top5"]:.4f},{sys.argv[7]},{k["model"]["mre_px"]:.2f},'
      f'{k["model_nearest"]["mre_px"]:.2f},{k["landmark_retrieval"]["model"]["top1"]:.4f},'
      f'{k["baselines"]["random_init"]["mre_px"]:.2f},'
      f'{j.get("model_affine", m)["mre_px"]:.2f}')
EOF
  tail -n 1 "$curve" >&2
}

# Ctrl-C: peac train saves its checkpoint and exits 130; the recipe stops there too.
interrupted=0
trap 'interrupted=1' INT TERM
thread_opt=()
[ "$threads" != 0 ] && thread_opt=(--threads "$threads")
wall="$out/train-seconds"   # training wall time summed over every session of the run
step=$(step_of)
if [ -n "$score_teacher" ]; then
  score_row "$step" "$score_teacher"
  exit 0
fi
[ -n "$ship_teacher" ] && card_now=1
[ "$card_now" = 1 ] && [ -z "$ship_teacher" ] && { [ -f "$ckpt" ] || { echo "recipe.sh: --card-now: no checkpoint in $out" >&2; exit 1; }; }
[ "$card_now" = 0 ] && [ "$step" -gt "$final" ] && {
  echo "recipe.sh: $out is at step $step, past step $final (--ship-at): --card-now exports it as it is; a new --out trains from scratch" >&2
  exit 1
}
stop=$final
[ "$until" -gt 0 ] && [ "$until" -lt "$final" ] && stop=$until
while [ "$card_now" = 0 ] && [ "$step" -lt "$stop" ]; do
  chunk=$(( eval_every - step % eval_every ))
  [ $(( step + chunk )) -gt "$stop" ] && chunk=$(( stop - step ))
  # A chunk ends at the step where the run is shortened; the ones after it move the end.
  end_opt=()
  if [ "$shorten_at" -gt 0 ]; then
    if [ "$step" -lt "$shorten_at" ]; then
      [ $(( step + chunk )) -gt "$shorten_at" ] && chunk=$(( shorten_at - step ))
    else
      end_opt=(--steps "$steps")
    fi
  fi
  set +e
  t0=$SECONDS
  if [ -f "$ckpt" ]; then
    nice -n 10 "$peac" train --resume "$ckpt" --stop-after "$chunk" "${thread_opt[@]}" "${end_opt[@]}" \
      --log-every 10
  else
    nice -n 10 "$peac" train "${train_args[@]}" --threads "$threads" --save-every "$save_every" \
      --log-every 10 --stop-after "$chunk" --out "$ckpt" "${train[@]}"
  fi
  rc=$?
  set -e
  echo $(( $(cat "$wall" 2>/dev/null || echo 0) + SECONDS - t0 )) > "$wall"
  [ "$interrupted" = 0 ] || { echo "recipe.sh: interrupted at step $(step_of); run it again to continue" >&2; exit 130; }
  # 130: stopped after the chunk (or interrupted) with the checkpoint saved.
  [ "$rc" = 0 ] || [ "$rc" = 130 ] || { echo "recipe.sh: peac train failed ($rc)" >&2; exit "$rc"; }
  new=$(step_of)
  [ "$new" -gt "$step" ] || { echo "recipe.sh: no progress past step $step" >&2; exit 1; }
  step=$new
  # The step where the run was shortened gets no row of its own unless on the grid.
  [ "$step" = "$shorten_at" ] && [ $(( step % eval_every )) != 0 ] && continue
  curve_row "$step"
done

if [ "$card_now" = 0 ] && [ "$step" -lt "$final" ]; then
  echo "recipe.sh: stopped at step $step (--until); --card-now exports it, a run without --until continues to step $final" >&2
  exit 0
fi

# The shipped file: F16 teacher, at most 50 MB.
mkdir -p "$(dirname "$final_model")"
if [ -n "$ship_teacher" ]; then
  [ -f "$out/log.csv" ] || { echo "recipe.sh: --ship-teacher: no loss log $out/log.csv (copy the run's log.csv there)" >&2; exit 1; }
  cp "$ship_teacher" "$final_model.tmp.$$" && mv "$final_model.tmp.$$" "$final_model"
else
  "$peac" export "$ckpt" -o "$final_model" --dtype f16
fi
size=$(stat -c %s "$final_model")
[ "$size" -le 50000000 ] || { echo "recipe.sh: $final_model is $size bytes, over 50 MB" >&2; exit 1; }

# The model card's figures, all from this one run.
card="$out/card"
# All ordered JSRT pairs: ~10 minutes on 2 cores, most of it the pixel-NCC baseline; run
# once as JSON, the table rendered from it.
"$peac" eval-landmarks --model "$final_model" --data "$data/landmarks/jsrt" --threads "$threads" \
  "${landmark_opts[@]}" --json > "$card/eval-landmarks.json"
tables=("$card/eval-landmarks.json")
if [ "$dense" != 0 ] && [ "$smoke" = 0 ]; then
  "$peac" eval-landmarks --model "$final_model" --data "$data/landmarks/jsrt" --threads "$threads" \
    --stride "$dense" --json > "$card/eval-landmarks-dense.json"
  tables+=("$card/eval-landmarks-dense.json")
fi
render="$card/render-landmarks.py"
cat > "$render" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
c = j["config"]
rows = [("model (guided)", j["model"]), ("model (nearest)", j["model_nearest"])] + \
       [(k, v) for k, v in j["baselines"].items()] + \
       [(f"{k} (a bound, fitted to the answers)", v) for k, v in j.get("bounds", {}).items()]
print(f'{rows[0][1]["pairs"]} ordered pairs of {c["images"]} images, {c["grid"]}x{c["grid"]} grid '
      f'(stride {c.get("stride", "patch")} px; PCK cell {c["cell_px"]:.1f} px in the 1024 frame)\n')
print("| method | MRE px | MRE mm | median px | PCK@1 | PCK@2 | PCK@4 |")
print("|---|---|---|---|---|---|---|")
for name, r in rows:
    print(f'| {name} | {r["mre_px"]:.1f} | {r["mre_mm"]:.2f} | {r["median_px"]:.1f} | '
          f'{r["pck1"]:.3f} | {r["pck2"]:.3f} | {r["pck4"]:.3f} |')
structs = list(rows[0][1]["per_structure_mre_px"])
print("\nMRE px per structure\n")
print("| method | " + " | ".join(structs) + " |")
print("|---|" + "---|" * len(structs))
for name, r in rows:
    print(f"| {name} | " + " | ".join(f'{r["per_structure_mre_px"][s]:.1f}' for s in structs) + " |")
if "margins" in j:
    def ci(v, f):
        return "–" if v is None else f"[{v[0]:{f}}, {v[1]:{f}}]"
    print(f'\nModel (guided) minus each baseline; 95 % intervals from {c.get("bootstrap", "?")} '
          'resamples of the images\n')
    print("| baseline | MRE px | 95 % interval | PCK@1 | 95 % interval | pairs the model wins |")
    print("|---|---|---|---|---|---|")
    for name, m in j["margins"].items():
        print(f'| {name} | {m["mre_diff_px"]:+.1f} | {ci(m["mre_diff_ci95"], "+.1f")} | '
              f'{m["pck1_diff"]:+.3f} | {ci(m["pck1_diff_ci95"], "+.3f")} | '
              f'{100 * m["pairs_better"]:.1f} % |')
print()
EOF
for t in "${tables[@]}"; do python3 "$render" "$t"; done > "$card/eval-landmarks.txt"
{
  "$peac" eval-reid --model "$final_model" "${reid[@]}"
  "$peac" eval-reid --model "$final_model" "${reid[@]}" --random-init
} > "$card/eval-reid.txt"
"$peac" eval-reid --model "$final_model" "${reid[@]}" --json > "$card/eval-reid.json"
"$peac" eval-reid --model "$final_model" "${reid[@]}" --random-init --json >> "$card/eval-reid.json"
cp "$out/log.csv" "$card/loss.csv"
cp "$curve" "$card/learning-curve.csv"
plot="no plot (matplotlib missing): see loss.csv and learning-curve.csv"
for py in python3 /usr/bin/python3; do
  if "$py" "$here/plot.py" "$card/loss.csv" "$card/learning-curve.csv" "$card/loss.png" 2>/dev/null; then
    plot="loss.png"; break
  fi
done
{
  echo "model $final_model ($size bytes): the teacher at step $step of a $steps-step schedule at batch $batch, preset $preset, seed $seed"
  [ "$shorten_at" -gt 0 ] && echo "schedule planned for $planned steps, shortened at step $shorten_at to end at $steps"
  if [ -n "$ship_teacher" ]; then
    echo "trained elsewhere: ${made_by:-machine and trainer not given (--made-by)}"
  else
    echo "training wall time $(cat "$wall" 2>/dev/null || echo '?') s on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sm)"
  fi
  echo "curve: learning-curve.csv; loss: loss.csv; plot: $plot"
} > "$card/summary.txt"
cat "$card/summary.txt" "$card/eval-landmarks.txt" "$card/eval-reid.txt"
echo "recipe.sh: figures in $card" >&2
