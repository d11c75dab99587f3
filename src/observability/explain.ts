/**
 * The explain trace kept with each recent routing decision: the route decision and the stages' facts of a request, made
 * safe to show — no prompt text, no headers or parameters, no secrets — and bounded in depth, breadth and string length.
 */
import type { RequestContext } from '../pipeline/context.js';

/** Keys never copied into an explain trace: prompt-bearing fields, caller-supplied values and anything secret-shaped. */
const DROPPED = new Set([
  'messages', 'prompt', 'input', 'content', 'text', 'body', 'suffix', 'instructions', 'examples', 'query',
  'headers', 'params', 'user', 'authorization', 'api_key', 'apikey', 'admin_key', 'value', 'secret', 'password', 'token',
  'key', 'keys', 'vector', 'embedding',
]);

export interface ExplainLimits {
  depth: number;
  entries: number;
  chars: number;
}

const LIMITS: ExplainLimits = { depth: 5, entries: 24, chars: 160 };

/** A JSON-safe, bounded copy of `value` without the DROPPED keys. */
export function sanitize(value: unknown, limits: ExplainLimits = LIMITS, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > limits.chars ? `${value.slice(0, limits.chars)}…` : value;
    case 'number':
      return Number.isFinite(value) ? Math.round(value * 10_000) / 10_000 : null;
    case 'boolean':
      return value;
    case 'bigint':
      return Number(value);
    case 'object': {
      if (value === null) return null;
      if (depth >= limits.depth) return '…';
      if (Array.isArray(value)) {
        const out = value.slice(0, limits.entries).map((v) => sanitize(v, limits, depth + 1));
        if (value.length > limits.entries) out.push(`… ${value.length - limits.entries} more`);
        return out;
      }
      if (ArrayBuffer.isView(value)) return `[${value.constructor.name}]`;
      if (value instanceof Map) return sanitize(Object.fromEntries(value), limits, depth);
      if (value instanceof Set) return sanitize([...value], limits, depth);
      const out: Record<string, unknown> = {};
      let n = 0;
      for (const [k, v] of Object.entries(value)) {
        if (DROPPED.has(k.toLowerCase()) || v === undefined || typeof v === 'function') continue;
        if (n++ >= limits.entries) {
          out['…'] = 'truncated';
          break;
        }
        out[k] = sanitize(v, limits, depth + 1);
      }
      return out;
    }
    default:
      return undefined;
  }
}

/**
 * The raw explain trace of a finished request: route decision (rule, chain, cache policy), the stages' facts (rules trace,
 * intent, cache lookup, governance) and warnings — references, not copies, so recording it is free. Pass it to
 * ActivityFeed.record, which sanitises it only when it is read.
 */
export function traceOf(ctx: RequestContext): { route: unknown; facts: unknown; warnings: unknown } {
  return { route: ctx.route, facts: ctx.facts, warnings: ctx.warnings.length > 0 ? ctx.warnings : undefined };
}

/** The sanitised explain trace of a finished request. */
export function explainOf(ctx: RequestContext): Record<string, unknown> {
  return sanitize(traceOf(ctx)) as Record<string, unknown>;
}
