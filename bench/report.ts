/**
 * Renders bench/results/latest.json as docs/benchmarks.md: machine facts and settings, a summary (proxy targets with pass/fail,
 * headline quality numbers), the side by side proxy tables, the extra Switchyard modes, the CPU profile when one was taken,
 * every area section's numbers, the quality evaluations as tables, and how to reproduce.
 */
import type { OverloadReport } from './overload.js';
import type { Aggregate, ModeResult, Overhead, ProxyReport } from './proxy.js';
import type { CpuCostReport } from './cpu-cost.js';
import type { Hotspot } from './load/profile.js';
import { arr, esc, fmt, fmtInt, num, obj, pct, range, table } from './report-format.js';
import { EVAL_ORDER, EVAL_TITLE, QUALITY_CAVEAT, evalSection, qualitySummary } from './report-quality.js';

export interface SectionResult {
  status: 'ok' | 'skipped' | 'failed';
  message?: string;
  seconds?: number;
  date?: string;
  numbers?: unknown;
  /** The argument the section's bench function was called with (sizes in quick mode, the data folder). */
  settings?: unknown;
}

export interface BenchResults {
  date: string;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  sections: Record<string, SectionResult>;
  total_seconds?: number;
}

const TARGET_LABEL: Record<string, string> = { direct: 'upstream direct', bare: 'bare node:http proxy', switchyard: 'Switchyard' };
const SECTION_TITLE: Record<string, string> = {
  semantic: 'Semantic: embedding and classification',
  rules: 'Routing rules',
  cache: 'Semantic cache',
  governance: 'Governance',
  providers: 'Provider adapters',
  observability: 'Observability: per-request recording, scrapes and the dashboard',
  safety: 'Safety signals: per-prompt detector cost',
  embedder: 'Embedder: USE-lite int8 (default) against float, side by side',
  cascade: 'Cascade routing: cost and latency',
  ...EVAL_TITLE,
};

const AREA_ORDER = ['semantic', 'embedder', 'rules', 'cache', 'governance', 'providers', 'observability', 'safety', 'cascade'];
const EVAL_SECTIONS = new Set(EVAL_ORDER);

