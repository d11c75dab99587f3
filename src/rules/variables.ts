/**
 * The variable catalogue: the one place that declares every CEL variable a routing rule may read — its name, CEL type,
 * default, description and the group that fills it. The CEL environment, the type checker, the lazy variable builder and
 * the docs table are all derived from this list.
 *
 * Adding a variable = one entry in VARIABLES (with `get` reading it from its group's source) plus, when the group does not
 * yet carry the fact, a field in that group's loader below.
 */
import { estimateComplexity, type ComplexityFacts } from '../cascade/complexity.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ProviderHealthView } from '../providers/health-registry.js';
import { NO_SESSION, type SessionFacts } from '../sessions/sessions.js';
import { bodyParams, celMap, celSafe } from './cel-values.js';
import { healthForCel, int } from './health-for-cel.js';

/** CEL types used by the catalogue (the strings the CEL environment understands). */
export type CelType =
  | 'string'
  | 'int'
  | 'double'
  | 'bool'
  | 'map<string, string>'
  | 'map<string, dyn>'
  | 'map<string, double>'
  | 'map<string, map<string, dyn>>'
  | 'list<string>';

/** Circuit state of a provider as seen by routing. */
export type ProviderState = ProviderHealthView['state'];

/** Health facts for one provider and its keys, live (see src/providers/health-registry.ts). */
export type ProviderHealth = ProviderHealthView;

/** Provider name → health facts. */
export type HealthSnapshot = Readonly<Record<string, ProviderHealth>>;

/** Usage of the caller's limits, in percent (0..100, above 100 when over). */
export interface CapacityFacts {
  budget_used?: number;
  tokens_used?: number;
  requests_used?: number;
}

/** Semantic classification of the request. */
export interface SemanticFacts {
  /** Best intent, or "none" when nothing cleared the threshold; "unavailable" when the embedding was not had in time. */
  intent: string;
  score: number;
  margin: number;
  /** Top-k intents with their scores. */
  intents?: Readonly<Record<string, number>>;
  /** Metadata attached to the winning intent's reference prompts. */
  metadata?: Readonly<Record<string, unknown>>;
  /** False when the embedding could not be had within semantic.max_wait_ms (the facts above are then the "unavailable" ones). */
  ready: boolean;
}

/** PII found in the request (kinds and count only). */
export interface PiiFacts {
  types: readonly string[];
  count: number;
}

/** Safety signals, each computed on first use (see src/safety). */
export interface SafetyInputs {
  pii: () => PiiFacts | Promise<PiiFacts>;
  language: () => string;
  jailbreak: () => Promise<{ score: number; flagged: boolean }>;
}

/**
 * What the pipeline supplies to fill the variables. Request and caller facts come from the RequestContext; the expensive
 * groups are async getters, called only when an enabled rule references one of their variables.
 */
export interface VariableInputs {
  /** Known provider names: a requested model "p/m" is split into provider "p" and model "m" only when p is known. */
  providers?: ReadonlySet<string>;
  capacity?: () => Promise<CapacityFacts>;
  health?: HealthSnapshot | (() => HealthSnapshot);
  semantic?: () => Promise<SemanticFacts | undefined>;
  cacheSimilarity?: () => Promise<number>;
  safety?: SafetyInputs;
  /** The request's sticky-conversation session (src/sessions). */
  session?: () => Promise<SessionFacts>;
}

/** The loaded sources, one per group; only the groups some referenced variable belongs to are loaded. */
interface Sources {
  request: RequestFacts;
  caller: RequestContext['caller'];
  capacity: CapacityFacts;
  health: HealthSnapshot;
  semantic: SemanticFacts | undefined;
  cache: number | undefined;
  complexity: ComplexityFacts;
  pii: PiiFacts;
  language: string;
  jailbreak: { score: number; flagged: boolean };
  session: SessionFacts;
}

export type VariableGroup = keyof Sources;

/** Groups whose loading costs real work (an embedding, a Redis read, a cache probe): rules reading them run last-resort lazy. */
export const EXPENSIVE_GROUPS: ReadonlySet<VariableGroup> = new Set<VariableGroup>(['capacity', 'semantic', 'cache', 'complexity', 'jailbreak', 'session']);

interface RequestFacts {
  ctx: RequestContext;
  provider: string;
  model: string;
}

export interface VariableDeclaration<G extends VariableGroup = VariableGroup> {
  readonly name: string;
  readonly type: CelType;
  readonly group: G;
  /** The value when the group's source is absent; shown in the docs. */
  readonly default: unknown;
  readonly description: string;
  /** Reads the value from the group's loaded source (already in CEL runtime form: int → bigint). */
  readonly get: (source: NonNullable<Sources[G]>) => unknown;
}

