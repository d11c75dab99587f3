/**
 * Quality evaluations run by the suite through the product's own CLI subcommands, each in a child process
 * (`node dist/src/cli.js <command> ... --json`; from sources under tsx when the bench runs from sources):
 *  - intent classification (`switchyard eval`) on CLINC150 with 10 and with 100 reference prompts per intent (references
 *    built by `switchyard build-refs` from clinc150/train.jsonl; thresholds fitted by `switchyard fit` on the even lines of
 *    val.jsonl, oos_train.jsonl and oos_val.jsonl; scored on the odd lines of the same three files, "none" rows must be
 *    rejected: no scored row was fitted on, and both halves draw their out-of-scope rows from both files) and on Banking77
 *    (train.jsonl split per label: the first 10 distinct texts become the references, the rest is held back; its odd lines
 *    are the tuning split of scripts/fit-constants.ts, its even lines are scored);
 *  - semantic cache precision and recall on the QQP balanced 10k and hard 2k pair files, out of sample: the fit / tune /
 *    report rotation of `switchyard cache-eval --fit` (bench/load/cache-evals.ts);
 *  - PII and jailbreak detection (`switchyard safety-eval`).
 * Inputs derived from the data (reference folders, concatenated or split labelled files) go to a temporary folder that is
 * removed afterwards. Quick mode scores subsets (every 3rd odd-line CLINC150 validation row, every 5th scored Banking77 row,
 * the first 1,000 pairs, 150 prompts per safety set) and keeps an embedding cache in the system temp folder so repeated
 * quick runs do not embed the same reference prompts again; full runs score everything with the embedding cache off
 * unless SWITCHYARD_BENCH_EMBEDDING_CACHE names one.
 * Every command is bounded by a timeout; a section is skipped with a message when its data files are absent.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalReport } from '../../src/semantic/evaluate.js';
import { cacheEval } from './cache-evals.js';
import { embeddingCache, variantArgs, variantSuffix, type Variant } from './eval-variant.js';
import { cliScript, repoRoot } from './processes.js';

export type EvalKind = 'intent' | 'cache' | 'safety';

/** What a section's run needs: the data folder, a scratch folder shared by the sections of one suite run, the mode. */
export interface EvalContext {
  dataDir: string;
  workDir: string;
  quick: boolean;
  log: (line: string) => void;
  /** Prepared inputs shared between sections (e.g. the CLINC150 scoring file), keyed by name. */
  memo: Map<string, Promise<unknown>>;
}

export interface EvalSection {
  status: 'ok' | 'skipped' | 'failed';
  message?: string;
  seconds?: number;
  numbers?: unknown;
}

