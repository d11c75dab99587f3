/**
 * RuleManager: owns the current compiled rule set. The effective rules are the config file's rules overlaid by the changes
 * stored through the admin API (see ./store.ts). Every change — a config reload, an admin call, another instance's change —
 * is validated on the WHOLE resulting set and swapped in atomically; an invalid change is refused and the old set stays.
 */
import type { Logger } from 'pino';
import { GatewayError, invalidRequest } from '../errors.js';
import { compile, EMPTY_RULE_SET, formatProblems, type CompileResult, type ProviderCatalog, type RuleSet } from './compile.js';
import { parseRule, type RuleProblem, type RuleSpec } from './config.js';
import { MemoryRuleStore, type OverlayEntry, type RuleStore } from './store.js';

/** Where an effective rule comes from. */
export type RuleSource = 'file' | 'api' | 'file+api';

export interface EffectiveRule {
  rule: RuleSpec;
  source: RuleSource;
}

export interface RuleManagerOptions {
  /** Default: an in-memory store (changes last as long as the process). */
  store?: RuleStore;
  fileRules?: readonly RuleSpec[];
  providers?: ProviderCatalog;
  logger?: Logger;
}

export class RuleSetError extends Error {
  constructor(readonly problems: RuleProblem[]) {
    super(`invalid routing rules: ${formatProblems(problems)}`);
    this.name = 'RuleSetError';
  }
}

interface Effective {
  specs: RuleSpec[];
  paths: string[];
  sources: RuleSource[];
}

/** File rules in file order, then API-created rules by name. */
export function overlay(fileRules: readonly RuleSpec[], entries: ReadonlyMap<string, OverlayEntry>): Effective {
  const out: Effective = { specs: [], paths: [], sources: [] };
  const fileNames = new Set<string>();
  fileRules.forEach((r, i) => {
    fileNames.add(r.name);
    const e = entries.get(r.name);
    if (e?.op === 'delete') return;
    const spec = e?.op === 'put' ? e.rule : e?.op === 'enabled' ? { ...r, enabled: e.enabled } : r;
    out.specs.push(spec);
    out.paths.push(e ? `admin rule "${r.name}" over rules[${i}]` : `rules[${i}]`);
    out.sources.push(e ? 'file+api' : 'file');
  });
  const added = [...entries].filter(([name, e]) => e.op === 'put' && !fileNames.has(name)).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [name, e] of added) {
    out.specs.push((e as { rule: RuleSpec }).rule);
    out.paths.push(`admin rule "${name}"`);
    out.sources.push('api');
  }
  return out;
}

const conflict = (message: string, code: string): GatewayError =>
  new GatewayError({ status: 409, message, type: 'invalid_request_error', code, failure: 'caller' });

const notFound = (name: string): GatewayError =>
  new GatewayError({ status: 404, message: `No routing rule named '${name}'.`, type: 'invalid_request_error', code: 'rule_not_found', failure: 'caller' });

const MAX_WRITE_ATTEMPTS = 5;

/** A store failure (Redis down) is the gateway's fault and retryable by the client, never a bare 500. */
function storeUnavailable(err: unknown): GatewayError {
  return new GatewayError({
    status: 503,
    message: 'The routing rule store is unavailable; the change was not applied.',
    type: 'server_error',
    code: 'rules_store_unavailable',
    failure: 'gateway',
    cause: err,
  });
}

export class RuleManager {
  private ruleSet: RuleSet = EMPTY_RULE_SET;
  private effective: Effective = { specs: [], paths: [], sources: [] };
  private fileRules: readonly RuleSpec[];
  private providers: ProviderCatalog | undefined;
  private entries: ReadonlyMap<string, OverlayEntry> = new Map();
  private version = -1;
  private readonly listeners = new Set<(set: RuleSet) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private unsubscribe: (() => Promise<void>) | undefined;
  readonly store: RuleStore;
  private readonly logger: Logger | undefined;

  private constructor(opts: RuleManagerOptions) {
    this.store = opts.store ?? new MemoryRuleStore();
    this.fileRules = opts.fileRules ?? [];
    this.providers = opts.providers;
    this.logger = opts.logger;
  }

