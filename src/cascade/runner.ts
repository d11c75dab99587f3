/**
 * The cascade runner: the terminal step for a route that carries a cascade. Tier by tier it runs the provider chain for
 * that tier (the gateway's executeChain, once per tier), checks the answer, and escalates on failure; the first passing
 * answer is returned, else the last tier's. Streamed requests either buffer each tier's stream before the first byte
 * (`buffer`) or skip the cascade and stream one tier (`first_tier` / `last_tier`).
 *
 * Accounting: every tier's and every judge call's attempts land on ctx.attempts (the answering tier's last, so whoever
 * reads "the last successful attempt" finds the tier that answered); their usage is summed into ctx.usage. Runs once per
 * request.
 */
import { GatewayError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { clientAbortOf, type RequestContext, type Target } from '../pipeline/context.js';
import { observeStream } from '../pipeline/stage.js';
import type { JsonReply, ProviderReply, Usage } from '../providers/types.js';
import { answerFromBody } from './answer.js';
import { compileChecks, judgeRequest, parseGrade, requestedSchema, runChecks, type CheckEnv } from './checks/index.js';
import { queryText } from './complexity.js';
import { bufferStream, replay, type BufferedStream } from './replay.js';
import type { Answer, CascadeStreaming, CascadeTier, FailReason, JudgeCheck } from './types.js';
import { warningList } from '../llm/warnings.js';

export interface CascadeDeps {
  /** Runs the provider chain of a context (`ctx.route.chain`): the gateway's executeChain. */
  execute: (ctx: RequestContext) => Promise<ProviderReply>;
  /** Streaming behaviour for routes that do not set one (default 'buffer'). */
  streaming?: () => CascadeStreaming;
  /** Called on every escalation: the rule, the tier that failed (0-based) and why. */
  onEscalation?: (rule: string, fromTier: number, reason: FailReason) => void;
  logger?: Logger;
}

/** One tier's outcome, in ctx.facts.cascade.tiers. */
export interface TierOutcome {
  tier: number;
  provider: string;
  model: string;
  outcome: 'passed' | 'failed' | 'error' | 'answered_unchecked' | 'skipped';
  reason?: FailReason | 'not_allowed';
  detail?: string;
  usage?: Usage;
  judge_usage?: Usage;
  /** provider/model of the judge whose usage is in judge_usage. */
  judge_target?: string;
  latency_ms: number;
}

export interface CascadeFacts {
  rule: string;
  streaming: CascadeStreaming | 'off';
  answered: number;
  escalations: number;
  tiers: TierOutcome[];
}

type Obj = Record<string, unknown>;

const keyOf = (t: Target): string => `${t.provider}/${t.model}`;

function addUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!b) return a;
  if (!a) return { prompt_tokens: b.prompt_tokens, completion_tokens: b.completion_tokens, total_tokens: b.total_tokens };
  return {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
}

/** What goes upstream for this request: the redacted body when a stage set one, else the caller's. */
const upstreamOf = (ctx: RequestContext): Readonly<Obj> => ctx.upstreamBody ?? ctx.body;

/**
 * A context for one tier: its own chain, upstream body and usage; the caller's body, attempts, warnings, headers and facts
 * are shared with the request.
 */
function tierContext(ctx: RequestContext, target: Target, upstreamBody: Readonly<Obj>): RequestContext {
  // `signal` is named: a context from the edge keeps it on its prototype, which a spread does not copy.
  return { ...ctx, signal: ctx.signal, upstreamBody, route: { chain: [target], rule: ctx.route!.rule }, usage: undefined };
}

/** A context for a judge call: a plain chat request, with attempts and headers of its own (merged back by the caller). */
function judgeContext(ctx: RequestContext, check: JudgeCheck, body: Obj): RequestContext {
  return {
    ...ctx,
    signal: ctx.signal,
    op: 'chat',
    requestType: 'chat_completion',
    body,
    upstreamBody: undefined,
    native: undefined,
    model: `${check.provider}/${check.model}`,
    stream: false,
    route: { chain: [{ provider: check.provider, model: check.model }], rule: ctx.route!.rule },
    attempts: [],
    usage: undefined,
    warnings: warningList(),
    replyHeaders: {},
    facts: {},
  };
}

function judgeText(reply: ProviderReply): string {
  if (reply.kind !== 'json') return '';
  return answerFromBody(reply.body).text;
}