/** Flattens nested numbers to `a.b.c` rows. */
function flatten(value: unknown, prefix = '', out: Array<[string, string]> = []): Array<[string, string]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else if (Array.isArray(value)) {
    out.push([prefix, value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')]);
  } else if (typeof value === 'number') {
    out.push([prefix, Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)))]);
  } else {
    out.push([prefix, String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ')]);
  }
  return out;
}

function proxySection(p: ProxyReport): string {
  const out: string[] = [];
  const loads = (p.settings.loads as Array<{ id: string; label: string; stream?: boolean }>) ?? [];
  out.push('### Targets\n');
  out.push(table(['target', 'measured', 'limit', 'result'], p.checks.map((c) => [c.name, `${fmt(c.value)}${c.unit ?? '×'}`, c.limit, c.pass ? '**pass**' : '**FAIL**'])));
  out.push('');
  out.push('### Side by side\n');
  out.push(`Median of ${String(p.settings.repeats)} run(s), (min–max) when they differ; ${String(p.settings.warmup_ms)} ms warm-up, then ${String(p.settings.duration_ms)} ms measured per load. Latency in ms; open-loop latency counts from the scheduled send time.\n`);
  for (const load of loads) {
    const rows = Object.entries(p.targets).map(([t, byLoad]) => {
      const a: Aggregate | undefined = byLoad[load.id];
      const row = [TARGET_LABEL[t] ?? t, range(a?.rps, 0, true), range(a?.p50_ms), range(a?.p99_ms)];
      if (load.stream) row.push(range(a?.ttfb_p50_ms), range(a?.ttfb_p99_ms));
      row.push(String(a?.errors ?? '–'));
      return row;
    });
    const head = ['target', 'req/s', 'p50', 'p99', ...(load.stream ? ['TTFB p50', 'TTFB p99'] : []), 'errors'];
    out.push(`**${load.label}**\n`);
    out.push(table(head, rows));
    out.push('');
  }
  out.push('### Added latency and relative throughput\n');
  out.push('Added latency is the target\'s latency minus the direct upstream\'s in the same run (paired), in ms.\n');
  out.push(table(
    ['load', 'bare proxy +p50', 'Switchyard +p50', 'Switchyard/bare (+p50)', 'bare proxy +p99', 'Switchyard +p99', 'Switchyard/bare req/s'],
    loads.map((l) => {
      const o: Overhead | undefined = p.overhead[l.id];
      return [l.label, range(o?.bare_added_p50_ms), range(o?.switchyard_added_p50_ms), `${fmt(o?.added_p50_ratio)}×`, range(o?.bare_added_p99_ms), range(o?.switchyard_added_p99_ms), `${fmt(o?.rps_ratio)}×`];
    }),
  ));
  out.push('');
  out.push('### Switchyard modes\n');
  out.push('Each mode runs its own gateway process: a closed-loop settle first (concurrency 16, 3 s: a fresh process serves its first thousands of requests, and its model workers their first texts, on code not yet optimised; the overload section reports that cold start), then its loads in the order shown; every load continues the unique prompts where the previous one stopped, so no prompt reaches a process twice (a repeat would be answered by the embedder\'s LRU or the cache).\n');
  const modeRows: string[][] = [];
  for (const [id, m] of Object.entries(p.modes) as Array<[string, ModeResult]>) {
    if (m.skipped !== undefined) {
      modeRows.push([m.label, '–', '–', '–', '–', `skipped: ${m.skipped.replace(/\|/g, '\\|')}`]);
      continue;
    }
    for (const [loadId, r] of Object.entries(m.loads ?? {})) {
      const label = loads.find((l) => l.id === loadId)?.label ?? loadId;
      const sem = r.semantic === undefined ? undefined : { ready: r.semantic.ready ?? 0, all: Object.values(r.semantic).reduce((a, b) => a + b, 0) };
      const embedded = sem === undefined || sem.all === 0 ? '' : `embedded in time ${fmt((100 * sem.ready) / sem.all)}% (${fmtInt((r.rps * sem.ready) / sem.all)} req/s)`;
      const note = [`+${fmt(m.added_vs_pure_p50_ms?.[loadId])} ms p50 vs pure proxy`, embedded, m.cache_hit_ratio !== undefined ? `cache hit ratio ${fmt(m.cache_hit_ratio)}` : '', r.errors > 0 ? `${r.errors} errors` : '']
        .filter((s) => s !== '').join('; ');
      modeRows.push([`${m.label} (${id})`, label, fmtInt(r.rps), fmt(r.p50_ms), fmt(r.p99_ms), note]);
    }
  }
  out.push(table(['mode', 'load', 'req/s', 'p50', 'p99', 'notes'], modeRows));
  out.push('');
  if (p.profile !== undefined) {
    const pr = p.profile;
    out.push('### CPU profile of Switchyard under load\n');
    out.push(`Pure proxy at concurrency 16 (${fmtInt(pr.load.rps)} req/s while profiled), samples from the start of the load on. Busy ${fmtInt(pr.busy_ms)} ms, idle ${fmt(pr.idle_pct, 1)}%, garbage collection ${fmt(pr.gc_pct, 1)}% of busy time. Shares are self time over busy time.\n`);
    const hs = (h: Hotspot[]): string[][] => h.map((x) => [`\`${x.where}\``, `${fmt(x.share_pct, 1)}%`]);
    out.push(table(['function (file:line name)', 'share'], hs(pr.top_functions)));
    out.push('');
    out.push(table(['file or package', 'share'], hs(pr.top_files)));
    out.push('');
  }
  return out.join('\n');
}

/** The speed targets of the semantic features (issues' numbers), judged from the semantic and cache sections. */
function speedSummary(r: BenchResults): string[] {
  const rows: string[][] = [];
  const check = (name: string, value: unknown, limit: string, pass: (v: number) => boolean, unit = ''): void => {
    if (typeof value !== 'number') return;
    rows.push([name, `${fmt(value, unit === '/s' ? 0 : 3)}${unit}`, limit, pass(value) ? '**pass**' : '**FAIL**']);
  };
  const sem = r.sections.semantic;
  if (sem?.status === 'ok') {
    const n = obj(sem.numbers);
    check('embed + classify p50, one request at a time', n.embed_classify_p50_ms, '≤ 5 ms', (v) => v <= 5, ' ms');
    check('classified requests/s, 64 concurrent (micro-batched)', n.classified_concurrent64_per_s, '≥ 300/s', (v) => v >= 300, '/s');
    if (n.startup_prompts === 1500) check('start-up with 1,500 prompts cached on disk', n.startup_disk_cache_s, '≤ 3 s', (v) => v <= 3, ' s');
  }
  const cache = r.sections.cache;
  if (cache?.status === 'ok') {
    const n = obj(cache.numbers);
    const entries = typeof n.entries === 'number' ? n.entries : 0;
    const at = ` (synthetic stress set, ${n.index_dims === 512 ? 'full 512-d search, ' : ''}${entries.toLocaleString('en')} entries)`;
    if (entries >= 100_000) {
      check(`cache lookup p99 excluding the embedding${at}`, n.lookup_p99_ms, '≤ 0.5 ms', (v) => v <= 0.5, ' ms');
      check(`cache HNSW recall@1 against brute force${at}`, n.recall_at_1, '≥ 0.99', (v) => v >= 0.99);
    }
    if (typeof n.real_entries === 'number') {
      const real = ` (USE-lite embeddings of real questions, ${n.real_entries.toLocaleString('en')} entries)`;
      check(`cache lookup p99 excluding the embedding${real}`, n.real_lookup_p99_ms, '≤ 0.5 ms', (v) => v <= 0.5, ' ms');
      check(`cache HNSW recall@1 against brute force${real}`, n.real_recall_at_1, '≥ 0.99', (v) => v >= 0.99);
    }
    check('RSS with the default model loaded and 100k cache entries (bench/cache-rss.ts)', n.rss_model_100k_entries_mb, '≤ 600 MB', (v) => v <= 600, ' MB');
  }
  return rows.length === 0 ? [] : ['Speed targets of the semantic features:\n', table(['target', 'measured', 'limit', 'result'], rows), ''];
}

function areaSection(name: string, s: SectionResult): string {
  const out: string[] = [];
  out.push(`From \`bench/${name}.ts\`${s.seconds !== undefined ? `, ${fmt(s.seconds, 1)} s` : ''}${s.settings !== undefined ? `; called with \`${JSON.stringify(s.settings)}\`` : ''}.\n`);
  out.push(table(['measure', 'value'], flatten(s.numbers).map(([k, v]) => [`\`${k}\``, v])));
  out.push('');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------------------

