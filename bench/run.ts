/**
 * `npm run bench`: runs the benchmark sections — proxy overhead, then each area's bench module that exists (semantic, rules,
 * cache, governance, providers, observability, safety, cascade), then the quality evaluations through the CLI's own commands
 * (`eval` on CLINC150 and Banking77, `cache-eval` on QQP pairs, `safety-eval`) when the evaluation data is present — writes
 * bench/results/latest.json and regenerates docs/benchmarks.md.
 *   node dist/bench/run.js [--quick] [--only <section>] [--data <dir>] [--profile] [--no-docs]
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseFlags } from '../src/commands/flags.js';
import { runEval, EVALS } from './load/evals.js';
import { repoRoot } from './load/processes.js';
import { benchOverload } from './overload.js';
import { benchProxy, proxyTiming } from './proxy.js';
import { renderReport, type BenchResults, type CpuCostResults, type SectionResult } from './report.js';

const HELP = `Usage: node dist/bench/run.js [options]   (npm run bench -- [options])

Runs the benchmark suite, writes bench/results/latest.json and regenerates docs/benchmarks.md.

Options:
  --quick            shorter proxy loads (still 3 runs each), smaller area benchmarks and evaluation subsets (a few minutes)
  --only <section>   run one section: proxy, overload, ${['semantic', 'embedder', 'rules', 'cache', 'governance', 'providers', 'observability', 'safety', 'cascade', ...EVALS.map((e) => e.section)].join(', ')}
                     (the other sections keep their previous results)
  --data <dir>       evaluation data (default: ../shared/data beside the repository)
  --profile          always CPU-profile Switchyard under load (default: only when a proxy target fails)
  --no-docs          do not regenerate docs/benchmarks.md
  -h, --help         this text`;

/** The cache section builds two 100k-entry indexes in either mode (and a third, for memory, in a child process) and may first embed real texts for up to 120 s. */
const CACHE_TIMEOUT_S = 600;
/** The embedder section loads four sessions and embeds each setting in alternating rounds; slow on a loaded machine. */
const EMBEDDER_TIMEOUT_S = 600;
const AREA_SECTIONS = ['semantic', 'embedder', 'rules', 'cache', 'governance', 'providers', 'observability', 'safety', 'cascade'];

/**
 * The argument each area's bench function gets: the evaluation data folder where it reads data, and smaller sizes in quick
 * mode (the full sizes are the modules' defaults). Areas not listed are called without arguments.
 */
function areaArgument(name: string, quick: boolean, dataDir: string): unknown {
  switch (name) {
    case 'semantic':
      return quick ? { dataDir, hnswSizes: [10_000], startupPrompts: 1500, sweepTexts: 300 } : { dataDir };
    case 'embedder':
      return quick ? { dataDir, rounds: 3, textsPerRound: 60 } : { dataDir };
    case 'cache':
      // The lookup target is stated at 100k entries, so quick mode keeps that size and shortens the query count instead.
      return quick ? { entries: 100_000, queries: 500, dataDir } : { dataDir };
    case 'providers':
      return quick ? { requests: 1000 } : {};
    case 'observability':
      return quick ? { requests: 50_000 } : {};
    case 'safety':
    case 'cascade':
      return dataDir;
    default:
      return undefined;
  }
}
const here = dirname(fileURLToPath(import.meta.url));
const ext = fileURLToPath(import.meta.url).endsWith('.ts') ? '.ts' : '.js';

function machine(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpu_model: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memory_gb: Number((totalmem() / 2 ** 30).toFixed(1)),
    free_memory_gb: Number((freemem() / 2 ** 30).toFixed(1)),
    node: process.version,
    os: `${osType()} ${release()} ${process.arch}`,
    load_average_at_start: loadavg().map((x) => Number(x.toFixed(2))),
  };
}

/** The function an area's bench module exports: its default export, else its first exported function. */
type BenchFn = (arg?: unknown) => Promise<unknown>;
function benchFunction(mod: Record<string, unknown>): BenchFn | undefined {
  if (typeof mod.default === 'function') return mod.default as BenchFn;
  const fn = Object.values(mod).find((v) => typeof v === 'function');
  return fn as BenchFn | undefined;
}