interface Produced {
  tier: number;
  reply: JsonReply | BufferedStream;
  target: Target;
  attempts: [number, number];
}

export async function runCascade(ctx: RequestContext, deps: CascadeDeps): Promise<ProviderReply> {
  const route = ctx.route;
  if (!route?.cascade || route.cascade.length === 0) return deps.execute(ctx);
  const allowed = new Set(route.chain.map(keyOf));
  const tiers: Array<{ index: number; tier: CascadeTier }> = [];
  const outcomes: TierOutcome[] = [];
  route.cascade.forEach((tier, index) => {
    if (allowed.has(keyOf(tier))) tiers.push({ index, tier });
    else outcomes.push({ tier: index, provider: tier.provider, model: tier.model, outcome: 'skipped', reason: 'not_allowed', latency_ms: 0 });
  });
  if (tiers.length === 0) return deps.execute(ctx);
  const mode: CascadeStreaming = route.cascadeStreaming ?? deps.streaming?.() ?? 'buffer';
  const facts: CascadeFacts = { rule: route.rule, streaming: ctx.stream ? mode : 'off', answered: -1, escalations: 0, tiers: outcomes };
  ctx.facts.cascade = facts;

  if (ctx.stream && mode !== 'buffer') return streamOneTier(ctx, deps, mode === 'first_tier' ? tiers[0]! : tiers[tiers.length - 1]!, facts);

  const wantsUsage = (ctx.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const source = upstreamOf(ctx);
  const tierBody: Readonly<Obj> = ctx.stream && !wantsUsage
    ? { ...source, stream_options: { ...(source.stream_options as Obj | undefined), include_usage: true } }
    : source;
  const schema = requestedSchema(ctx.body);
  let total: Usage | undefined;
  let last: Produced | undefined;
  let answered: Produced | undefined;

  for (let k = 0; k < tiers.length; k++) {
    const { index, tier } = tiers[k]!;
    const isLast = k === tiers.length - 1;
    const target: Target = { provider: tier.provider, model: tier.model };
    const sub = tierContext(ctx, target, tierBody);
    const from = ctx.attempts.length;
    const started = performance.now();
    const outcome: TierOutcome = { tier: index, provider: tier.provider, model: tier.model, outcome: 'passed', latency_ms: 0 };
    outcomes.push(outcome);
    let produced: Produced;
    let answer: Answer;
    try {
      const reply = await deps.execute(sub);
      if (reply.kind === 'json') {
        produced = { tier: index, reply, target, attempts: [from, ctx.attempts.length] };
        answer = answerFromBody(reply.body);
        outcome.usage = sub.usage ?? reply.usage;
      } else {
        const buffered = await bufferStream(reply, tier.provider);
        produced = { tier: index, reply: buffered, target, attempts: [from, ctx.attempts.length] };
        answer = buffered.answer;
        outcome.usage = sub.usage;
        if (buffered.error !== undefined && !isLast) throw new GatewayError({ status: 502, message: buffered.error, type: 'upstream_error', code: 'stream_error', failure: 'upstream' });
      }
    } catch (err) {
      outcome.latency_ms = Math.round(performance.now() - started);
      const gerr = err instanceof GatewayError ? err : undefined;
      outcome.outcome = 'error';
      outcome.reason = 'upstream_error';
      outcome.detail = gerr ? `${gerr.status} ${gerr.code ?? gerr.type}` : 'failed';
      total = addUsage(total, outcome.usage);
      if (!gerr || !gerr.retryable || clientAbortOf(ctx).aborted) throw err;
      if (isLast) {
        if (!last) throw err;
        answered = last; // the last tier failed outright: the latest answer there is, though it failed its checks
        break;
      }
      escalate(ctx, deps, facts, index, 'upstream_error');
      continue;
    }
    total = addUsage(total, outcome.usage);
    last = produced;
    if (isLast) {
      outcome.latency_ms = Math.round(performance.now() - started);
      outcome.outcome = 'answered_unchecked';
      answered = produced;
      break;
    }
    const env: CheckEnv = {
      schema,
      warn: (m) => ctx.warnings.push(m),
      judge: (check, a) => callJudge(ctx, deps, check, a, (u) => {
        outcome.judge_usage = addUsage(outcome.judge_usage, u);
        outcome.judge_target = `${check.provider}/${check.model}`;
        total = addUsage(total, u);
      }),
    };
    const verdict = await runChecks(answer, compileChecks(tier.checks), env);
    outcome.latency_ms = Math.round(performance.now() - started);
    if (verdict.pass) {
      answered = produced;
      break;
    }
    outcome.outcome = 'failed';
    outcome.reason = verdict.reason;
    outcome.detail = verdict.detail;
    escalate(ctx, deps, facts, index, verdict.reason);
  }

  const done = answered!;
  facts.answered = done.tier;
  finish(ctx, done, total, facts);
  return done.reply.kind === 'json' ? done.reply : replay(done.reply, wantsUsage);
}

function escalate(ctx: RequestContext, deps: CascadeDeps, facts: CascadeFacts, tier: number, reason: FailReason): void {
  facts.escalations++;
  try {
    deps.onEscalation?.(facts.rule, tier, reason);
  } catch (err) {
    deps.logger?.warn({ err, request_id: ctx.id }, 'cascade escalation hook failed');
  }
  deps.logger?.debug({ request_id: ctx.id, rule: facts.rule, from_tier: tier, reason }, 'cascade escalated');
}

/** Headers, usage and attempt order once a tier's answer is chosen. */
function finish(ctx: RequestContext, done: Produced, total: Usage | undefined, facts: CascadeFacts): void {
  const [a, b] = done.attempts;
  if (b < ctx.attempts.length) ctx.attempts.push(...ctx.attempts.splice(a, b - a));
  if (total) ctx.usage = total;
  ctx.replyHeaders['x-switchyard-provider'] = done.target.provider;
  ctx.replyHeaders['x-switchyard-model'] = done.target.model;
  ctx.replyHeaders['x-switchyard-cascade-tier'] = `${done.tier} ${keyOf(done.target)}`;
  ctx.replyHeaders['x-switchyard-cascade-escalations'] = String(facts.escalations);
}

/** Asks the judge model for a grade through the provider execution path; its attempts and usage are accounted. */
async function callJudge(
  ctx: RequestContext,
  deps: CascadeDeps,
  check: JudgeCheck,
  answer: Answer,
  account: (u: Usage | undefined) => void,
): Promise<{ grade: number } | { error: string }> {
  const jctx = judgeContext(ctx, check, judgeRequest(check, queryText(upstreamOf(ctx)).text, answer.text));
  try {
    const reply = await deps.execute(jctx);
    account(jctx.usage ?? (reply.kind === 'json' ? reply.usage : undefined));
    const grade = parseGrade(judgeText(reply));
    return grade === undefined ? { error: 'the judge gave no grade' } : { grade };
  } catch (err) {
    if (clientAbortOf(ctx).aborted) throw err;
    return { error: err instanceof GatewayError ? `the judge failed: ${err.status} ${err.code ?? err.type}` : 'the judge failed' };
  } finally {
    ctx.attempts.push(...jctx.attempts);
    if (jctx.warnings.length > 0) ctx.warnings.push(...jctx.warnings.map((w) => `judge: ${w}`));
  }
}

/** `first_tier` / `last_tier`: no cascade for this stream; the tier streams through as any route would. */
async function streamOneTier(ctx: RequestContext, deps: CascadeDeps, pick: { index: number; tier: CascadeTier }, facts: CascadeFacts): Promise<ProviderReply> {
  const target: Target = { provider: pick.tier.provider, model: pick.tier.model };
  const sub = tierContext(ctx, target, upstreamOf(ctx));
  const started = performance.now();
  const outcome: TierOutcome = { tier: pick.index, provider: target.provider, model: target.model, outcome: 'answered_unchecked', latency_ms: 0 };
  facts.tiers.push(outcome);
  const reply = await deps.execute(sub);
  outcome.latency_ms = Math.round(performance.now() - started);
  facts.answered = pick.index;
  ctx.replyHeaders['x-switchyard-cascade-tier'] = `${pick.index} ${keyOf(target)}`;
  ctx.replyHeaders['x-switchyard-cascade-escalations'] = '0';
  if (reply.kind === 'json') {
    ctx.usage = sub.usage ?? reply.usage;
    return reply;
  }
  return observeStream(reply, undefined, () => {
    ctx.usage = sub.usage;
    outcome.usage = sub.usage;
  });
}
