#!/usr/bin/env bash
# Routing quality on disjoint splits of the development data in ../shared/data (read at run time, nothing copied).
# Every figure is reported on rows that nothing was fitted or tuned on:
#   CLINC150  references: N per intent from train.jsonl (seeded draw); fit (threshold/min_margin): the even lines of
#             val.jsonl + oos_train.jsonl; report: the odd lines of val.jsonl + oos_val.jsonl.
#   task mix  references: 20 per label from task_type_mix_dev.jsonl (seeded); the other rows, odd lines (tune: even).
#             5 folds of those report rows (seeded, stratified by label): references 20 per label + the tune lines + the
#             other 4 folds, each fold scored with the built-in calibration; pooled over the folds.
#   Banking77 references: 10 per label from train.jsonl (seeded); report: up to 30 other rows per label.
#             All train: every row but 30 per label (seeded); tune (epoch budget): odd lines of those 30, report: even.
#   none file CLINC150 oos_train.jsonl as the folder's none category; report as above (oos_train is then not fitted on).
#   MMLU-Pro  references: 10 of the 15 exemplars per domain (seeded); report: the other 5 (3 seeds).
# Usage: scripts/eval-routing.sh [data dir (default ../shared/data)] [work dir (default a new temp dir)]
set -euo pipefail
D=${1:-../shared/data}
W=${2:-$(mktemp -d)}
S="node --import tsx src/cli.ts"
C="--cache-dir $W/embeddings"
mkdir -p "$W"
awk 'NR%2==1' "$D/clinc150/val.jsonl" | cat - "$D/clinc150/oos_train.jsonl" > "$W/clinc-fit.jsonl"
awk 'NR%2==0' "$D/clinc150/val.jsonl" | cat - "$D/clinc150/oos_val.jsonl" > "$W/clinc-report.jsonl"
for n in 10 100; do
  echo "== CLINC150, $n references per intent"
  $S build-refs --data "$D/clinc150/train.jsonl" --per-label $n --seed 1 --out "$W/clinc-$n"
  echo "-- built-in defaults (no fit)"; $S eval --refs "$W/clinc-$n" --data "$W/clinc-report.jsonl" $C | sed -n 2,3p
  $S fit --refs "$W/clinc-$n" --data "$W/clinc-fit.jsonl" $C | head -2
  echo "-- fitted on the fit split"; $S eval --refs "$W/clinc-$n" --data "$W/clinc-report.jsonl" $C | sed -n 2,3p
done
echo "== CLINC150, 10 references per intent + a none file (oos_train, 100 rows)"
cp -r "$W/clinc-10" "$W/clinc-10-none"; rm -f "$W/clinc-10-none/_settings.yaml"
$S build-refs --data "$D/clinc150/oos_train.jsonl" --per-label all --none --out "$W/clinc-10-none"
echo "-- built-in defaults (no fit)"; $S eval --refs "$W/clinc-10-none" --data "$W/clinc-report.jsonl" $C | sed -n 2,3p
echo "-- calibration off"; $S eval --refs "$W/clinc-10-none" --data "$W/clinc-report.jsonl" --calibration false $C | sed -n 2,3p
echo "== shipped example folders (scripts/build-example-refs.sh), on the rows they were not built from"
scripts/build-example-refs.sh "$D" "$W/examples" > /dev/null
echo "-- task-types"; $S eval --refs reference-prompts/examples/task-types --data "$W/examples/task-types-eval.jsonl" $C | sed -n 2p
echo "-- task-types, CLINC150 oos_val"; $S eval --refs reference-prompts/examples/task-types --data "$D/clinc150/oos_val.jsonl" $C | sed -n 3p
cp -r reference-prompts/examples/task-types "$W/tasks-none"
$S build-refs --data "$D/clinc150/oos_train.jsonl" --per-label all --none --out "$W/tasks-none"
echo "-- task-types + none (CLINC150 oos_train)"; $S eval --refs "$W/tasks-none" --data "$W/examples/task-types-eval.jsonl" $C | sed -n 2p
echo "-- task-types + none, CLINC150 oos_val"; $S eval --refs "$W/tasks-none" --data "$D/clinc150/oos_val.jsonl" $C | sed -n 3p
echo "== task-type mix, 20 references per label"
$S build-refs --data "$D/prompts/task_type_mix_dev.jsonl" --per-label 20 --seed 1 --out "$W/tasks" --rest "$W/tasks-rest.jsonl"
awk 'NR%2==1' "$W/tasks-rest.jsonl" > "$W/tasks-tune.jsonl"; awk 'NR%2==0' "$W/tasks-rest.jsonl" > "$W/tasks-report.jsonl"
for q in 0.05 0.02; do echo "-- tune split, calibration quantile $q"; $S eval --refs "$W/tasks" --data "$W/tasks-tune.jsonl" --calibration-quantile $q $C | sed -n 2p; done
echo "-- report split, defaults"; $S eval --refs "$W/tasks" --data "$W/tasks-report.jsonl" $C | sed -n 2p
echo "-- report split, no calibration"; $S eval --refs "$W/tasks" --data "$W/tasks-report.jsonl" --calibration false $C | sed -n 2p
echo "== task-type mix, 5 folds over the same report split; references: the 20 per label + the tune split + the other 4 folds"
# The 20 references per label as rows: the same seeded draw with --skip 20 --per-label all leaves exactly them as --rest.
$S build-refs --data "$D/prompts/task_type_mix_dev.jsonl" --per-label all --skip 20 --seed 1 --out "$W/tasks-unused" --rest "$W/tasks-refs.jsonl" > /dev/null
# Folds: each label's report rows shuffled (seed 1; a --skip past every row leaves them all as --rest, grouped by label),
# then dealt round-robin, so every fold holds a fifth of each label (stratified).
$S build-refs --data "$W/tasks-report.jsonl" --per-label all --skip 1000000 --seed 1 --out "$W/tasks-unused" --rest "$W/tasks-report-shuffled.jsonl" > /dev/null
rm -f "$W"/tasks-fold-*.jsonl
awk -v w="$W" '{ print > (w "/tasks-fold-" ((NR - 1) % 5 + 1) ".jsonl") }' "$W/tasks-report-shuffled.jsonl"
for f in 1 2 3 4 5; do
  others=$(for g in 1 2 3 4 5; do [ "$g" = "$f" ] || printf ',%s' "$W/tasks-fold-$g.jsonl"; done)
  rm -rf "$W/tasks-kfold-$f"
  $S build-refs --data "$W/tasks-refs.jsonl,$W/tasks-tune.jsonl$others" --per-label all --out "$W/tasks-kfold-$f" > /dev/null
  $S eval --refs "$W/tasks-kfold-$f" --data "$W/tasks-fold-$f.jsonl" --json $C > "$W/tasks-kfold-$f.json"
