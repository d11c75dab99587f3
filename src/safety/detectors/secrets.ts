/**
 * API keys and secrets: well-known key prefixes, PEM private keys and JWTs, plus long high-entropy tokens that sit right after
 * a word such as key, token, secret or password. Pure.
 */
import { entropy } from './checksums.js';
import type { PiiFinding } from './types.js';

/** Prefixed credentials. Each must be a whole token (no word character right before it). */
const PREFIXED: ReadonlyArray<{ detector: string; re: RegExp }> = [
  { detector: 'secret.private_key', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g },
  { detector: 'secret.anthropic', re: /(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,}/g },
  { detector: 'secret.openai', re: /(?<![\w-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g },
  { detector: 'secret.aws', re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Za-z0-9])/g },
  { detector: 'secret.github', re: /(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g },
  { detector: 'secret.slack', re: /(?<![\w])xox[abposr]-[A-Za-z0-9-]{10,}/g },
  { detector: 'secret.google', re: /(?<![\w])AIza[0-9A-Za-z_-]{35}(?![\w-])/g },
  { detector: 'secret.stripe', re: /(?<![\w])(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{20,}/g },
  { detector: 'secret.gitlab', re: /(?<![\w])glpat-[A-Za-z0-9_-]{20,}/g },
  { detector: 'secret.jwt', re: /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
];

/**
 * A token after a credential word: `api_key = "..."`, `token: ...`, `password is ...`. The token must be long, mix letters
 * and digits and look random (entropy), so prose such as "password is required" never fires. The blanks after the word
 * are read by one `\s*` (those after a separator by its own): two in a row could split a run of blanks at any of its
 * characters, and a word followed by a long run and no token would be tried once per split (quadratic: 32 000 blanks
 * took 2.7 s).
 */
export const CONTEXTUAL = /\b(?:api[_ -]?key|apikey|access[_ -]?key|secret(?:[_ -]?key)?|client[_ -]?secret|token|bearer|password|passwd|pwd|credential|auth)s?\b["']?\s*(?:(?:[:=]|=>|\bis\b|\bas\b)\s*)?["'`]?([A-Za-z0-9_\-+/=.~!@#$%^&*]{16,200})/gi;

/**
 * Punctuation closing a token ("token: Zq8v…R7t."), cut off before the token is scored. Matched only from the start of its
 * run: tried from each mark of a run that does not end the token, it read the rest of the run each time, the square of
 * the run's length (tokens of 200 dots and a letter after credential words cost about 0.3 s per MB of text).
 */
export const TRAILING_PUNCTUATION = /(?<![.,;:!])[.,;:!]+$/;

function looksRandom(tok: string): boolean {
  if (!/[0-9]/.test(tok) || !/[A-Za-z]/.test(tok)) return false;
  const hexOnly = /^[0-9a-f]+$/i.test(tok);
  return entropy(tok) >= (hexOnly ? 3.0 : 3.5);
}

export function detectSecrets(text: string, out: PiiFinding[]): void {
  for (const { detector, re } of PREFIXED) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      out.push({ type: 'secret', detector, start: m.index, end: m.index + m[0].length });
    }
  }
  CONTEXTUAL.lastIndex = 0;
  for (let m = CONTEXTUAL.exec(text); m !== null; m = CONTEXTUAL.exec(text)) {
    const tok = m[1]!.replace(TRAILING_PUNCTUATION, '');
    if (tok.length < 16 || !looksRandom(tok)) continue;
    const start = m.index + m[0].length - m[1]!.length;
    out.push({ type: 'secret', detector: 'secret.entropy', start, end: start + tok.length });
  }
}