const decl = <G extends VariableGroup>(d: VariableDeclaration<G>): VariableDeclaration => d as unknown as VariableDeclaration;
const pct = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const EMPTY: Readonly<Record<string, never>> = Object.freeze({});

/** Every variable, in docs order. */
export const VARIABLES: readonly VariableDeclaration[] = [
  // request
  decl({ name: 'request_type', type: 'string', group: 'request', default: '', get: (s) => s.ctx.requestType,
    description: 'chat_completion | chat_completion_stream | text_completion | embedding' }),
  decl({ name: 'protocol', type: 'string', group: 'request', default: '', get: (s) => s.ctx.protocol,
    description: 'The protocol the caller spoke: openai.chat | openai.completions | openai.embeddings | openai.responses | anthropic.messages' }),
  decl({ name: 'model', type: 'string', group: 'request', default: '', get: (s) => s.model,
    description: 'Requested model or alias (without the provider prefix when given as provider/model)' }),
  decl({ name: 'provider', type: 'string', group: 'request', default: '', get: (s) => s.provider,
    description: 'Provider part of the requested model when given as provider/model, else ""' }),
  decl({ name: 'headers', type: 'map<string, string>', group: 'request', default: {}, get: (s) => celMap(s.ctx.headers),
    description: 'Request headers, lower-cased keys' }),
  decl({ name: 'params', type: 'map<string, dyn>', group: 'request', default: {}, get: (s) => bodyParams(s.ctx.body),
    description: 'Body parameters (temperature, max_tokens, top_p, stream, n, ...); arrays (tools, stop, ...) as their length' }),
  decl({ name: 'message_count', type: 'int', group: 'request', default: 0, get: (s) => BigInt(messageCount(s.ctx.body)),
    description: 'Number of chat messages (prompts / inputs for completions and embeddings)' }),
  decl({ name: 'prompt_chars', type: 'int', group: 'request', default: 0, get: (s) => BigInt(promptChars(s.ctx.body)),
    description: 'Characters of prompt text across all messages / prompts / inputs' }),
  decl({ name: 'user', type: 'string', group: 'request', default: '', get: (s) => str(s.ctx.body['user']),
    description: 'The OpenAI `user` field' }),
  // caller
  decl({ name: 'virtual_key_id', type: 'string', group: 'caller', default: '', get: (c) => c.virtualKeyId,
    description: 'Virtual key id ("" when anonymous)' }),
  decl({ name: 'virtual_key_name', type: 'string', group: 'caller', default: '', get: (c) => c.virtualKeyName,
    description: 'Virtual key name' }),
  decl({ name: 'team_id', type: 'string', group: 'caller', default: '', get: (c) => c.teamId, description: 'Team id' }),
  decl({ name: 'team_name', type: 'string', group: 'caller', default: '', get: (c) => c.teamName, description: 'Team name' }),
  decl({ name: 'customer_id', type: 'string', group: 'caller', default: '', get: (c) => c.customerId,
    description: 'Customer id' }),
  decl({ name: 'customer_name', type: 'string', group: 'caller', default: '', get: (c) => c.customerName,
    description: 'Customer name' }),
  // capacity
  decl({ name: 'budget_used', type: 'double', group: 'capacity', default: 0, get: (c) => pct(c.budget_used),
    description: 'Budget used by the caller, percent (0..100+)' }),
  decl({ name: 'tokens_used', type: 'double', group: 'capacity', default: 0, get: (c) => pct(c.tokens_used),
    description: 'Token rate limit used, percent' }),
  decl({ name: 'requests_used', type: 'double', group: 'capacity', default: 0, get: (c) => pct(c.requests_used),
    description: 'Request rate limit used, percent' }),
  // health
  decl({ name: 'health', type: 'map<string, map<string, dyn>>', group: 'health', default: {}, get: healthForCel,
    description: 'provider → {state (healthy|degraded|open|half_open), error_rate, requests (int), p50_ms, p95_ms, ttfb_p50_ms, ttfb_p95_ms, in_flight (int), headroom, available_keys (int), models: upstream model → {state, available_keys (int), error_rate, requests (int), headroom}, keys: key id → {state, breaker (closed|open|half_open), error_rate, requests, p50_ms, p95_ms, ttfb_p50_ms, ttfb_p95_ms, in_flight, headroom, models: upstream model → {state, breaker, available (bool), error_rate, requests, p50_ms, p95_ms, ttfb_p50_ms, ttfb_p95_ms, in_flight, headroom}}}; a key\'s circuit, rest and headroom are kept per upstream model (a lane; `*` is the lane of models no config names), its figures are over its lanes; live when the rule runs (see Freshness)' }),
  // session
  decl({ name: 'session', type: 'map<string, dyn>', group: 'session', default: { id: '', target: '', tier: '', turns: 0 }, get: sessionForCel,
    description: 'The conversation\'s session before this request: {id, target ("provider/model" that answered its last answered request), tier (highest complexity band seen), turns (int, earlier requests)}; "" / 0 for a new session or with sessions off' }),
  // semantic
  decl({ name: 'intent', type: 'string', group: 'semantic', default: '', get: (s) => s.intent,
    description: 'Best intent; "none" when no category cleared its threshold (as in x-switchyard-intent), "" when the request has no text, "unavailable" when its embedding was not had within semantic.max_wait_ms' }),
  decl({ name: 'semantic_ready', type: 'bool', group: 'semantic', default: false, get: (s) => s.ready,
    description: 'The intent variables hold the request\'s real classification; false when there is no text, semantic features are off, or the embedding was not had within semantic.max_wait_ms (intent "unavailable")' }),
  decl({ name: 'intent_score', type: 'double', group: 'semantic', default: 0, get: (s) => s.score,
    description: 'Similarity of the best intent (0..1)' }),
  decl({ name: 'intent_margin', type: 'double', group: 'semantic', default: 0, get: (s) => s.margin,
    description: 'Score gap between the best and second intent' }),
  decl({ name: 'intents', type: 'map<string, double>', group: 'semantic', default: {}, get: (s) => celMap(s.intents ?? EMPTY),
    description: 'Top-k intents → score' }),
  decl({ name: 'intent_metadata', type: 'map<string, dyn>', group: 'semantic', default: {}, get: (s) => celSafe(s.metadata ?? EMPTY),
    description: 'Metadata of the best intent' }),
  // complexity (from the text; loaded with the semantic group when that is referenced too, to use the intent's `tier`)
  decl({ name: 'complexity', type: 'string', group: 'complexity', default: '', get: (c) => c.band,
    description: 'Estimated difficulty of the query: simple | moderate | complex (see docs/cascade.md)' }),
  decl({ name: 'complexity_score', type: 'double', group: 'complexity', default: 0, get: (c) => c.score,
    description: 'Estimated difficulty 0..1 (length, code and math markers, reasoning verbs, questions; intent metadata `tier` when known)' }),
  decl({ name: 'cache_similarity', type: 'double', group: 'cache', default: 0, get: (v) => v,
    description: 'Similarity of the nearest semantic-cache entry in the request\'s partition (0 when none)' }),
  // safety (see docs/safety.md)
  decl({ name: 'pii', type: 'bool', group: 'pii', default: false, get: (p) => p.count > 0,
    description: 'The request carries PII or secrets (any kind, any message)' }),
  decl({ name: 'pii_types', type: 'list<string>', group: 'pii', default: [], get: (p) => p.types,
    description: 'PII kinds found: email, phone, card, iban, ssn, ip, secret, address' }),
  decl({ name: 'pii_count', type: 'int', group: 'pii', default: 0, get: (p) => BigInt(p.count),
    description: 'Number of PII findings' }),
  decl({ name: 'jailbreak_score', type: 'double', group: 'jailbreak', default: 0, get: (j) => j.score,
    description: 'Prompt-injection / jailbreak likelihood 0..1 (attack-example similarity and heuristics)' }),
  decl({ name: 'jailbreak', type: 'bool', group: 'jailbreak', default: false, get: (j) => j.flagged,
    description: 'jailbreak_score at or above safety.jailbreak.threshold' }),
  decl({ name: 'language', type: 'string', group: 'language', default: 'und', get: (l) => l,
    description: 'Language of the user\'s text, ISO 639-1 ("und" when unknown)' }),
];

