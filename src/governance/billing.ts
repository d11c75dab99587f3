/**
 * What a request used and what to bill for it, shared by the governance stage (budgets) and the spend ledger: the parts a
 * cascade paid for, and the usage of a reply (JSON: ctx.usage or the reply's usage; streams: the usage part, else an
 * estimate from the streamed text). The target that answered is src/pipeline/answering-target.ts.
 */
import type { RequestContext, Target } from '../pipeline/context.js';
import { afterReply } from '../pipeline/after-reply.js';
import { observeStream } from '../pipeline/stage.js';
import type { JsonReply, ProviderReply, StreamPart, Usage } from '../providers/types.js';
import { addValueStrings, TokenCounter } from './tokens.js';

/** The streamed text a part adds to the completion estimate: answer, reasoning, tool names and arguments. */
export function pushPartText(counter: TokenCounter, part: StreamPart): void {
  switch (part.type) {
    case 'text-delta':
    case 'reasoning-delta':
      counter.push(part.text);
      break;
    case 'tool-call-start':
      counter.push(part.name);
      break;
    case 'tool-call-delta':
      counter.push(part.argsDelta);
      break;
    default:
      break;
  }
}

/** Completion estimate of a JSON reply without usage: the text of its choices. */
export function completionOf(reply: JsonReply): number {
  const counter = new TokenCounter();
  const choices = reply.body.choices;
  if (Array.isArray(choices)) {
    for (const c of choices as Array<{ text?: unknown; message?: { content?: unknown; tool_calls?: unknown } }>) {
      if (typeof c.text === 'string') counter.add(c.text);
      if (typeof c.message?.content === 'string') counter.add(c.message.content);
      if (Array.isArray(c.message?.tool_calls)) addValueStrings(counter, c.message.tool_calls);
    }
  }
  return counter.total;
}

export const usageOf = (prompt: number, completion: number): Usage => ({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

/** A cascade's tiers and judge calls as it recorded them in ctx.facts.cascade (see src/cascade/runner.ts). */
interface CascadeBill {
  tiers?: Array<{ provider: string; model: string; usage?: Usage; judge_usage?: Usage; judge_target?: string }>;
}

/**
 * What to bill: each cascade tier (and judge call) at its own model's price when the request ran as a cascade, else the
 * usage of the target that answered.
 */
export function billedParts(ctx: RequestContext, answered: Target, usage: Usage): Array<{ target: Target; usage: Usage }> {
  const parts = tierParts(ctx);
  return parts.length > 0 ? parts : [{ target: answered, usage }];
}

/**
 * What a request that ends in an error had already paid for: the cascade tiers and judge calls that answered before a later
 * one failed, and, when the client went away while an upstream had its request, the prompt that upstream read (estimated by
 * `promptEstimate`). Empty when nothing was paid (a refusal, an upstream failure): the reservation is then released.
 */
export function paidBeforeFailure(ctx: RequestContext, promptEstimate: () => number): Array<{ target: Target; usage: Usage }> {
  const parts = tierParts(ctx);
  const last = ctx.attempts.length > 0 ? ctx.attempts[ctx.attempts.length - 1] : undefined;
  if (last?.error === 'client_closed') parts.push({ target: { provider: last.provider, model: last.model }, usage: usageOf(promptEstimate(), 0) });
  return parts;
}

function tierParts(ctx: RequestContext): Array<{ target: Target; usage: Usage }> {
  const tiers = (ctx.facts.cascade as CascadeBill | undefined)?.tiers;
  const parts: Array<{ target: Target; usage: Usage }> = [];
  if (!tiers) return parts;
  for (const t of tiers) {
    if (t.usage) parts.push({ target: { provider: t.provider, model: t.model }, usage: t.usage });
    if (t.judge_usage && t.judge_target) {
      const slash = t.judge_target.indexOf('/');
      parts.push({ target: { provider: t.judge_target.slice(0, slash), model: t.judge_target.slice(slash + 1) }, usage: t.judge_usage });
    }
  }
  return parts;
}

/**
 * Calls `onUsage` once with the usage of a reply: for JSON once the reply is written (../pipeline/after-reply.ts), for a stream
 * at its end (observed, passed through unchanged).
 * `promptEstimate` stands in for the prompt when nothing reported usage (called only then).
 */
export function observeUsage(ctx: RequestContext, reply: ProviderReply, promptEstimate: () => number, onUsage: (usage: Usage) => void): ProviderReply {
  if (reply.kind === 'json') {
    // Accounting does not shape the reply: it runs once the reply is written (at once outside the HTTP edge).
    afterReply(ctx, () => onUsage(ctx.usage ?? reply.usage ?? usageOf(promptEstimate(), completionOf(reply))));
    return reply;
  }
  const counter = new TokenCounter();
  let usage: Usage | undefined;
  return observeStream(
    reply,
    (part) => {
      if (part.type === 'usage') usage = part.usage;
      else if (usage === undefined) pushPartText(counter, part);
    },
    () => onUsage(ctx.usage ?? usage ?? usageOf(promptEstimate(), counter.total)),
  );
}
