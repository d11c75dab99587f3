/**
 * Routing-rule benchmarks: evaluation time for one request against 1, 10 and 50 enabled rules (worst case: no rule
 * matches, so every rule runs), variable building, the explain path, and compiling 50 rules.
 * Run: node --import tsx -e "import('./bench/rules.ts').then(async m => console.log(await m.default()))"
 */
import { ANONYMOUS, type RequestContext } from '../src/pipeline/context.js';
import { compile, type RuleSet } from '../src/rules/compile.js';
import { ruleSchema, type RuleSpec } from '../src/rules/config.js';
import { evaluate, explain } from '../src/rules/engine.js';
import { routeRequest } from '../src/rules/route.js';
import { buildVariables } from '../src/rules/variables.js';

const SHAPES = [
  (i: number) => `request_type == "chat_completion" && model == "m${i}" && message_count > 2 && budget_used > 50.0`,
  (i: number) => `headers["x-tier"] == "t${i}" && provider == "" && prompt_chars < 100000 && team_id != ""`,
  (i: number) => `model.startsWith("gpt-${i}") && params.temperature > 0.5 && user != "" && requests_used < 90.0`,
  (i: number) => `customer_id in ["c${i}", "d${i}"] && tokens_used > 80.0 || model == "x${i}" && message_count == 0`,
];

function rules(n: number): RuleSpec[] {
  return Array.from({ length: n }, (_, i) =>
    ruleSchema.parse({
      name: `rule-${String(i).padStart(3, '0')}`,
      cel_expression: SHAPES[i % SHAPES.length]!(i),
      targets: [{ provider: 'openai', model: 'gpt-4o-mini', weight: 0.5 }, { provider: 'anthropic', model: 'claude', weight: 0.5 }],
      priority: i,
    }),
  );
}

function set(n: number): RuleSet {
  const r = compile(rules(n));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.ruleSet;
}

const ctx: RequestContext = {
  id: 'bench',
  startedAt: 0,
  op: 'chat',
  protocol: 'openai.chat',
  requestType: 'chat_completion',
  body: { model: 'gpt-4o', temperature: 0.7, max_tokens: 256, messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Summarise the release notes for version 3.' }] },
  model: 'gpt-4o',
  stream: false,
  headers: { 'x-tier': 'basic', 'content-type': 'application/json' },
  caller: { ...ANONYMOUS, virtualKeyId: 'vk1', teamId: 'team-a', customerId: 'cust-a' },
  signal: new AbortController().signal,
  attempts: [],
  warnings: [],
  replyHeaders: {},
  facts: {},
};

/** Per-call time (ns) at p50 / p99 over `samples` batches of `batch` calls. */
function measure(fn: () => unknown, samples = 400, batch = 100): { p50: number; p99: number } {
  for (let i = 0; i < 2000; i++) fn();
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    out.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  out.sort((a, b) => a - b);
  return { p50: out[Math.floor(out.length * 0.5)]!, p99: out[Math.floor(out.length * 0.99)]! };
}

/** Like measure, for async calls awaited one after another. */
async function measureAsync(fn: () => Promise<unknown>, samples = 200, batch = 100): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 2000; i++) await fn();
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    out.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  out.sort((a, b) => a - b);
  return { p50: out[Math.floor(out.length * 0.5)]!, p99: out[Math.floor(out.length * 0.99)]! };
}

export default async function benchRules(): Promise<Record<string, number>> {
  const capacity = async () => ({ budget_used: 40, tokens_used: 10, requests_used: 5 });
  const result: Record<string, number> = {};
  for (const n of [1, 10, 50]) {
    const s = set(n);
    const vars = await buildVariables(ctx, { capacity }, s.references);
    const d = evaluate(s, vars, ctx.caller);
    if (d.matched) throw new Error('bench rules must not match');
    const m = measure(() => evaluate(s, vars, ctx.caller));
    result[`eval_${n}_rules_p50_ns`] = Math.round(m.p50);
    result[`eval_${n}_rules_p99_ns`] = Math.round(m.p99);
  }
  const s50 = set(50);
  const vars = await buildVariables(ctx, { capacity }, s50.references);
  const ex = measure(() => explain(s50, vars, ctx.caller), 100, 20);
  result['explain_50_rules_p50_ns'] = Math.round(ex.p50);

  const bv = await measureAsync(() => buildVariables(ctx, { capacity }, s50.references));
  result['build_variables_p50_ns'] = Math.round(bv.p50);
  // The whole rules stage for one request: variables (with an async capacity read) + 50 rules.
  const rr = await measureAsync(() => routeRequest(s50, ctx, { capacity }));
  result['route_request_50_rules_p50_ns'] = Math.round(rr.p50);

  const specs = rules(50);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) compile(specs);
  result['compile_50_rules_ms'] = Number(process.hrtime.bigint() - t0) / 20 / 1e6;
  return result;
}