/** bench/results/cpu-cost.json: what `node dist/bench/cpu-cost.js` wrote last. */
export type CpuCostResults = CpuCostReport & { date: string; baseline: string | null };

/** "Where the proxy's time goes": CPU time per request against the bare proxy, and Switchyard's profile per load. */
export function cpuCostSection(c: CpuCostResults): string {
  const out: string[] = [];
  out.push("### Where the proxy's time goes\n");
  out.push(`Measured ${c.date.slice(0, 10)} with \`node dist/bench/cpu-cost.js\` (load average ${c.load_average.join(', ')} at the end). Wall-clock ` +
    'throughput on a shared machine moves with everyone else\'s load, so this measures what a proxy spends instead: each target serves the same ' +
    `open-loop load (${c.rate} requests/s, ${c.duration_ms / 1000} s per round; json and stream: the pure proxy workload; intent, when present: one ` +
    'intent rule with a 0 ms semantic budget, so every request is served degraded) and its process\'s CPU time (user + system, ' +
    `/proc/<pid>/stat) over the load is divided by the replies it served. ${c.rounds} rounds alternate between the targets; the ratio is the bare ` +
    'proxy\'s CPU per request over the target\'s in the same round (the throughput ratio a CPU-bound proxy would reach), median and range over the ' +
    `rounds.${c.baseline !== null ? ' The baseline is an earlier build of Switchyard measured in the same rounds (see docs/proxy-cpu.md for which).' : ''}\n`);
  const rows: string[][] = [];
  for (const [kind, targets] of Object.entries(c.loads)) {
    for (const [t, cost] of Object.entries(targets)) {
      if (cost === undefined) continue;
      const r = cost.ratio_to_bare;
      rows.push([kind, t, fmtInt(cost.cpu_us_per_request), t === 'bare' ? '1' : `${fmt(r.median, 2)} (${fmt(r.min, 2)}–${fmt(r.max, 2)})`]);
    }
  }
  out.push(table(['load', 'target', 'CPU µs / request (median)', 'bare ÷ target'], rows));
  out.push('');
  for (const [kind, pr] of Object.entries(c.profiles ?? {})) {
    if (pr === undefined) continue;
    out.push(`Switchyard's profile, ${kind} (\`--cpu-prof\`, samples of the measured load only): busy ${fmtInt(pr.busy_ms)} ms, garbage collection ` +
      `${fmt(pr.gc_pct, 1)}% of busy time; self time over busy time. On a loaded machine a sample taken while the process waits to run lands in ` +
      'the frame it stopped in, so native socket writes read high.\n');
    out.push(table(['function (file:line name)', 'share'], pr.top_functions.map((x) => [`\`${x.where}\``, `${fmt(x.share_pct, 1)}%`])));
    out.push('');
  }
  out.push('What was removed to get here, the profiles before and after, and how to reproduce: docs/proxy-cpu.md.\n');
  return out.join('\n');
}