export interface EvalDef {
  section: string;
  kind: EvalKind;
  command: string;
  /** Data files (relative to the data folder) the section needs; absent ones skip it. */
  needs: string[];
  /** Builds the command's arguments (after the command name) and the setup facts to report next to its numbers. */
  prepare(ctx: EvalContext): Promise<{ args: string[]; setup: Record<string, unknown> }>;
  /** Keeps the numbers worth reporting from the command's JSON. */
  summarise?(json: Record<string, unknown>): Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------------------------
// Child processes

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runCli(args: string[], timeoutMs: number): Promise<Outcome> {
  const fromSource = cliScript().endsWith('.ts');
  const proc = spawn(process.execPath, [...(fromSource ? process.execArgv : []), cliScript(), ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill('SIGTERM');
    killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  }, timeoutMs);
  return new Promise((resolve) => proc.once('close', (code) => {
    clearTimeout(timer);
    clearTimeout(killer);
    resolve({ code, stdout, stderr, timedOut });
  }));
}

/** The command's JSON report: the whole stdout, else the last line that parses as an object. */
function lastJson(text: string): Record<string, unknown> | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : undefined;
  } catch {
    for (const line of text.trim().split('\n').reverse()) {
      if (!line.trim().startsWith('{')) continue;
      try {
        const v: unknown = JSON.parse(line);
        if (isObject(v)) return v;
      } catch {
        // keep looking
      }
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------------------
// Data preparation

interface Labelled {
  text: string;
  label: string;
}

async function readJsonl<T>(file: string): Promise<T[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

async function writeJsonl(file: string, rows: unknown[]): Promise<void> {
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** Every n-th row (n = 1 keeps all): a deterministic subset that keeps the file's label mix. */
const everyNth = <T>(rows: T[], n: number): T[] => (n <= 1 ? rows : rows.filter((_, i) => i % n === 0));

/** Runs once per suite run and key; later sections reuse the result. */
function memo<T>(ctx: EvalContext, key: string, make: () => Promise<T>): Promise<T> {
  let p = ctx.memo.get(key) as Promise<T> | undefined;
  if (p === undefined) {
    p = make();
    ctx.memo.set(key, p);
  }
  return p;
}

/** `switchyard build-refs` into the scratch folder; returns the folder. */
async function buildRefs(ctx: EvalContext, name: string, data: string, perLabel: number): Promise<string> {
  return memo(ctx, `refs:${name}`, async () => {
    const out = join(ctx.workDir, name);
    const args = ['build-refs', '--data', data, '--per-label', String(perLabel), '--out', out];
    ctx.log(`running switchyard ${args.join(' ')}`);
    const res = await runCli(args, 120_000);
    if (res.timedOut) throw new Error(`switchyard build-refs timed out after 120 s`);
    if (res.code !== 0) throw new Error(`switchyard build-refs exited ${res.code}: ${res.stderr.trim().slice(-300)}`);
    return out;
  });
}

/** Rows of a JSONL file at even (0, 2, …) or odd (1, 3, …) positions. */
async function half(file: string, parity: 0 | 1): Promise<Labelled[]> {
  return (await readJsonl<Labelled>(file)).filter((_, i) => i % 2 === parity);
}

/**
 * CLINC150 scoring file: the odd lines of val.jsonl (every 3rd of them in quick mode) followed by the odd lines of
 * oos_train.jsonl and oos_val.jsonl. The even lines of the three files are the fitting file (clincFitting), so no scored
 * row is fitted on. Each half takes its out-of-scope rows from both files: at the same threshold oos_val.jsonl is rejected
 * about 10 points more often than oos_train.jsonl, so a fit on one file and a report on the other measure two different
 * populations and their recalls do not agree.
 */
function clincScoring(ctx: EvalContext): Promise<{ file: string; inScope: number; outOfScope: number; subset: string }> {
  return memo(ctx, 'clinc-scoring', async () => {
    const step = ctx.quick ? 3 : 1;
    const dir = join(ctx.dataDir, 'clinc150');
    const val = everyNth(await half(join(dir, 'val.jsonl'), 1), step);
    const oos = [...(await half(join(dir, 'oos_train.jsonl'), 1)), ...(await half(join(dir, 'oos_val.jsonl'), 1))];
    const file = join(ctx.workDir, 'clinc150-report-odd-lines.jsonl');
    await writeJsonl(file, [...val, ...oos].map((r) => ({ text: r.text, label: r.label })));
    return { file, inScope: val.length, outOfScope: oos.length, subset: step === 1 ? 'the odd lines of val.jsonl' : `every ${step}rd odd line of val.jsonl` };
  });
}

/** CLINC150 fitting file: the even lines of val.jsonl, oos_train.jsonl and oos_val.jsonl (the thresholds' data, never scored). */
function clincFitting(ctx: EvalContext): Promise<string> {
  return memo(ctx, 'clinc-fitting', async () => {
    const dir = join(ctx.dataDir, 'clinc150');
    const rows = [...(await half(join(dir, 'val.jsonl'), 0)), ...(await half(join(dir, 'oos_train.jsonl'), 0)), ...(await half(join(dir, 'oos_val.jsonl'), 0))];
    const file = join(ctx.workDir, 'clinc150-fit-even-lines.jsonl');
    await writeJsonl(file, rows.map((r) => ({ text: r.text, label: r.label })));
    return file;
  });
}

/** `switchyard fit` of a reference folder on the fitting file (thresholds written into the folder); returns its summary line. */
async function fitRefs(ctx: EvalContext, refs: string, data: string, variant: Variant): Promise<string> {
  return memo(ctx, `fit:${refs}`, async () => {
    const args = ['fit', '--refs', refs, '--data', data, '--cache-dir', embeddingCache(ctx.quick), ...variantArgs(variant)];
    ctx.log(`running switchyard ${args.join(' ')}`);
    const res = await runCli(args, ctx.quick ? 240_000 : 1_200_000);
    if (res.timedOut) throw new Error('switchyard fit timed out');
    if (res.code !== 0) throw new Error(`switchyard fit exited ${res.code}: ${res.stderr.trim().slice(-300)}`);
    return res.stdout.trim().split('\n').slice(0, 3).join('; ');
  });
}

/** The out-of-fold out-of-scope recall `switchyard fit` printed (a fraction), or null when it printed none. */
export function outOfFoldRecall(fitOutput: string): number | null {
  const m = /out of fold[^;]*out-of-scope recall ([\d.]+)%/.exec(fitOutput);
  return m ? Number(m[1]) / 100 : null;
}

const BANKING_REFS_PER_LABEL = 10;

/**
 * Banking77 split: per label, the first 10 distinct texts of train.jsonl (file order) become the reference source; every
 * other row whose text is not one of that label's references is held back. The held-back rows at odd positions are the
 * tuning split scripts/fit-constants.ts chooses the head's constants on; those at even positions are scored (every 5th
 * of them in quick mode).
 */
function bankingSplit(ctx: EvalContext): Promise<{ refsSource: string; scoring: string; labels: number; heldBack: number; scored: number }> {
  return memo(ctx, 'banking-split', async () => {
    const rows = await readJsonl<Labelled>(join(ctx.dataDir, 'banking77', 'train.jsonl'));
    const refs = new Map<string, Set<string>>();
    const refRows: Labelled[] = [];
    const held: Labelled[] = [];
    for (const r of rows) {
      const text = r.text.trim();
      let set = refs.get(r.label);
      if (set === undefined) refs.set(r.label, (set = new Set()));
      if (set.has(text) || text === '') continue;
      if (set.size < BANKING_REFS_PER_LABEL) {
        set.add(text);
        refRows.push({ text, label: r.label });
      } else {
        held.push({ text, label: r.label });
      }
    }
    const scored = everyNth(held.filter((_, i) => i % 2 === 0), ctx.quick ? 5 : 1);
    const refsSource = join(ctx.workDir, 'banking77-refs-source.jsonl');
    const scoring = join(ctx.workDir, 'banking77-held-back.jsonl');
    await writeJsonl(refsSource, refRows);
    await writeJsonl(scoring, scored);
    return { refsSource, scoring, labels: refs.size, heldBack: held.length, scored: scored.length };
  });
}

// ---------------------------------------------------------------------------------------------------------------------------
// Summaries

/** What `switchyard eval --json` prints: the evaluation report, with the fields older reports may lack made optional. */
type IntentReport = Pick<EvalReport, 'rows' | 'inScope' | 'outOfScope' | 'inScopeAccuracy' | 'oosRecall' | 'topAccuracy'> &
  Partial<Pick<EvalReport, 'perCategory' | 'confused'>> & { latency?: Record<string, number>; embedder?: string; method?: string };

const f1 = (p: number, r: number): number => (p + r > 0 ? (2 * p * r) / (p + r) : 0);
const r4 = (x: number): number => Number(x.toFixed(4));

function summariseIntent(json: Record<string, unknown>): Record<string, unknown> {
  const r = json as unknown as IntentReport;
  const cats = (r.perCategory ?? []).filter((c) => c.support > 0);
  const macro = (f: (c: { precision: number; recall: number }) => number): number => (cats.length ? r4(cats.reduce((s, c) => s + f(c), 0) / cats.length) : 0);
  return {
    rows: r.rows,
    in_scope_rows: r.inScope,
    out_of_scope_rows: r.outOfScope,
    in_scope_accuracy: r4(r.inScopeAccuracy),
    top1_accuracy_no_rejection: r4(r.topAccuracy),
    oos_recall: r.outOfScope > 0 ? r4(r.oosRecall) : null,
    macro_precision: macro((c) => c.precision),
    macro_recall: macro((c) => c.recall),
    macro_f1: macro((c) => f1(c.precision, c.recall)),
    lowest_f1: [...cats]
      .sort((a, b) => f1(a.precision, a.recall) - f1(b.precision, b.recall))
      .slice(0, 5)
      .map((c) => ({ intent: c.intent, precision: r4(c.precision), recall: r4(c.recall), support: c.support })),
    most_confused: (r.confused ?? []).slice(0, 5),
    latency: Object.fromEntries(Object.entries(r.latency ?? {}).map(([k, v]) => [k, Number(v.toFixed(3))])),
    embedder: r.embedder,
    method: r.method,
  };
}

function intentEval(section: string, setupOf: (ctx: EvalContext) => Promise<{ refs: string; data: string; setup: Record<string, unknown> }>, needs: string[], variant: Variant = 'default'): EvalDef {
  return {
    section,
    kind: 'intent',
    command: 'eval',
    needs,
    async prepare(ctx) {
      const { refs, data, setup } = await setupOf(ctx);
      const cache = embeddingCache(ctx.quick);
      return {
        args: ['--refs', refs, '--data', data, '--cache-dir', cache, ...variantArgs(variant), '--json'],
        setup: { ...setup, ...(variant === 'float32' ? { embedder_variant: 'float32 (--quantized false)' } : {}), embedding_cache: cache === '' ? 'off' : cache },
      };
    },
    summarise: summariseIntent,
  };
}

function clincEval(perIntent: number, variant: Variant = 'default'): EvalDef {
  return intentEval(`eval_clinc150_${perIntent}${variantSuffix(variant)}`, async (ctx) => {
    // Each variant gets its own folder: `fit` writes the thresholds fitted with that variant's vectors into it.
    const refs = await buildRefs(ctx, `clinc150-refs-${perIntent}${variantSuffix(variant)}`, join(ctx.dataDir, 'clinc150', 'train.jsonl'), perIntent);
    const fitted = await fitRefs(ctx, refs, await clincFitting(ctx), variant);
    const scoring = await clincScoring(ctx);
    return {
      refs,
      data: scoring.file,
      setup: {
        dataset: 'CLINC150',
        references: `first ${perIntent} distinct texts per intent of clinc150/train.jsonl (150 intents, ${150 * perIntent} prompts)`,
        refs_per_label: perIntent,
        thresholds: `switchyard fit on the even lines of val.jsonl, oos_train.jsonl and oos_val.jsonl: ${fitted}`,
        // The fit's out-of-fold out-of-scope recall (what the fit expects unseen rows to get), beside the scored figure.
        fit_oos_recall_out_of_fold: outOfFoldRecall(fitted),
        scored: `${scoring.subset} (${scoring.inScope} rows) + the odd lines of oos_train.jsonl and oos_val.jsonl (${scoring.outOfScope} rows, label none)`,
      },
    };
  }, ['clinc150/train.jsonl', 'clinc150/val.jsonl', 'clinc150/oos_val.jsonl', 'clinc150/oos_train.jsonl'], variant);
}

export const EVALS: EvalDef[] = [
  clincEval(10),
  clincEval(100),
  intentEval('eval_banking77', async (ctx) => {
    const split = await bankingSplit(ctx);
    const refs = await buildRefs(ctx, 'banking77-refs', split.refsSource, BANKING_REFS_PER_LABEL);
    return {
      refs,
      data: split.scoring,
      setup: {
        dataset: 'Banking77',
        references: `first ${BANKING_REFS_PER_LABEL} distinct texts per label of banking77/train.jsonl (${split.labels} labels)`,
        refs_per_label: BANKING_REFS_PER_LABEL,
        scored: `${ctx.quick ? 'every 5th of ' : ''}the even lines of the held-back rest of train.jsonl (${split.scored} of ${split.heldBack} rows; the odd lines tuned the head's constants; no out-of-scope class)`,
      },
    };
  }, ['banking77/train.jsonl']),
  cacheEval(),
  // The float model the default int8 variant approximates, on the same rows: the quality side of the int8 comparison.
  clincEval(10, 'float32'),
  cacheEval('float32'),
  {
    section: 'safety_eval',
    kind: 'safety',
    command: 'safety-eval',
    needs: ['prompts'],
    async prepare(ctx) {
      const limit = ctx.quick ? 150 : 400;
      return {
        args: ['--data', ctx.dataDir, '--examples', join(repoRoot(), 'reference-prompts', 'jailbreak.yaml'), '--limit', String(limit), '--json'],
        setup: { dataset: 'the shared prompt sets with synthetic PII inserted; jailbreak examples from reference-prompts/jailbreak.yaml', prompts_per_file: limit },
      };
    },
  },
];

/** Runs one evaluation section: checks its data and command, prepares its inputs, runs the command with a time bound. */
export async function runEval(def: EvalDef, ctx: EvalContext): Promise<EvalSection> {
  const missing = def.needs.filter((f) => !existsSync(join(ctx.dataDir, f)));
  if (missing.length > 0) return { status: 'skipped', message: `evaluation data not found: ${missing.map((f) => join(ctx.dataDir, f)).join(', ')}` };
  const compiled = cliScript().endsWith('.ts') ? join(repoRoot(), 'src', 'commands', `${def.command}.ts`) : join(repoRoot(), 'dist', 'src', 'commands', `${def.command}.js`);
  if (!existsSync(compiled)) return { status: 'skipped', message: `the '${def.command}' command is not present (${compiled})` };
  await mkdir(ctx.workDir, { recursive: true });
  const t0 = performance.now();
  const { args, setup } = await def.prepare(ctx);
  const full = [def.command, ...args];
  const timeoutMs = ctx.quick ? 240_000 : 1_200_000;
  ctx.log(`running switchyard ${full.join(' ')}`);
  const out = await runCli(full, timeoutMs);
  const seconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  if (out.timedOut) return { status: 'failed', message: `'switchyard ${def.command}' did not finish within ${timeoutMs / 1000} s; stopped`, seconds };
  if (out.code !== 0) return { status: 'failed', message: `'switchyard ${def.command}' exited ${out.code}: ${out.stderr.trim().slice(-400)}`, seconds };
  const json = lastJson(out.stdout);
  if (json === undefined) return { status: 'failed', message: `'switchyard ${def.command}' printed no JSON report: ${out.stdout.trim().slice(-300)}`, seconds };
  return { status: 'ok', seconds, numbers: { setup, command: `switchyard ${full.join(' ')}`.replaceAll(ctx.workDir, '<tmp>').replaceAll(`${ctx.dataDir}/`, '<data>/').replaceAll(ctx.dataDir, '<data>').replaceAll(`${repoRoot()}/`, ''), ...(def.summarise ? def.summarise(json) : json) } };
}