/** Rejects after `ms` so one slow section cannot hold up the suite (its work is abandoned; the runner exits at the end). */
function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s; abandoned`)), ms);
    timer.unref();
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

async function runArea(name: string, timeoutMs: number, arg: unknown): Promise<SectionResult> {
  const file = join(here, `${name}${ext}`);
  if (!existsSync(file)) return { status: 'skipped', message: `bench/${name}.ts is not present` };
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const fn = benchFunction(mod);
  if (fn === undefined) return { status: 'skipped', message: `bench/${name}.ts exports no function` };
  const t0 = performance.now();
  const numbers = await bounded(arg === undefined ? fn() : fn(arg), timeoutMs, `bench/${name}.ts`);
  return { status: 'ok', seconds: Number(((performance.now() - t0) / 1000).toFixed(1)), numbers, ...(arg !== undefined ? { settings: arg } : {}) };
}

async function readPrevious(file: string): Promise<BenchResults | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as BenchResults;
  } catch {
    return undefined;
  }
}

export async function run(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    data: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  }, HELP);
  if (typeof values === 'number') return values;
  const root = repoRoot();
  const all = ['proxy', 'overload', ...AREA_SECTIONS, ...EVALS.map((e) => e.section)];
  if (values.only !== undefined && !all.includes(values.only)) {
    process.stderr.write(`--only must be one of ${all.join(', ')}, got '${values.only}'\n`);
    return 2;
  }
  const wanted = (s: string): boolean => values.only === undefined || values.only === s;
  const dataDir = resolve(root, values.data ?? join('..', 'shared', 'data'));
  const hasData = existsSync(dataDir);
  const quick = values.quick;
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  const resultsFile = join(root, 'bench', 'results', 'latest.json');
  const previous = values.only !== undefined ? await readPrevious(resultsFile) : undefined;
  // With --only, the other sections keep their previous results (sections no longer in the suite are dropped).
  const kept = Object.entries(previous?.sections ?? {}).filter(([name]) => all.includes(name));
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: machine(),
    settings: {
      quick,
      only: values.only ?? null,
      data: hasData ? dataDir : null,
      command: `node dist/bench/run.js ${argv.join(' ')}`.trim(),
      proxy: proxyTiming(quick),
      area_timeout_s: quick ? 120 : 300,
      cache_timeout_s: CACHE_TIMEOUT_S,
      eval_timeout_s: quick ? 240 : 1200,
    },
    sections: Object.fromEntries(kept),
  };
  const t0 = performance.now();
  const record = async (name: string, fn: () => Promise<SectionResult>): Promise<void> => {
    if (!wanted(name)) return;
    log(`== ${name}`);
    try {
      results.sections[name] = { ...(await fn()), date: new Date().toISOString() };
    } catch (err) {
      log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
      results.sections[name] = { status: 'failed', message: (err as Error).message, date: new Date().toISOString() };
    }
    const s = results.sections[name];
    if (s.status !== 'ok') log(`${name}: ${s.status}${s.message ? ` (${s.message})` : ''}`);
  };

  await record('proxy', async () => {
    const started = performance.now();
    const numbers = await benchProxy({ quick, dataDir: hasData ? dataDir : undefined, profile: values.profile ? 'always' : 'on-fail', log });
    return { status: 'ok', seconds: Number(((performance.now() - started) / 1000).toFixed(1)), numbers };
  });
  await record('overload', async () => {
    const started = performance.now();
    const numbers = await benchOverload({ quick, dataDir: hasData ? dataDir : undefined, log });
    return { status: 'ok', seconds: Number(((performance.now() - started) / 1000).toFixed(1)), numbers };
  });
  // The cache section builds 100k-entry indexes even in quick mode (and embeds the real workload once, then reads it from disk).
  const areaTimeout = (name: string): number => 1000 * (name === 'cache' ? CACHE_TIMEOUT_S : name === 'embedder' ? EMBEDDER_TIMEOUT_S : quick ? 120 : 300);
  for (const name of AREA_SECTIONS) await record(name, () => runArea(name, areaTimeout(name), areaArgument(name, quick, dataDir)));
  const workDir = await mkdtemp(join(tmpdir(), 'switchyard-bench-eval-'));
  try {
    const ctx = { dataDir, workDir, quick, log, memo: new Map<string, Promise<unknown>>() };
    for (const e of EVALS) {
      await record(e.section, async () => (hasData ? runEval(e, ctx) : { status: 'skipped', message: `no evaluation data at ${dataDir}` }));
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  results.total_seconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  results.machine.load_average_at_end = loadavg().map((x) => Number(x.toFixed(2)));
  results.machine.free_memory_gb_at_end = Number((freemem() / 2 ** 30).toFixed(1));

  await mkdir(dirname(resultsFile), { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${resultsFile}`);
  if (!values['no-docs']) {
    const doc = join(root, 'docs', 'benchmarks.md');
    await mkdir(dirname(doc), { recursive: true });
    // The CPU-per-request comparison runs on its own (node dist/bench/cpu-cost.js); its last result is rendered alongside.
    let cpu: CpuCostResults | undefined;
    try {
      cpu = JSON.parse(await readFile(join(root, 'bench', 'results', 'cpu-cost.json'), 'utf8')) as CpuCostResults;
    } catch {
      cpu = undefined;
    }
    await writeFile(doc, renderReport(results, cpu));
    log(`wrote ${doc}`);
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