export const VARIABLES_BY_NAME: ReadonlyMap<string, VariableDeclaration> = new Map(VARIABLES.map((v) => [v.name, v]));

/** The CEL runtime value of a declaration's default (int defaults become bigint). */
export function defaultValue(v: VariableDeclaration): unknown {
  return v.type === 'int' ? BigInt(v.default as number) : v.default;
}

const groupCache = new WeakMap<ReadonlySet<string>, ReadonlySet<VariableGroup>>();

/** Groups a set of variable names touches (cached per set). */
export function groupsOf(names: ReadonlySet<string>): ReadonlySet<VariableGroup> {
  const hit = groupCache.get(names);
  if (hit) return hit;
  const out = new Set<VariableGroup>();
  for (const n of names) {
    const v = VARIABLES_BY_NAME.get(n);
    if (v) out.add(v.group);
  }
  groupCache.set(names, out);
  return out;
}

const declarationCache = new WeakMap<ReadonlySet<string>, readonly VariableDeclaration[]>();

/**
 * The declarations of the variables named, in catalogue order (cached per set, like groupsOf: a rule set's references are
 * one set for its lifetime, so a request walks only the variables its rules use instead of testing the whole catalogue).
 */
function declarationsOf(names: ReadonlySet<string>): readonly VariableDeclaration[] {
  let out = declarationCache.get(names);
  if (out === undefined) {
    out = VARIABLES.filter((v) => names.has(v.name));
    declarationCache.set(names, out);
  }
  return out;
}

