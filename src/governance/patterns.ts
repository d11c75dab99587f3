/**
 * Model allow-lists. A pattern with a `/` is a glob over the routed target `provider/model` (`openai/*`, `*\/gpt-4o-mini`);
 * a pattern without one is a glob over the model or alias name the caller sent, and over the routed model name. `*` matches
 * any run of characters; matching is case-sensitive, like model names.
 */
import type { Target } from '../pipeline/context.js';

export type ModelMatcher = (requested: string, target: Target) => boolean;

/**
 * A glob matcher that never backtracks more than once per star: the last star absorbs one more character and the rest is
 * retried, so a check costs at most (pattern length × name length) steps. A regular expression `^a.*a.*…b$` would take time
 * exponential in the stars on a long name a caller picks.
 */
function globMatcher(glob: string): (s: string) => boolean {
  return (s) => {
    let p = 0;
    let i = 0;
    let star = -1;
    let mark = 0;
    while (i < s.length) {
      if (p < glob.length && glob[p] === '*') {
        star = p++;
        mark = i;
      } else if (p < glob.length && glob[p] === s[i]) {
        p++;
        i++;
      } else if (star >= 0) {
        p = star + 1;
        i = ++mark;
      } else return false;
    }
    while (p < glob.length && glob[p] === '*') p++;
    return p === glob.length;
  };
}

/** Compiles a list of patterns; the matcher allows when any pattern matches. */
export function compileAllowList(patterns: readonly string[]): ModelMatcher {
  if (patterns.includes('*') || patterns.includes('*/*')) return () => true;
  const qualified: Array<(s: string) => boolean> = [];
  const bare: Array<(s: string) => boolean> = [];
  for (const p of patterns) (p.includes('/') ? qualified : bare).push(globMatcher(p));
  return (requested, target) => {
    if (qualified.length > 0) {
      const full = `${target.provider}/${target.model}`;
      for (const m of qualified) if (m(full)) return true;
    }
    for (const m of bare) if (m(requested) || m(target.model)) return true;
    return false;
  };
}
