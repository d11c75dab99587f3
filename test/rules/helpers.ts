import { ANONYMOUS, type Caller, type InboundProtocol, type RequestContext, type RequestType } from '../../src/pipeline/context.js';
import type { Operation } from '../../src/providers/types.js';
import { ruleSchema, type RuleInput, type RuleSpec } from '../../src/rules/config.js';
import { compile, type RuleSet } from '../../src/rules/compile.js';

export function ctxOf(
  body: Record<string, unknown>,
  opts: { caller?: Partial<Caller>; headers?: Record<string, string>; requestType?: RequestType; protocol?: InboundProtocol } = {},
): RequestContext {
  const requestType = opts.requestType ?? (body['stream'] === true ? 'chat_completion_stream' : 'chat_completion');
  const op: Operation = requestType === 'embedding' ? 'embedding' : requestType === 'text_completion' ? 'completion' : 'chat';
  return {
    id: 'req-1',
    startedAt: 0,
    op,
    protocol: opts.protocol ?? (op === 'chat' ? 'openai.chat' : op === 'completion' ? 'openai.completions' : 'openai.embeddings'),
    requestType,
    body,
    model: typeof body['model'] === 'string' ? body['model'] : '',
    stream: body['stream'] === true,
    headers: opts.headers ?? {},
    caller: { ...ANONYMOUS, ...opts.caller },
    signal: new AbortController().signal,
    attempts: [],
    warnings: [],
    replyHeaders: {},
    facts: {},
  };
}

export const rule = (r: RuleInput): RuleSpec => ruleSchema.parse(r);

export function compiled(rules: RuleInput[], providers?: ReadonlyMap<string, string[]>): RuleSet {
  const res = compile(rules.map(rule), providers ? { providers } : {});
  if (!res.ok) throw new Error(JSON.stringify(res.problems));
  return res.ruleSet;
}

export const caller = (c: Partial<Caller> = {}): Caller => ({ ...ANONYMOUS, ...c });
