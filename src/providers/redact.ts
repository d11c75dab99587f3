/**
 * Sanitising text that came from an upstream (error messages, in-stream error events) before it reaches a client or a log:
 * the configured secrets and anything shaped like a credential are replaced, control characters dropped, and the length
 * capped. Built once per runtime from the config's secrets; adapters apply it where upstream text enters the gateway.
 */

export type Redact = (text: string) => string;

/** Longest upstream message passed on, in characters. */
export const MAX_UPSTREAM_MESSAGE = 500;

export const REDACTED = '[redacted]';

/** Shapes of credentials: provider keys, bearer tokens, JWTs, cloud keys, and long opaque tokens mixing letters and digits. */
const KEY_LIKE = [
  String.raw`\b(?:sk|pk|rk|ak)[-_][A-Za-z0-9_-]{8,}`,
  String.raw`\b(?:Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}`,
  String.raw`\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*`,
  String.raw`\bAKIA[0-9A-Z]{16}\b`,
  String.raw`\bAIza[0-9A-Za-z_-]{30,}`,
  String.raw`\bgh[pousr]_[A-Za-z0-9]{20,}`,
  String.raw`\bxox[abprs]-[A-Za-z0-9-]{10,}`,
  String.raw`\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}`,
];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/**
 * A redactor for `secrets` (values shorter than 4 characters are ignored: they would blank ordinary words) plus the
 * credential shapes, capping the result at `maxChars`.
 */
export function createRedactor(secrets: Iterable<string> = [], maxChars = MAX_UPSTREAM_MESSAGE): Redact {
  const values = [...new Set([...secrets].filter((s) => typeof s === 'string' && s.length >= 4))].sort((a, b) => b.length - a.length);
  const pattern = new RegExp([...values.map(escape), ...KEY_LIKE].join('|'), 'g');
  return (text: string): string => {
    // Capped before matching too, so a huge upstream body costs bounded work.
    const bounded = text.length > maxChars * 4 ? text.slice(0, maxChars * 4) : text;
    const clean = bounded.replace(pattern, REDACTED).replace(CONTROL, '');
    return clean.length > maxChars ? `${clean.slice(0, maxChars)}…` : clean;
  };
}

/** The credential shapes alone (adapters built without a config, e.g. in tools). */
export const redactKeyLike: Redact = createRedactor();
