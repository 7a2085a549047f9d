#!/usr/bin/env bash
# The whole calibration, one command (from the repository root):
#   bash experiments/calibrate/run_all.sh [--from-scratch] [suffix]
# Stage 1 searches all free parameters at 4 replicates; stages 2-3 and 5-13 refine subsets at more
# replicates, each starting from the values the previous stage wrote into conf/; stages 11-13 score
# all eight facts with the ctrans and iexp sweeps on seed 42 (1 h 53 min from scratch on 2 cores,
# session 15; docs/ODD.md 3.7).
# A suffix (default: the date) names fresh studies, so nothing is reused from earlier runs; run it
# again with the same suffix to resume after an interruption: each stage runs its study up to its
# total of trials (a finished stage only checks and rewrites its values, about a minute).
# Stage 1 tries the current defaults first, and stages 7, 8, 10, 11 and 12 start from the points
# their sessions started from (recorded in the space files' headers); with --from-scratch none does:
# stage 1's sampler starts alone and every later stage from what the stage before wrote.
# Keys a stage does not search keep their values in conf/ (information.supervision_share, say, is
# searched by stage 7 only), and the spaces' ranges are those earlier sessions chose.
set -euo pipefail
scratch=()
if [[ "${1:-}" == "--from-scratch" ]]; then
    scratch=(--from-scratch)
    shift
fi
if (( $# > 1 )) || [[ "${1:-}" == -* ]]; then
    echo "usage: bash experiments/calibrate/run_all.sh [--from-scratch] [suffix]" >&2
    exit 2
fi
suffix="${1:-$(date +%Y%m%d%H%M)}"
py=".venv/bin/python"
calibrate="experiments/calibrate/calibrate.py"
here="experiments/calibrate"
"$py" "$calibrate" --study "all-$suffix" --total 270 --replicates 4 --write ${scratch[@]+"${scratch[@]}"}
"$py" "$calibrate" --study "refine-$suffix" --space "$here/space_refine.yaml" --total 45 --replicates 6 --write
"$py" "$calibrate" --study "vision-tech-$suffix" --space "$here/space_vision_tech.yaml" --total 30 --replicates 10 --write
# Stage 4 (space_reproduction.yaml) is retired: since issue #4 the reproduction rates are derived
# from the seed's Y10 index (conf/technology/learning.yaml) and transport_progress_es is 0 (the seed).
# Stages 5-6 (issue #4, session 9): the market's life cycle (F1) over the report's five seed
# blocks, the standard model's facts but F2; stage 6 narrows stage 5's space around its best
# trial (centred on session 9's study s9_f1, so a fresh stage 5 may want it re-centred).
"$py" "$calibrate" --study "life-cycle-$suffix" --space "$here/space_life_cycle.yaml" --facts F1,F5,F6,F7,F8 \
    --blocks 5 --total 300 --replicates 10
"$py" "$calibrate" --study "life-cycle-refine-$suffix" --space "$here/space_life_cycle_refine.yaml" \
    --facts F1,F5,F6,F7,F8 --blocks 5 --total 150 --replicates 10 --warm-start "life-cycle-$suffix" --write
# Stage 7 (issue #4, session 10): supervision that follows the CBEC channel, with F2 scored, from
# a start found by session 10's exploratory study s10_sup (docs/ODD.md 3.7; from scratch: from
# stage 6's values); the trial that holds the scored facts in most seed blocks is written, not the
# lowest-loss one.
start=(--start information.supervision_share=0.3 lifecycle.entry_rate=2.5 alpha=0.168055 context.tax=0.277369 servers.ts.vision0=14.5981 servers.es.capacity=1265.86 information.growth_es=0.138813 export_choice.switch_rate=0.0383493 commodity.demand_pass_through=1.62659 commodity.saturation=0.24117 market.growth=0.0772278 market.coverage=2.06929 market.hotspot_radius=3.4764)
if (( ${#scratch[@]} )); then
    start=()
fi
"$py" "$calibrate" --study "supervision-$suffix" --space "$here/space_f2_supervision_refine.yaml" \
    --facts F1,F2,F5,F6,F7,F8 --blocks 5 --total 650 --replicates 10 --pick facts --write ${start[@]+"${start[@]}"}
# Stages 8-10 (issue #4, session 13): the market reach's share in the price (commodity.reach_in_price),
# F1 and F2 with the standard model's other facts over the five seed blocks.
recorded_start() {  # the --start of the study command in a space file's header, unless from scratch
    if (( ! ${#scratch[@]} )); then
        echo "--start"
        sed -n 's/^# python .* --start //p' "$1" | head -n 1
    fi
}
blocks=(--facts F1,F2,F5,F6,F7,F8 --blocks 5 --replicates 10 --pick facts --write)
# shellcheck disable=SC2046  # a start is KEY=VALUE words
"$py" "$calibrate" --study "reach-$suffix" --space "$here/space_reach.yaml" --total 500 "${blocks[@]}" \
    $(recorded_start "$here/space_reach.yaml")
"$py" "$calibrate" --study "reach-refine-$suffix" --space "$here/space_reach_refine.yaml" --total 400 \
    "${blocks[@]}" --warm-start "reach-$suffix"
# shellcheck disable=SC2046
"$py" "$calibrate" --study "reach-f1-$suffix" --space "$here/space_reach_f1.yaml" --total 350 "${blocks[@]}" \
    $(recorded_start "$here/space_reach_f1.yaml")
# Stages 11-13 (session 14): all eight facts on the report's seed, F3 and F4 with their sweeps; the
# last box widens the keys of supervision and eq. 8's tax, which make F3's crossing (docs/ODD.md 3.7).
# Session 14 ran stages 12 and 13 as 400 trials each, resumed with 300 and 400, and chose among the
# last stage's trials holding all eight facts the one holding most over the seed blocks
# (block_scan.py --sweeps); --pick facts takes the lowest-loss one of them.
# shellcheck disable=SC2046
"$py" "$calibrate" --study "sweeps-$suffix" --space "$here/space_sweeps.yaml" --total 250 --replicates 10 \
    --write $(recorded_start "$here/space_sweeps.yaml")
# shellcheck disable=SC2046
"$py" "$calibrate" --study "sweeps-refine-$suffix" --space "$here/space_sweeps_refine.yaml" --total 700 \
    --replicates 10 --warm-start "sweeps-$suffix" --write $(recorded_start "$here/space_sweeps_refine.yaml")
"$py" "$calibrate" --study "sweeps-escape-$suffix" --space "$here/space_sweeps_escape.yaml" --total 800 \
    --replicates 10 --warm-start "sweeps-refine-$suffix" --pick facts --write
