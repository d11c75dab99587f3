/**
 * The session a request belongs to: the app's session header, else (when allowed) a hash of the conversation's opening —
 * the system prompt and the first user message, which stay the same on every later turn. Always scoped by the caller
 * (virtual key, team, customer), so no caller can reach another tenant's session. Pure.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../pipeline/context.js';
import type { SessionsConfig } from './config.js';

export interface SessionId {
  /** Store key: a hash of the tenant and the id. */
  key: string;
  source: 'header' | 'derived';
}

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('\n');
}

/** System prompt(s) before the first user message, and that message; undefined when the body has no user message. */
function opening(body: Readonly<Record<string, unknown>>): string | undefined {
  const messages = body['messages'];
  if (!Array.isArray(messages)) return undefined;
  const system: string[] = [];
  for (const m of messages) {
    if (!m || typeof m !== 'object') continue;
    const role = (m as { role?: unknown }).role;
    const content = (m as { content?: unknown }).content;
    if (role === 'system' || role === 'developer') system.push(text(content));
    else if (role === 'user') return `${system.join('\n')}\u0000${text(content)}`;
  }
  return undefined;
}

export function sessionId(ctx: RequestContext, cfg: SessionsConfig): SessionId | undefined {
  const c = ctx.caller;
  const tenant = `${c.customerId}\u0000${c.teamId}\u0000${c.virtualKeyId}`;
  const header = ctx.headers[cfg.header];
  let source: SessionId['source'];
  let id: string;
  if (header !== undefined && header.trim() !== '') {
    source = 'header';
    id = header.trim();
  } else {
    const open = cfg.derive ? opening(ctx.body) : undefined;
    if (open === undefined) return undefined;
    source = 'derived';
    id = open;
  }
  const key = createHash('sha256').update(`${source}\u0000${tenant}\u0000${id}`).digest('base64url').slice(0, 32);
  return { key, source };
}
