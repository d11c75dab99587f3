/**
 * Model allow-lists. A pattern with a `/` is a glob over the routed target `provider/model` (`openai/*`, `*\/gpt-4o-mini`);
 * a pattern without one is a glob over the model or alias name the caller sent, and over the routed model name. `*` matches
 * any run of characters; matching is case-sensitive, like model names.
 */
import type { Target } from '../pipeline/context.js';

export type ModelMatcher = (requested: string, target: Target) => boolean;

function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}

/** Compiles a list of patterns; the matcher allows when any pattern matches. */
export function compileAllowList(patterns: readonly string[]): ModelMatcher {
  if (patterns.includes('*') || patterns.includes('*/*')) return () => true;
  const qualified: RegExp[] = [];
  const bare: RegExp[] = [];
  for (const p of patterns) (p.includes('/') ? qualified : bare).push(globToRegExp(p));
  return (requested, target) => {
    if (qualified.length > 0) {
      const full = `${target.provider}/${target.model}`;
      for (const r of qualified) if (r.test(full)) return true;
    }
    for (const r of bare) if (r.test(requested) || r.test(target.model)) return true;
    return false;
  };
}