type Loaded = { [G in VariableGroup]?: Sources[G] };

/** Loads one group: synchronously when its source is at hand, else returns the pending load. */
function loadGroup(g: VariableGroup, ctx: RequestContext, inputs: VariableInputs, out: Loaded): Promise<void> | undefined {
  switch (g) {
    case 'request': out.request = requestFacts(ctx, inputs.providers); return undefined;
    case 'caller': out.caller = ctx.caller; return undefined;
    case 'health': out.health = typeof inputs.health === 'function' ? inputs.health() : inputs.health; return undefined;
    case 'capacity': return inputs.capacity?.().then((v) => void (out.capacity = v));
    case 'semantic': return inputs.semantic?.().then((v) => void (out.semantic = v));
    case 'cache': return inputs.cacheSimilarity?.().then((v) => void (out.cache = v));
    case 'complexity': return undefined; // derived after the other groups (see buildVariables)
    case 'pii': {
      const p = inputs.safety?.pii();
      if (p instanceof Promise) return p.then((v) => void (out.pii = v));
      out.pii = p;
      return undefined;
    }
    case 'language': if (inputs.safety) out.language = inputs.safety.language(); return undefined;
    case 'jailbreak': return inputs.safety?.jailbreak().then((v) => void (out.jailbreak = v));
    case 'session':
      if (!inputs.session) out.session = NO_SESSION;
      return inputs.session?.().then((v) => void (out.session = v));
  }
}

const ALL_GROUPS: ReadonlySet<VariableGroup> = new Set(VARIABLES.map((v) => v.group));

/**
 * Builds the CEL activation for one request. Only the groups of `references` (default: every variable) are loaded, and
 * the async groups run concurrently; unreferenced variables are absent from the result.
 */
export async function buildVariables(
  ctx: RequestContext,
  inputs: VariableInputs,
  references?: ReadonlySet<string>,
): Promise<Record<string, unknown>> {
  const loaded: Loaded = {};
  let pending: Promise<void>[] | undefined;
  for (const g of references ? groupsOf(references) : ALL_GROUPS) {
    const p = loadGroup(g, ctx, inputs, loaded);
    if (p) (pending ??= []).push(p);
  }
  if (pending) await (pending.length === 1 ? pending[0] : Promise.all(pending));
  if (loaded.complexity === undefined && (!references || groupsOf(references).has('complexity'))) {
    loaded.complexity = estimateComplexity(ctx.body, loaded.semantic);
  }
  const vars: Record<string, unknown> = {};
  for (const v of references ? declarationsOf(references) : VARIABLES) {
    const source = loaded[v.group];
    vars[v.name] = source === undefined ? defaultValue(v) : (v.get as (s: unknown) => unknown)(source);
  }
  return vars;
}

/** Renders the catalogue as a markdown table (docs/rules.md embeds it). */
export function renderVariablesTable(): string {
  const rows = VARIABLES.map((v) => {
    const def = JSON.stringify(v.default);
    return `| \`${v.name}\` | \`${v.type}\` | ${v.group} | \`${def}\` | ${v.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| variable | CEL type | group | default | description |', '|---|---|---|---|---|', ...rows].join('\n');
}

// ---- request fact extraction (pure) ----

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function requestFacts(ctx: RequestContext, providers: ReadonlySet<string> | undefined): RequestFacts {
  const slash = ctx.model.indexOf('/');
  if (slash > 0) {
    const p = ctx.model.slice(0, slash);
    if (!providers || providers.has(p)) return { ctx, provider: p, model: ctx.model.slice(slash + 1) };
  }
  return { ctx, provider: '', model: ctx.model };
}

function messageCount(body: Readonly<Record<string, unknown>>): number {
  const m = body['messages'] ?? body['prompt'] ?? body['input'];
  if (Array.isArray(m)) return m.length;
  return typeof m === 'string' ? 1 : 0;
}

function contentChars(c: unknown): number {
  if (typeof c === 'string') return c.length;
  if (!Array.isArray(c)) return 0;
  let n = 0;
  for (const part of c) {
    if (typeof part === 'string') n += part.length;
    else if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
      n += (part as { text: string }).text.length;
    }
  }
  return n;
}

function promptChars(body: Readonly<Record<string, unknown>>): number {
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    let n = 0;
    for (const m of messages) if (m && typeof m === 'object') n += contentChars((m as { content?: unknown }).content);
    return n;
  }
  return contentChars(body['prompt'] ?? body['input']);
}

function sessionForCel(s: SessionFacts): Record<string, unknown> {
  return { id: s.id, target: s.target, tier: s.tier, turns: int(s.turns) };
}
