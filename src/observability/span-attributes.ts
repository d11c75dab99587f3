/**
 * What each span says, as pure functions from the request's facts to OpenTelemetry attributes, following the GenAI semantic
 * conventions (gen_ai.*) where they name the fact and `switchyard.*` for the gateway's own decisions. Only ids, names from
 * config, numbers and statuses: never prompt text, never a key. Loaded with the SDK (./otel-tracing.ts), never when off.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_GEN_AI_OPERATION_NAME, ATTR_GEN_AI_PROVIDER_NAME, ATTR_GEN_AI_REQUEST_MAX_TOKENS, ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM, ATTR_GEN_AI_REQUEST_TEMPERATURE, ATTR_GEN_AI_REQUEST_TOP_P, ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID, ATTR_GEN_AI_RESPONSE_MODEL, ATTR_GEN_AI_SYSTEM, ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
} from '@opentelemetry/semantic-conventions/incubating';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import type { GatewayError } from '../errors.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Operation, StreamPart, Usage } from '../providers/types.js';
import { cacheOf, intentOf, type RequestOutcome } from './outcome.js';
import type { AttemptTarget } from './tracing.js';

/** gen_ai.operation.name per inbound operation. */
const OPERATION: Readonly<Record<Operation, string>> = { chat: 'chat', completion: 'text_completion', embedding: 'embeddings' };

export const operationName = (op: Operation): string => OPERATION[op] ?? op;

/** gen_ai.system (the older name, which the issue and many backends read) and gen_ai.provider.name per adapter kind. */
const SYSTEM: Readonly<Record<string, readonly [system: string, provider: string]>> = {
  openai: ['openai', 'openai'],
  anthropic: ['anthropic', 'anthropic'],
  'azure-openai': ['az.ai.openai', 'azure.ai.openai'],
};

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sets the defined entries only (an attribute value may not be undefined). */
function put(out: Attributes, key: string, value: string | number | boolean | readonly string[] | undefined): void {
  if (value !== undefined) out[key] = value as Attributes[string];
}

function usageAttributes(out: Attributes, usage: Usage | undefined): void {
  if (usage === undefined) return;
  put(out, ATTR_GEN_AI_USAGE_INPUT_TOKENS, num(usage.prompt_tokens));
  put(out, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, num(usage.completion_tokens));
}

function errorAttributes(out: Attributes, err: GatewayError): void {
  out[ATTR_ERROR_TYPE] = err.failure;
  out['switchyard.failure_class'] = err.failure;
  put(out, 'switchyard.error.code', err.code ?? err.type);
}

/** The root span's name and its attributes known at arrival. */
export function rootStart(ctx: RequestContext): { name: string; attributes: Attributes } {
  const op = operationName(ctx.op);
  const b = ctx.body;
  const out: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: op,
    [ATTR_GEN_AI_REQUEST_MODEL]: ctx.model,
    [ATTR_GEN_AI_REQUEST_STREAM]: ctx.stream,
    'switchyard.request_id': ctx.id,
    'switchyard.request_type': ctx.requestType,
    'switchyard.protocol': ctx.protocol,
  };
  put(out, ATTR_GEN_AI_REQUEST_TEMPERATURE, num(b.temperature));
  put(out, ATTR_GEN_AI_REQUEST_TOP_P, num(b.top_p));
  put(out, ATTR_GEN_AI_REQUEST_MAX_TOKENS, num(b.max_completion_tokens) ?? num(b.max_tokens));
  put(out, 'switchyard.caller.virtual_key_id', str(ctx.caller.virtualKeyId));
  put(out, 'switchyard.caller.team_id', str(ctx.caller.teamId));
  put(out, 'switchyard.caller.customer_id', str(ctx.caller.customerId));
  return { name: ctx.model === '' ? op : `${op} ${ctx.model}`, attributes: out };
}

/** The root span's attributes once the reply is finished. */
export function rootEnd(o: RequestOutcome, error: GatewayError | undefined): Attributes {
  const out: Attributes = { [ATTR_HTTP_RESPONSE_STATUS_CODE]: o.status, 'switchyard.attempts': o.attempts.length };
  put(out, ATTR_GEN_AI_RESPONSE_MODEL, o.model);
  put(out, 'switchyard.provider', o.provider);
  put(out, 'switchyard.route.rule', o.rule);
  put(out, 'switchyard.route.intent', o.intent);
  put(out, 'switchyard.route.intent_score', o.intentScore);
  put(out, 'switchyard.cache.outcome', o.cache);
  put(out, 'switchyard.cache.similarity', o.cacheSimilarity);
  put(out, 'switchyard.ttfb_ms', o.ttfbMs);
  usageAttributes(out, o.usage);
  if (error !== undefined) errorAttributes(out, error);
  else if (o.status >= 400) out[ATTR_ERROR_TYPE] = String(o.status);
  return out;
}

/**
 * A pipeline step's attributes, read from what the step left on the context: the route (rule, intent, score, targets), the
 * cache (outcome, similarity), safety (action), governance (reservation), execute (attempts made).
 */
