#!/usr/bin/env bash
# Builds the shipped example reference-prompt folders from the development data in ../shared/data (seeded, repeatable),
# and the disjoint rows their figures in docs/reference-prompts.md are scored on.
#   task-types/       code (MBPP), math (GSM8K), knowledge_qa (MMLU), chit_chat (CLINC150 small talk): 20 per label from
#                     prompts/task_type_mix_dev.jsonl; creative_writing: 20 of the MT-Bench and Vicuna writing and roleplay
#                     prompts; customer_support: 20 Banking77 questions. Every other row of those sources is the eval set.
#   academic-domains/ the 15 MMLU-Pro exemplars of each of 14 domains (prompts/mmlu_pro_sr_exemplars.jsonl); scored by
#                     three 10-reference / 5-scored splits (scripts/eval-routing.sh), as the folder has no other rows.
# Usage: scripts/build-example-refs.sh [data dir (default ../shared/data)] [work dir (default a new temp dir)]
set -euo pipefail
D=${1:-../shared/data}
W=${2:-$(mktemp -d)}
S="node --import tsx src/cli.ts"
OUT=reference-prompts/examples
mkdir -p "$W"
# One labelled file of every task-type source: the mix minus its 12 creative rows (the writing/roleplay prompts below
# include them), writing and roleplay prompts as creative_writing, Banking77 as customer_support.
node -e '
const fs = require("fs");
const [d, out] = process.argv.slice(1);
const rows = (f) => fs.readFileSync(`${d}/${f}`, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const lines = [];
for (const r of rows("prompts/task_type_mix_dev.jsonl")) if (r.label !== "creative_writing") lines.push({ text: r.text, label: r.label });
for (const f of ["prompts/mt_bench.jsonl", "prompts/vicuna_bench.jsonl"])
  for (const r of rows(f)) if (r.label === "writing" || r.label === "roleplay") lines.push({ text: r.text, label: "creative_writing" });
for (const r of rows("banking77/train.jsonl")) lines.push({ text: r.text, label: "customer_support" });
fs.writeFileSync(out, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
' "$D" "$W/task-sources.jsonl"
rm -rf "$OUT/task-types/"*.yaml "$OUT/academic-domains/"*.yaml
$S build-refs --data "$W/task-sources.jsonl" --per-label 20 --seed 1 --out "$OUT/task-types" --rest "$W/task-types-eval.jsonl" --rest-per-label 100
$S build-refs --data "$D/prompts/mmlu_pro_sr_exemplars.jsonl" --per-label all --out "$OUT/academic-domains"
# Descriptions name the source, not this machine's paths.
sed -i -E "s#^description: Label '([^']*)' from .*#description: Label '\1' of the development data (see README.md)#" "$OUT"/*/*.yaml
echo "eval rows (disjoint from task-types/): $W/task-types-eval.jsonl"
