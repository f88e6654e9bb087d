#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# transfer.sh: the transfer table of the model card (issue 10) in one command. It runs
# `peac finetune --compare` on the 14 NIH ChestX-ray14 findings of nih-more (train split →
# validation split) for a model and its random-init twin: linear probe and full
# fine-tuning, at 25 % and 100 % of the training labels, 3 seeds each. JSON per row into
# OUT/, then one Markdown table (mean validation AUC ± std over seeds) on stdout and in
# OUT/transfer.md. --modes linear skips fine-tuning (about 70 minutes on 2 cores).
# --split unseen scores patients that the bundled model's pretraining never saw: the NIH
# validation split (kept out of train.txt by split.py) becomes the test set, and a fifth of
# the training split's patients (lowest sha1 of the patient id) chooses the epoch instead;
# the split is written to OUT/labels-unseen.csv and given to peac finetune --test.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=$(cd "$repo/.." && pwd)/shared/data
peac="" model="$repo/data/models/peac-vit-tiny.safetensors" out="" seeds=3
modes="linear full" fractions="0.25 1" split=official

usage () {
  cat <<USAGE
Usage: tools/bundled-model/transfer.sh --out DIR [OPTIONS]

  --model FILE       the model (default: the bundled $model)
  --out DIR          JSON per row and transfer.md
  --peac PATH        the peac executable (default: the newest build in the checkout, else PATH)
  --data DIR         the shared data folder (default $data)
  --modes "M..."     linear and/or full (default "$modes")
  --fractions "F..." label fractions (default "$fractions")
  --seeds N          seeds per row (default $seeds)
  --split S          official (default: train split → validation split) or unseen
                     (train → test on the validation split, epoch chosen on a fifth of
                     the training patients)
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --peac) peac=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --fractions) fractions=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --split) split=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "transfer.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "transfer.sh: --out DIR is required" >&2; usage >&2; exit 2; }
. "$here/find-peac.sh" transfer.sh
[ -f "$model" ] || { echo "transfer.sh: $model: no such model" >&2; exit 1; }
labels="$data/cxr/nih-more/labels.csv"
[ -f "$labels" ] || { echo "transfer.sh: $labels missing (--data)" >&2; exit 1; }
case "$split" in official|unseen) ;; *) echo "transfer.sh: --split is official or unseen, not '$split'" >&2; exit 2 ;; esac
mkdir -p "$out"
eval_opts=(--train "$labels" --val "$labels")
if [ "$split" = unseen ]; then
  unseen="$out/labels-unseen.csv"
  python3 - "$labels" "$unseen" <<'PY'
import csv, hashlib, math, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
train_p = sorted({r["patient_id"] for r in rows if r["official_split"] == "train"},
                 key=lambda p: hashlib.sha1(p.encode()).hexdigest())
val_p = set(train_p[:math.ceil(0.2 * len(train_p))])
with open(sys.argv[2], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    for r in rows:
        r = dict(r)
        s = r["official_split"]
        r["official_split"] = "test" if s != "train" else "val" if r["patient_id"] in val_p else "train"
        w.writerow(r)
PY
  eval_opts=(--train "$unseen" --val "$unseen" --test "$unseen")
fi

for mode in $modes; do
  for f in $fractions; do
    j="$out/$mode-$f$([ "$split" = unseen ] && echo -unseen).json"
    [ -s "$j" ] && { echo "transfer.sh: $j exists, kept" >&2; continue; }
    echo "transfer.sh: $mode, label fraction $f, $seeds seeds" >&2
    "$peac" finetune --model "$model" --compare "${eval_opts[@]}" \
      --images "$data/cxr/nih-more/png_512" --mode "$mode" --label-fraction "$f" \
      --seeds "$seeds" --json > "$j.part"
    mv "$j.part" "$j"
  done
done

suffix=""
[ "$split" = unseen ] && suffix=-unseen
python3 - "$out" "$suffix" $modes -- $fractions > "$out/transfer$suffix.md" <<'PY'
import json, os, sys
out, suffix = sys.argv[1], sys.argv[2]
cut = sys.argv.index('--')
modes, fractions = sys.argv[3:cut], sys.argv[cut + 1:]
scored = 'test (unseen patients)' if suffix else 'validation'
print(f'| mode | labels | model | {scored} mean AUC ± std | 95 % CI (seed 0) | per seed |')
print('|---|---|---|---|---|---|')
for mode in modes:
    for f in fractions:
        j = json.load(open(os.path.join(out, f'{mode}-{f}{suffix}.json')))
        for r in j['results']:
            name = 'random init' if r['random_init'] else os.path.basename(r['model'])
            lo, hi = r['ci95_seed0']
            seeds = ', '.join(f'{v:.3f}' for v in r['mean_auc_per_seed'])
            # One seed has no spread to report.
            spread = f"{r['std_auc']:.3f}" if len(r['mean_auc_per_seed']) > 1 else 'n/a'
            used = j.get('n_train_used', j['n_train'])
            print(f"| {mode} | {float(f) * 100:g} % ({used} of {j['n_train']}) | {name} | "
                  f"{r['mean_auc']:.3f} ± {spread} | {lo:.3f}–{hi:.3f} | {seeds} |")
PY
cat "$out/transfer$suffix.md"