export function stepAttributes(name: string, ctx: RequestContext, error: GatewayError | undefined): Attributes {
  const out: Attributes = { 'switchyard.stage': name };
  const f = ctx.facts;
  switch (name) {
    case 'route': {
      const r = ctx.route;
      if (r !== undefined) {
        out['switchyard.route.rule'] = r.rule;
        out['switchyard.route.targets'] = r.chain.map((t) => `${t.provider}/${t.model}`);
        if (r.cascade !== undefined) out['switchyard.route.cascade_tiers'] = r.cascade.length;
      }
      if (Array.isArray(f.rule_chain)) out['switchyard.route.rule_chain'] = f.rule_chain.filter((x): x is string => typeof x === 'string');
      const { intent, score } = intentOf(f);
      put(out, 'switchyard.route.intent', intent);
      put(out, 'switchyard.route.intent_score', score);
      // ready, or degraded when the semantic budget ran out (src/pipeline/semantic-budget.ts)
      if (isObject(f.semantic)) put(out, 'switchyard.semantic.state', str(f.semantic.state));
      break;
    }
    case 'cache': {
      const { cache, similarity } = cacheOf(f);
      put(out, 'switchyard.cache.outcome', cache);
      put(out, 'switchyard.cache.similarity', similarity);
      if (isObject(f.cache)) {
        put(out, 'switchyard.cache.threshold', num(f.cache.threshold));
        put(out, 'switchyard.cache.reason', str(f.cache.reason));
      }
      break;
    }
    case 'safety':
      if (isObject(f.safety)) put(out, 'switchyard.safety.action', str(f.safety.action));
      break;
    case 'governance':
      if (isObject(f.governance)) put(out, 'switchyard.governance.reserved_tokens', num(f.governance.reserved_tokens));
      break;
    case 'execute':
      out['switchyard.attempts'] = ctx.attempts.length;
      break;
  }
  if (error !== undefined) errorAttributes(out, error);
  return out;
}

/** An upstream attempt span's name and its attributes known before the call. */
export function attemptStart(op: Operation, t: AttemptTarget, index: number): { name: string; attributes: Attributes } {
  const opName = operationName(op);
  const [system, providerName] = SYSTEM[t.kind] ?? [t.kind, t.kind];
  return {
    name: `${opName} ${t.model}`,
    attributes: {
      [ATTR_GEN_AI_OPERATION_NAME]: opName,
      [ATTR_GEN_AI_SYSTEM]: system,
      [ATTR_GEN_AI_PROVIDER_NAME]: providerName,
      [ATTR_GEN_AI_REQUEST_MODEL]: t.model,
      'switchyard.provider': t.provider,
      'switchyard.key_id': t.keyId,
      'switchyard.attempt': index,
    },
  };
}

/** What an attempt learnt from its reply: a JSON body, or the chunks of a stream (folded in as they pass). */
export interface ReplyFacts {
  responseId?: string;
  responseModel?: string;
  finishReasons: string[];
  usage?: Usage;
}

export const newReplyFacts = (): ReplyFacts => ({ finishReasons: [] });

/** Folds one typed stream part (reply identity, a finish reason, usage) into the facts. */
export function foldPart(facts: ReplyFacts, part: StreamPart): void {
  if (part.type === 'metadata') {
    facts.responseId ??= part.id;
    facts.responseModel ??= part.model;
  } else if (part.type === 'finish') facts.finishReasons.push(part.reason);
  else if (part.type === 'usage') facts.usage = part.usage;
}

/** Folds one OpenAI-format body (id, model, choices[].finish_reason, usage) into the facts. */
export function foldReply(facts: ReplyFacts, body: Readonly<Record<string, unknown>>): void {
  facts.responseId ??= str(body.id);
  facts.responseModel ??= str(body.model);
  const choices = body.choices;
  if (Array.isArray(choices)) {
    for (const c of choices) {
      const reason = isObject(c) ? str(c.finish_reason) : undefined;
      if (reason !== undefined) facts.finishReasons.push(reason);
    }
  }
  if (isObject(body.usage)) facts.usage = body.usage as unknown as Usage;
}

export function attemptEnd(status: number, facts: ReplyFacts): Attributes {
  const out: Attributes = { [ATTR_HTTP_RESPONSE_STATUS_CODE]: status };
  put(out, ATTR_GEN_AI_RESPONSE_ID, facts.responseId);
  put(out, ATTR_GEN_AI_RESPONSE_MODEL, facts.responseModel);
  if (facts.finishReasons.length > 0) out[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = facts.finishReasons;
  usageAttributes(out, facts.usage);
  return out;
}

/** A failed attempt: the upstream's own status when it answered (none for a network error or a timeout), and the class. */
export function attemptFailed(err: GatewayError): Attributes {
  const out: Attributes = {};
  put(out, ATTR_HTTP_RESPONSE_STATUS_CODE, err.upstreamStatus);
  errorAttributes(out, err);
  return out;
}
