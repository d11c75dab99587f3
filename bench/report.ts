/**
 * Renders bench/results/latest.json as docs/benchmarks.md: machine facts, the proxy targets and whether they pass, the side by
 * side proxy tables, the extra Switchyard modes, the CPU profile when one was taken, and every other section's numbers.
 */
import type { Aggregate, ModeResult, Overhead, ProxyReport } from './proxy.js';
import type { Hotspot } from './load/profile.js';

export interface SectionResult {
  status: 'ok' | 'skipped' | 'failed';
  message?: string;
  seconds?: number;
  date?: string;
  numbers?: unknown;
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
  eval: 'Quality: intent classification (`switchyard eval`)',
  cache_eval: 'Quality: semantic cache precision and recall, QQP balanced 10k (`switchyard cache-eval`)',
  cache_eval_hard: 'Quality: semantic cache on look-alike questions, QQP hard 2k (`switchyard cache-eval`)',
};

const EVAL_SECTIONS = new Set(['eval', 'cache_eval', 'cache_eval_hard']);

const fmt = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const fmtInt = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const range = (s: { min: number; median: number; max: number } | undefined, digits = 2, int = false): string => {
  if (s === undefined) return '–';
  const f = int ? fmtInt : (x: number) => fmt(x, digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
};

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

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
  out.push(table(['target', 'measured', 'limit', 'result'], p.checks.map((c) => [c.name, `${fmt(c.value)}×`, c.limit, c.pass ? '**pass**' : '**FAIL**'])));
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
  const modeRows: string[][] = [];
  for (const [id, m] of Object.entries(p.modes) as Array<[string, ModeResult]>) {
    if (m.skipped !== undefined) {
      modeRows.push([m.label, '–', '–', '–', '–', `skipped: ${m.skipped.replace(/\|/g, '\\|')}`]);
      continue;
    }
    for (const [loadId, r] of Object.entries(m.loads ?? {})) {
      const label = loads.find((l) => l.id === loadId)?.label ?? loadId;
      const note = [`+${fmt(m.added_vs_pure_p50_ms?.[loadId])} ms p50 vs pure proxy`, m.cache_hit_ratio !== undefined ? `cache hit ratio ${fmt(m.cache_hit_ratio)}` : '', r.errors > 0 ? `${r.errors} errors` : '']
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

export function renderReport(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push('# Benchmarks\n');
  out.push('<!-- Generated by bench/run.ts from bench/results/latest.json; edit bench/report.ts, not this file. -->\n');
  out.push(`Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC${r.total_seconds !== undefined ? ` in ${fmt(r.total_seconds, 0)} s` : ''}${r.settings.quick ? ' (quick mode: one run per load, shorter loads)' : ''}.\n`);
  out.push('> These numbers come from a **shared 2-core machine** on which other work ran at the same time (see the load average), with the ' +
    'load generator, the upstream simulator and the proxy under test all on the same two cores. Absolute figures are therefore low and noisy; the side-by-side ' +
    'comparison within one run (same load, same moment, paired differences) is what the targets are judged on. Expect several times higher ' +
    'throughput on a dedicated machine.\n');
  out.push(table(['machine', ''], [
    ['CPU', `${String(m.cpu_model)}, ${String(m.cores)} cores`],
    ['memory', `${String(m.memory_gb)} GB`],
    ['Node.js', String(m.node)],
    ['OS', String(m.os)],
    ['load average (1/5/15 min) at start → end', `${JSON.stringify(m.load_average_at_start)} → ${JSON.stringify(m.load_average_at_end ?? '–')}`],
  ]));
  out.push('');
  out.push('## Proxy overhead\n');
  out.push('Three targets receive the same load, one after the other within each run: (a) the upstream simulator directly (OpenAI protocol, no added latency), ' +
    '(b) a bare reverse proxy written on node:http (`bench/load/bare-proxy.ts`: forwards method, path, headers and body over keep-alive and pipes the reply; ' +
    'the floor for any Node gateway), (c) Switchyard started from its CLI (`node dist/src/cli.js --config <generated> --port N`) in pure proxy mode: one ' +
    'provider, cache off, no rules, request logging at `info` written to /dev/null. Upstream, proxies and the load generator (`bench/load/loadgen.ts`: undici Pool with keep-alive, ' +
    '`process.hrtime.bigint()` timing) are separate processes. Closed-loop loads keep N requests in flight; open-loop loads send at a fixed rate on a ' +
    'timer regardless of replies (up to 128 connections) and measure latency from each request\'s scheduled send time, so queueing is not hidden. ' +
    'A request is a small chat completion (system + user message); streams must end with `data: [DONE]` to count as successes.\n');
  const proxy = r.sections.proxy;
  if (proxy?.status === 'ok') out.push(proxySection(proxy.numbers as ProxyReport));
  else out.push(`Not measured: ${proxy?.status ?? 'not run'}${proxy?.message ? ` — ${proxy.message}` : ''}.\n`);

  for (const [name, s] of Object.entries(r.sections)) {
    if (name === 'proxy') continue;
    out.push(`## ${SECTION_TITLE[name] ?? name}\n`);
    if (s.status !== 'ok') {
      out.push(`${s.status === 'skipped' ? 'Skipped' : 'Failed'}: ${s.message ?? ''}\n`);
      continue;
    }
    const source = EVAL_SECTIONS.has(name) ? `switchyard ${name.startsWith('cache') ? 'cache-eval' : 'eval'}` : `bench/${name}.ts`;
    out.push(`From \`${source}\`${s.seconds !== undefined ? `, ${fmt(s.seconds, 1)} s` : ''}.\n`);
    out.push(table(['measure', 'value'], flatten(s.numbers).map(([k, v]) => [`\`${k}\``, v])));
    out.push('');
  }

  out.push('## Reproduce\n');
  out.push('```bash\nnpm run bench                      # everything (a few minutes on 2 cores)\nnpm run bench -- --quick           # one run per proxy load, shorter loads\n' +
    'npm run bench -- --only proxy      # one section; the others keep their previous results\nnpm run bench -- --profile         # also CPU-profile Switchyard under load\n' +
    'node dist/bench/proxy.js --quick   # the proxy section alone, JSON on stdout\n```\n');
  out.push('Results are written to `bench/results/latest.json` (date, machine, settings, every run\'s numbers) and this page is regenerated from it. ' +
    'Evaluation sections need the evaluation data at `../shared/data` beside the repository (or `--data <dir>`) and are skipped without it. ' +
    'Switchyard modes that need config sections the running schema does not accept are skipped with the validation message.\n');
  return out.join('\n');
}