done
# Pooled over the folds (every report row scored once, by the fold that held it out), and the spread between folds.
node -e '
const folds = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f, "utf8")));
const pct = (a, b) => `${(100 * a / b).toFixed(1)}%`;
const sum = (k) => folds.reduce((s, r) => s + r[k], 0);
folds.forEach((r, i) => console.log(`-- fold ${i + 1}: ${r.inScope} rows, ${pct(r.inScopeCorrect, r.inScope)} with rejection, top-1 ${pct(r.topCorrect, r.inScope)}`));
const span = (k) => folds.map((r) => r[k] / r.inScope).sort((a, b) => a - b);
const [rej, top] = [span("inScopeCorrect"), span("topCorrect")];
console.log(`pooled: ${sum("inScope")} rows, in-scope accuracy with rejection ${pct(sum("inScopeCorrect"), sum("inScope"))}, top-1 ${pct(sum("topCorrect"), sum("inScope"))}` +
  `; per fold ${pct(rej[0], 1)}-${pct(rej[4], 1)} with rejection, top-1 ${pct(top[0], 1)}-${pct(top[4], 1)}`);
' "$W"/tasks-kfold-[1-5].json
echo "== Banking77, 10 references per label"
$S build-refs --data "$D/banking77/train.jsonl" --per-label 10 --seed 1 --out "$W/bank-10" --rest "$W/bank-rest.jsonl" --rest-per-label 30
$S eval --refs "$W/bank-10" --data "$W/bank-rest.jsonl" $C | sed -n 2p
echo "== Banking77, all train rows but 30 per label (seeded) as references; tune: odd lines of those 30, report: even lines"
$S build-refs --data "$D/banking77/train.jsonl" --per-label all --skip 30 --seed 1 --out "$W/bank-all" --rest "$W/bank-held.jsonl" --rest-per-label 30
awk 'NR%2==1' "$W/bank-held.jsonl" > "$W/bank-tune.jsonl"; awk 'NR%2==0' "$W/bank-held.jsonl" > "$W/bank-report.jsonl"
$S eval --refs "$W/bank-all" --data "$W/bank-report.jsonl" $C | sed -n 2p
echo "== CLINC150, 100 references per intent + a none file (oos_train), built-in defaults"
cp -r "$W/clinc-100" "$W/clinc-100-none"; rm -f "$W/clinc-100-none/_settings.yaml"
$S build-refs --data "$D/clinc150/oos_train.jsonl" --per-label all --none --out "$W/clinc-100-none"
$S eval --refs "$W/clinc-100-none" --data "$W/clinc-report.jsonl" $C | sed -n 2,3p
echo "== MMLU-Pro domains: 10 of the 15 exemplars per domain as references, the other 5 scored (three seeds)"
for seed in 1 2 3; do
  $S build-refs --data "$D/prompts/mmlu_pro_sr_exemplars.jsonl" --per-label 10 --seed $seed --out "$W/mmlu-$seed" --rest "$W/mmlu-$seed-rest.jsonl"
  $S eval --refs "$W/mmlu-$seed" --data "$W/mmlu-$seed-rest.jsonl" $C | sed -n 2p
done