  /** Loads the stored overlay, compiles the whole set (throws RuleSetError if it does not) and starts listening for changes. */
  static async create(opts: RuleManagerOptions = {}): Promise<RuleManager> {
    const m = new RuleManager(opts);
    m.unsubscribe = await m.store.subscribe(() => void m.reload().catch((err: unknown) => m.logReloadFailure(err)));
    try {
      const snap = await m.store.read();
      const eff = overlay(m.fileRules, snap.entries);
      const res = m.compileEffective(eff);
      if (!res.ok) throw new RuleSetError(res.problems);
      m.install(res.ruleSet, eff, snap.entries, snap.version);
    } catch (err) {
      await m.close();
      throw err;
    }
    return m;
  }

  /** The current compiled set; hold on to it for the whole request. */
  current(): RuleSet {
    return this.ruleSet;
  }

  /** The store version the current set reflects. */
  storeVersion(): number {
    return this.version;
  }

  /** Effective rules (file order, then API rules by name) with where each comes from. */
  list(): EffectiveRule[] {
    return this.effective.specs.map((rule, i) => ({ rule, source: this.effective.sources[i]! }));
  }

  get(name: string): EffectiveRule | undefined {
    const i = this.effective.specs.findIndex((r) => r.name === name);
    return i < 0 ? undefined : { rule: this.effective.specs[i]!, source: this.effective.sources[i]! };
  }

