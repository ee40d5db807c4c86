#!/usr/bin/env bash
# The small-cohort recipe against the naive setup and the baselines, and the effect of each
# recipe part switched off (docs/RECIPE.md), on the default synthetic cohort: walking gait
# cycles, leave-one-subject-out over 6 subjects, for each cohort seed given.
#
#   benchmarks/recipe.sh OUT [SEED ...]        (default seeds: 0 1)
#   RECIPE_CONFIGS="recipe naive" benchmarks/recipe.sh OUT 0
#
# Writes OUT/data<seed>/, OUT/<config>-<seed>/ (sweep folders) and OUT/table.md (mean over
# held-out subjects of RMSE and r, medial/lateral/total; benchmarks/recipe_table.py), and the
# wall time of every sweep in OUT/times.txt. Needs a release build (swift build -c release).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: benchmarks/recipe.sh OUT [SEED ...]}
shift
if [[ $# -eq 0 ]]; then seeds=(0 1); else seeds=("$@"); fi
bin="$(swift build -c release --show-bin-path)/kneeforce"
mkdir -p "$out"
common=(--activities walking)
declare -A config=(
  [recipe]=""
  [naive]="--recipe plain --segmentation cycle --patience 0"
  [inputs_grf]="--feature-sets grf"
  [inputs_all]="--feature-sets all"
  [training_zscores]="--normalization training"
  [plain_sizes]="--hidden 64 --layers 2 --mlp 128,64 --channels 64 --levels 4"
  [no_weight_decay]="--weight-decay 0"
  [weight_decay_1]="--weight-decay 1"
  [no_augmentation]="--noise 0 --channel-offset 0 --channel-gain 0 --time-warp 0"
  [next_validation]="--validation next"
  [no_residual]="--residual none"
  [mean_curve_residual]="--residual mean_curve"
  [seeds_3]="--seeds 3"
)
order=(${RECIPE_CONFIGS:-recipe naive inputs_grf inputs_all training_zscores plain_sizes no_weight_decay weight_decay_1 no_augmentation next_validation no_residual mean_curve_residual seeds_3})
for seed in "${seeds[@]}"; do
  [[ -d "$out/data$seed" ]] || "$bin" synth --out "$out/data$seed" --seed "$seed" >/dev/null
  for name in "${order[@]}"; do
    folder="$out/$name-$seed"
    [[ -f "$folder/summary.md" ]] && continue
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$bin" sweep --data "$out/data$seed" --out "$folder" --force "${common[@]}" ${config[$name]} \
      >"$folder.log" 2>&1
    end=$(date +%s.%N)
    printf '%s seed %s: %.1f s\n' "$name" "$seed" "$(echo "$end - $start" | bc)" | tee -a "$out/times.txt"
  done
done
python3 benchmarks/recipe_table.py "$out" >"$out/table.md"
cat "$out/table.md"