export function renderReport(r: BenchResults, cpu?: CpuCostResults): string {
  const m = r.machine;
  const st = r.settings;
  const out: string[] = [];
  const proxy = r.sections.proxy;
  const p = proxy?.status === 'ok' ? (proxy.numbers as ProxyReport) : undefined;
  out.push('# Benchmarks\n');
  out.push('<!-- Generated by bench/run.ts from bench/results/latest.json; edit bench/report.ts, not this file. -->\n');
  out.push(`Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC${r.total_seconds !== undefined ? ` in ${fmt(r.total_seconds, 0)} s` : ''}` +
    `${st.quick ? ' in **quick mode** (shorter proxy loads, smaller area benchmarks, evaluation subsets — see Settings)' : ' (full run)'}` +
    `${st.only ? `; only the \`${String(st.only)}\` section was re-run, the others are from earlier runs (each section carries its own date in latest.json)` : ''}.\n`);
  const la0 = m.load_average_at_start as number[] | undefined;
  const la1 = m.load_average_at_end as number[] | undefined;
  out.push(`> **These numbers come from a shared ${String(m.cores)}-core machine.** Other processes (other people's builds and tests) may have been ` +
    `running at the same time: the 1/5/15-minute load average was ${la0 ? la0.join(' / ') : '–'} at the start and ${la1 ? la1.join(' / ') : '–'} at the end ` +
    `of the run, on ${String(m.cores)} cores. The load generator, the upstream simulator and the proxy under test share the same cores too. Absolute ` +
    'figures are therefore low and noisy; the proxy targets are judged on the side-by-side comparison within one run (same load, same moment, paired ' +
    'differences). Expect several times higher throughput on a dedicated machine. Quality numbers (accuracy, precision, recall) do not depend on the load.\n');
  out.push(table(['machine', ''], [
    ['CPU', `${String(m.cpu_model)}, ${String(m.cores)} cores`],
    ['memory', `${String(m.memory_gb)} GB (${String(m.free_memory_gb)} GB free at start${m.free_memory_gb_at_end !== undefined ? `, ${String(m.free_memory_gb_at_end)} GB at end` : ''})`],
    ['Node.js', String(m.node)],
    ['OS', String(m.os)],
    ['load average (1 / 5 / 15 min) at start', la0 ? la0.join(' / ') : '–'],
    ['load average (1 / 5 / 15 min) at end', la1 ? la1.join(' / ') : '–'],
  ]));
  out.push('');
  out.push('## Settings\n');
  const ps: Record<string, unknown> = p?.settings ?? (st.proxy as Record<string, unknown> | undefined) ?? {};
  out.push(table(['setting', 'value'], [
    ['command', `\`${esc(st.command ?? 'node dist/bench/run.js')}\``],
    ['mode', st.quick ? 'quick' : 'full'],
    ['evaluation data', st.data ? `\`${String(st.data)}\`` : 'absent (evaluation sections skipped)'],
    ['proxy runs per load', ps.repeats !== undefined ? `${String(ps.repeats)} (tables show median and min–max)` : '–'],
    ['proxy warm-up / measured time per load', ps.warmup_ms !== undefined ? `${String(ps.warmup_ms)} ms / ${String(ps.duration_ms)} ms` : '–'],
    ['area benchmark time limit', st.area_timeout_s !== undefined
      ? `${String(st.area_timeout_s)} s each${st.cache_timeout_s !== undefined ? ` (cache: ${String(st.cache_timeout_s)} s)` : ''}` : '–'],
    ['evaluation time limit', st.eval_timeout_s !== undefined ? `${String(st.eval_timeout_s)} s each` : '–'],
  ]));
  out.push('');

  out.push('## Summary\n');
  if (p !== undefined) {
    out.push('Proxy targets (Switchyard in pure proxy mode against a bare node:http reverse proxy, same run):\n');
    out.push(table(['target', 'measured', 'limit', 'result'], p.checks.map((c) => [c.name, `${fmt(c.value)}${c.unit ?? '×'}`, c.limit, c.pass ? '**pass**' : '**FAIL**'])));
    const o = p.overhead;
    const line = (id: string, label: string): string | undefined => o[id] && `${label}: Switchyard adds ${range(o[id].switchyard_added_p50_ms)} ms p50 over the upstream, the bare proxy ${range(o[id].bare_added_p50_ms)} ms; Switchyard/bare throughput ${fmt(o[id].rps_ratio)}×.`;
    const lines = [line('c1', 'Concurrency 1'), line('c16', 'Concurrency 16'), line('r500', '500 req/s open loop')].filter((x): x is string => x !== undefined);
    if (lines.length) out.push(`\n${lines.map((l) => `- ${l}`).join('\n')}\n`);
  } else {
    out.push(`Proxy overhead not measured: ${proxy?.status ?? 'not run'}${proxy?.message ? ` — ${proxy.message}` : ''}.\n`);
  }
  out.push(...speedSummary(r));
  const q = qualitySummary(r);
  if (q.length) {
    out.push('Quality:\n');
    out.push(...q);
    out.push(QUALITY_CAVEAT);
  }
  const failed = Object.entries(r.sections).filter(([, s]) => s.status !== 'ok');
  if (failed.length) out.push(`Sections not measured: ${failed.map(([n, s]) => `\`${n}\` (${s.status})`).join(', ')} — see their sections below.\n`);

  out.push('## Proxy overhead\n');
  out.push('Three targets receive the same load, one after the other within each run: (a) the upstream simulator directly (OpenAI protocol, no added latency), ' +
    '(b) a bare reverse proxy written on node:http (`bench/load/bare-proxy.ts`: forwards method, path, headers and body over keep-alive and pipes the reply; ' +
    'the floor for any Node gateway), (c) Switchyard started from its CLI (`node dist/src/cli.js --config <generated> --port N`) in pure proxy mode: one ' +
    'provider, cache off, no rules, anonymous callers allowed (no virtual key, no limits), request logging at `info` written to /dev/null. Upstream, proxies and the load generator (`bench/load/loadgen.ts`: undici Pool with keep-alive, ' +
    '`process.hrtime.bigint()` timing) are separate processes. Closed-loop loads keep N requests in flight; open-loop loads send at a fixed rate on a ' +
    'timer regardless of replies (up to 128 connections) and measure latency from each request\'s scheduled send time, so queueing is not hidden. ' +
    'A request is a small chat completion (system + user message); streams must end with `data: [DONE]` to count as successes.\n');
  if (p !== undefined) out.push(proxySection(p));
  else out.push(`Not measured: ${proxy?.status ?? 'not run'}${proxy?.message ? ` — ${proxy.message}` : ''}.\n`);
  if (cpu !== undefined) out.push(cpuCostSection(cpu));

  const overload = r.sections.overload;
  if (overload !== undefined) {
    out.push('## Overload: the semantic path degrades instead of queueing\n');
    out.push('`bench/overload.ts`: open-loop load (scheduled sends, latency from the scheduled time) with one intent rule and with the semantic ' +
      'cache on, next to the bare node:http proxy in the same run, Switchyard at its semantic defaults. "degraded" is the share of replies ' +
      'with `x-switchyard-semantic: degraded` (the request went on without its embedding); "why degraded" counts the gateway\'s ' +
      '`switchyard_semantic_requests_total` by reason over the run with its warm-up (busy: refused before queueing, the predicted wait past the budget or the queue full; ' +
      'timeout: queued, and the budget ran out first; lagging: the event loop was already past the budget). Each target first meets the flood cold, ' +
      'straight after start (`r2000-cold`, every request measured): a freshly started Node process serves its first thousands of requests ' +
      'with code not yet optimised and falls behind for the first seconds, with or without semantic work (compare the bare and pure rows); ' +
      'that row is reported, not held to the targets. A closed-loop settle (concurrency 16, 3 s) lets the backlog drain; the measured rows follow on the warm process. Every load continues the unique prompts where the previous load to that process stopped, so no prompt is sent to a process twice (its embedder\'s LRU or its cache would answer a repeat).' +
      ' How it degrades: the model runs in worker threads at a lower priority, so the event loop that answers every request is never held by a model call; a request whose embedding would outlast its budget is refused before it queues. What a degraded request costs the main thread, apart from the model\'s threads: `node dist/bench/semantic-cpu.js` (docs/embeddings.md).\n');
    if (overload.status !== 'ok') out.push(`Not measured: ${overload.status}${overload.message ? ` — ${overload.message}` : ''}.\n`);
    else {
      const o = overload.numbers as OverloadReport;
      const byState = (x: OverloadReport['runs'][number], state: string): string => {
        const l = x.semantic_latency?.[state];
        return l === undefined ? '–' : `${fmt(l.p50_ms)} / ${fmt(l.p99_ms)}`;
      };
      const reasons = (x: OverloadReport['runs'][number]): string => {
        const r = Object.entries(x.semantic_reasons ?? {}).filter(([k]) => k.startsWith('degraded:'));
        return r.length === 0 ? '–' : r.map(([k, v]) => `${k.slice('degraded:'.length)} ${v}`).join(', ');
      };
      out.push(table(['target', 'load', 'sent', 'errors', 'served req/s', 'p50 ms', 'p99 ms', 'ready p50 / p99 ms', 'degraded p50 / p99 ms', 'degraded', 'why degraded (with warm-up)', 'cache'], o.runs.map((x) => [
        x.target, x.load, String(x.requests), String(x.errors), fmt(x.served_per_s), fmt(x.p50_ms), fmt(x.p99_ms), byState(x, 'ready'), byState(x, 'degraded'),
        x.degraded_share === undefined ? '–' : fmt(x.degraded_share), reasons(x), x.cache ? esc(JSON.stringify(x.cache)) : '–',
      ])));
      out.push('');
      out.push(table(['target', 'measured', 'limit', 'result'], o.checks.map((c) => [c.name, fmt(c.value), c.limit, c.pass ? '**pass**' : '**FAIL**'])));
      out.push('');
    }
  }

  const rest = Object.keys(r.sections).filter((n) => n !== 'proxy' && n !== 'overload' && !AREA_ORDER.includes(n) && !EVAL_SECTIONS.has(n));
  const areas = [...AREA_ORDER.filter((n) => r.sections[n] !== undefined), ...rest];
  if (areas.length) out.push('## Components\n\nMicro-benchmarks of each area, in process. Times are per operation unless the name says otherwise.\n');
  for (const name of areas) {
    const s = r.sections[name];
    out.push(`### ${SECTION_TITLE[name] ?? name}\n`);
    if (s.status !== 'ok') out.push(`${s.status === 'skipped' ? 'Skipped' : 'Failed'}: ${s.message ?? ''}\n`);
    else out.push(areaSection(name, s));
  }

  const evals = EVAL_ORDER.filter((n) => r.sections[n] !== undefined);
  if (evals.length) {
    out.push('## Quality\n');
    out.push('Run through the product\'s own commands in a child process (`node dist/src/cli.js <command> ... --json`), with the default embedder ' +
      '(USE-lite, int8 variant; the sections marked "float embedder" run the same commands with `--quantized false`, the float model it approximates) ' +
      'and the default classifier and cache settings. Reference folders are built with `switchyard build-refs` into a temporary folder.\n');
    out.push(QUALITY_CAVEAT);
  }
  for (const name of evals) {
    const s = r.sections[name];
    out.push(`### ${SECTION_TITLE[name] ?? name}\n`);
    if (s.status !== 'ok') {
      out.push(`${s.status === 'skipped' ? 'Skipped' : 'Failed'}: ${s.message ?? ''}\n`);
      continue;
    }
    out.push(evalSection(name, s));
  }

  out.push('## Reproduce\n');
  out.push('From the repository root, with the evaluation data at `../shared/data` (or pass `--data <dir>`); `npm run bench` builds first (`tsc -p tsconfig.bench.json`: the gateway and the benchmarks) and runs `node dist/bench/run.js`.\n');
  out.push('```bash\nnpm install\nnpm run bench                      # full run: 3 runs of 1 s warm-up + 3 s per proxy load, full area sizes, full evaluation sets\n' +
    'npm run bench -- --quick           # quick run (a few minutes): 3 runs of 0.3 s + 1.5 s per proxy load, smaller sizes, evaluation subsets\n' +
    'npm run bench -- --only eval_clinc150_10   # one section; the others keep their previous results\n' +
    'npm run bench -- --profile         # also CPU-profile Switchyard under load\nnode dist/bench/proxy.js --quick   # the proxy section alone, JSON on stdout\nnode dist/bench/large-body.js      # how long one 4 MB request holds the event loop (docs/safety.md)\n```\n');
  out.push('Results are written to `bench/results/latest.json` (date, machine, settings, every run\'s numbers) and this page is regenerated from it. ' +
    'Evaluation sections need the evaluation data and are skipped with a message without it. The quick run scores every 3rd odd-line CLINC150 validation row ' +
    '(plus the odd-line out-of-scope rows), every 5th scored (even-line) held-back Banking77 row, the first 1,000 pairs of each QQP file and 150 prompts per safety prompt set, and keeps an embedding cache in ' +
    'the system temp folder between quick runs; the full run scores everything with the embedding cache off, unless SWITCHYARD_BENCH_EMBEDDING_CACHE names a folder ' +
    '(then reruns skip the embedding; no figure but the embedding time changes). ' +
    'Switchyard modes that need config sections the running schema does not accept are skipped with the validation message. ' +
    'Run it on an otherwise idle machine for steadier numbers, and compare the load average lines above.\n');
  return out.join('\n');
}
