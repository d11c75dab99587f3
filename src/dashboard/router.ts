/**
 * The dashboard routes: `GET /dashboard` (the page) and `GET /dashboard/data` (everything it shows, as JSON). Mount behind
 * the admin key. The data comes from callbacks the composition root fills (activity feed, health registry, reference-prompt
 * catalog, cache stats, rules, spend); a failing source is reported in `errors` and the rest is still served.
 */
import { Router, type Request, type Response } from 'express';
import type { ProviderHealthView } from '../providers/health-registry.js';
import type { ActivityOverview } from '../observability/activity.js';
import { PAGE_CSP, PAGE_HTML } from './page.js';

type MaybePromise<T> = T | Promise<T>;

/** A reference-prompt category as the catalog knows it; `examples` may be the list or its length. */
export interface CategorySummary {
  name: string;
  description?: string;
  examples: readonly unknown[] | number;
  threshold?: number | null;
  metadata?: Readonly<Record<string, unknown>>;
}

export interface RuleSummary {
  name: string;
  scope: string;
  priority: number;
  enabled: boolean;
  /** "provider/model" strings or { target | provider+model, weight } objects. */
  targets: readonly unknown[];
}

export interface DashboardSources {
  activity(): MaybePromise<ActivityOverview>;
  health(): MaybePromise<Record<string, ProviderHealthView>>;
  categories?(): MaybePromise<readonly CategorySummary[]>;
  /** Cache statistics (src/cache StatsSnapshot or similar), undefined when the cache is off. */
  cache?(): MaybePromise<unknown>;
  rules?(): MaybePromise<readonly RuleSummary[]>;
  /** Spend and savings over the last day (src/ledger SpendOverview or similar). */
  spend?(): MaybePromise<unknown>;
}

export interface DashboardData {
  generated_at: string;
  activity: ActivityOverview;
  health: Record<string, ProviderHealthView>;
  categories: Array<{ name: string; description: string; examples: number; threshold: number | null; metadata: Record<string, unknown> }>;
  cache: unknown;
  rules: Array<{ name: string; scope: string; priority: number; enabled: boolean; targets: unknown[] }>;
  spend: unknown;
  /** Sources that failed, with their message. */
  errors: Record<string, string>;
}

async function attempt<T>(name: string, errors: Record<string, string>, fn: (() => MaybePromise<T>) | undefined, fallback: T): Promise<T> {
  if (fn === undefined) return fallback;
  try {
    return await fn();
  } catch (err) {
    errors[name] = err instanceof Error ? err.message : String(err);
    return fallback;
  }
}

/** Collects every source into the JSON the page renders. Category examples are reduced to their count. */
export async function dashboardData(sources: DashboardSources, now = new Date()): Promise<DashboardData> {
  const errors: Record<string, string> = {};
  const [activity, health, categories, cache, rules, spend] = await Promise.all([
    attempt('activity', errors, () => sources.activity(), undefined),
    attempt('health', errors, () => sources.health(), {}),
    attempt('categories', errors, sources.categories?.bind(sources), []),
    attempt('cache', errors, sources.cache?.bind(sources), undefined),
    attempt('rules', errors, sources.rules?.bind(sources), []),
    attempt('spend', errors, sources.spend?.bind(sources), undefined),
  ]);
  if (activity === undefined) throw new Error(`the activity source failed: ${errors.activity ?? 'no data'}`);
  return {
    generated_at: now.toISOString(),
    activity,
    health,
    categories: categories.map((c) => ({
      name: c.name,
      description: c.description ?? '',
      examples: typeof c.examples === 'number' ? c.examples : c.examples.length,
      threshold: c.threshold ?? null,
      metadata: { ...(c.metadata ?? {}) },
    })),
    cache: cache ?? null,
    rules: rules.map((r) => ({ name: r.name, scope: r.scope, priority: r.priority, enabled: r.enabled, targets: [...r.targets] })),
    spend: spend ?? null,
    errors,
  };
}

export function dashboardRouter(sources: DashboardSources): Router {
  const router = Router();
  const page = Buffer.from(PAGE_HTML, 'utf8');

  router.get('/dashboard', function dashboardPage(_req: Request, res: Response): void {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('content-security-policy', PAGE_CSP);
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    res.end(page);
  });

  router.get('/dashboard/data', async function dashboardJson(_req: Request, res: Response): Promise<void> {
    const data = await dashboardData(sources);
    res.setHeader('cache-control', 'no-store');
    res.json(data);
  });

  return router;
}