  /** Called with the new set after every swap. Returns an unsubscribe function. */
  onChange(listener: (set: RuleSet) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Replaces the config file's rules (config hot reload). The whole resulting set is validated; on failure the old set
   * keeps serving and the problems are returned.
   */
  setFileRules(rules: readonly RuleSpec[], opts: { providers?: ProviderCatalog } = {}): CompileResult {
    const providers = 'providers' in opts ? opts.providers : this.providers;
    const eff = overlay(rules, this.entries);
    const res = compile(eff.specs, { paths: eff.paths, ...(providers ? { providers } : {}) });
    if (!res.ok) return res;
    this.fileRules = rules;
    this.providers = providers;
    this.install(res.ruleSet, eff, this.entries, this.version);
    return res;
  }

  /** Creates a rule; 409 if the name is taken. */
  async create(input: unknown): Promise<EffectiveRule> {
    const rule = this.parseBody(input);
    return this.change(rule.name, (exists) => {
      if (exists) throw conflict(`A routing rule named '${rule.name}' already exists.`, 'rule_exists');
      return { op: 'put', rule, at: Date.now() };
    });
  }

  /** Creates or replaces a rule. The body's name, when given, must match. */
  async replace(name: string, input: unknown): Promise<EffectiveRule> {
    const body = input && typeof input === 'object' && !Array.isArray(input) ? { name, ...(input as object) } : input;
    const rule = this.parseBody(body);
    if (rule.name !== name) throw invalidRequest(`The body names rule '${rule.name}' but the path names '${name}'.`, 'name', 'invalid_rules');
    return this.change(name, () => ({ op: 'put', rule, at: Date.now() }));
  }

  /** Enables or disables a rule; 404 if there is none. */
  async setEnabled(name: string, enabled: unknown): Promise<EffectiveRule> {
    if (typeof enabled !== 'boolean') throw invalidRequest('`enabled` must be a boolean.', 'enabled', 'invalid_rules');
    return this.change(name, (exists, entry, fileRule) => {
      if (!exists) throw notFound(name);
      if (entry?.op === 'put') return { op: 'put', rule: { ...entry.rule, enabled }, at: Date.now() };
      return fileRule && fileRule.enabled === enabled ? null : { op: 'enabled', enabled, at: Date.now() };
    });
  }

  /** Deletes a rule (a file rule gets a tombstone); 404 if there is none. */
  async remove(name: string): Promise<void> {
    await this.change(name, (exists, _entry, fileRule) => {
      if (!exists) throw notFound(name);
      return fileRule ? { op: 'delete', at: Date.now() } : null;
    }, true);
  }

  /** Re-reads the store and swaps in its state when it is newer and valid. */
  reload(): Promise<void> {
    return this.serial(async () => {
      const snap = await this.store.read();
      if (snap.version === this.version) return;
      const eff = overlay(this.fileRules, snap.entries);
      const res = this.compileEffective(eff);
      if (!res.ok) {
        this.logger?.error({ version: snap.version, problems: res.problems }, 'stored routing rules do not compile; keeping the current set');
        return;
      }
      this.install(res.ruleSet, eff, snap.entries, snap.version);
    });
  }

  async close(): Promise<void> {
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    if (u) await u();
  }

  // ---- internals ----

  private parseBody(input: unknown): RuleSpec {
    const r = parseRule(input);
    if (!r.ok) {
      const first = r.problems[0]!;
      throw invalidRequest(r.problems.map((p) => `${p.path || 'body'}: ${p.message}`).join('; '), first.path || null, 'invalid_rules');
    }
    return r.rule;
  }

  private compileEffective(eff: Effective): CompileResult {
    return compile(eff.specs, { paths: eff.paths, ...(this.providers ? { providers: this.providers } : {}) });
  }

  private install(set: RuleSet, eff: Effective, entries: ReadonlyMap<string, OverlayEntry>, version: number): void {
    this.ruleSet = set;
    this.effective = eff;
    this.entries = entries;
    this.version = version;
    for (const l of this.listeners) {
      try {
        l(set);
      } catch (err) {
        this.logger?.error({ err }, 'routing rules change listener failed');
      }
    }
  }

  /**
   * Installs a stored change validated against `fileRules` and `providers`. A config reload may have replaced them while
   * the change was being written (setFileRules does not wait for the store): the set is then rebuilt over the new file
   * rules, so the older view never replaces the newer one. If the stored overlay does not compile over them, the current
   * set keeps serving, as when another instance stores such a change (see reload).
   */
  private installStored(
    set: RuleSet,
    eff: Effective,
    entries: ReadonlyMap<string, OverlayEntry>,
    version: number,
    fileRules: readonly RuleSpec[],
    providers: ProviderCatalog | undefined,
  ): void {
    if (fileRules === this.fileRules && providers === this.providers) {
      this.install(set, eff, entries, version);
      return;
    }
    const now = overlay(this.fileRules, entries);
    const res = this.compileEffective(now);
    if (res.ok) this.install(res.ruleSet, now, entries, version);
    else this.logger?.error({ version, problems: res.problems }, 'stored routing rules do not compile over the reloaded config; keeping the current set');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private logReloadFailure(err: unknown): void {
    this.logger?.error({ err }, 'reloading routing rules from the store failed');
  }

  /**
   * Applies one overlay change: read a fresh snapshot, compute the entry, validate the whole resulting set, then
   * compare-and-set it into the store and swap the compiled set in. Retries when another instance wrote in between.
   */
  private change(
    name: string,
    decide: (exists: boolean, entry: OverlayEntry | undefined, fileRule: RuleSpec | undefined) => OverlayEntry | null,
    deleting = false,
  ): Promise<EffectiveRule> {
    return this.serial(async () => {
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const snap = await this.store.read().catch((err: unknown) => {
          throw storeUnavailable(err);
        });
        const { fileRules, providers } = this;
        const current = overlay(this.fileRules, snap.entries);
        const exists = current.specs.some((r) => r.name === name);
        const entry = decide(exists, snap.entries.get(name), this.fileRules.find((r) => r.name === name));
        const entries = new Map(snap.entries);
        if (entry) entries.set(name, entry);
        else entries.delete(name);
        const eff = overlay(this.fileRules, entries);
        const res = this.compileEffective(eff);
        if (!res.ok) throw invalidRequest(`Change refused, the rule set would not compile: ${formatProblems(res.problems)}`, null, 'invalid_rules');
        const version = await this.store.write(snap.version, name, entry).catch((err: unknown) => {
          throw storeUnavailable(err);
        });
        if (version === undefined) continue;
        if (version > this.version) this.installStored(res.ruleSet, eff, entries, version, fileRules, providers);
        const i = eff.specs.findIndex((r) => r.name === name);
        if (deleting || i < 0) return { rule: current.specs.find((r) => r.name === name)!, source: 'api' };
        return { rule: eff.specs[i]!, source: eff.sources[i]! };
      }
      throw conflict('The routing rules were changed concurrently; retry the request.', 'rules_conflict');
    });
  }
}
