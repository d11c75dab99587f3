/**
 * The text slots of an OpenAI request body — chat message contents (strings and text parts), completion prompts, embedding
 * inputs — and a copy-on-write replacement of some of them. Pure; the body is never mutated.
 */

export interface TextSlot {
  /** Where the text lives, e.g. ['messages', 2, 'content'] or ['messages', 0, 'content', 1, 'text']. */
  path: ReadonlyArray<string | number>;
  text: string;
  /** The message role for chat slots; 'user' for prompts and inputs. */
  role: string;
}

/** Renders a slot path as `messages[2].content`. */
export function slotName(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function stringsOf(key: string, v: unknown, out: TextSlot[]): void {
  if (typeof v === 'string') out.push({ path: [key], text: v, role: 'user' });
  else if (Array.isArray(v)) v.forEach((x, i) => typeof x === 'string' && out.push({ path: [key, i], text: x, role: 'user' }));
}

/** Every text slot of the body, in order. */
export function textSlots(body: Readonly<Record<string, unknown>>): TextSlot[] {
  const out: TextSlot[] = [];
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    messages.forEach((m, i) => {
      if (!m || typeof m !== 'object') return;
      const role = typeof (m as { role?: unknown }).role === 'string' ? (m as { role: string }).role : '';
      const content = (m as { content?: unknown }).content;
      if (typeof content === 'string') out.push({ path: ['messages', i, 'content'], text: content, role });
      else if (Array.isArray(content)) {
        content.forEach((part, j) => {
          const t = part && typeof part === 'object' ? (part as { text?: unknown }).text : undefined;
          if (typeof t === 'string') out.push({ path: ['messages', i, 'content', j, 'text'], text: t, role });
        });
      }
    });
    return out;
  }
  stringsOf('prompt', body['prompt'], out);
  stringsOf('input', body['input'], out);
  return out;
}

/** A copy of `body` with the text at each path replaced; only the containers on those paths are copied. */
export function replaceSlots(
  body: Readonly<Record<string, unknown>>,
  replacements: ReadonlyArray<{ path: ReadonlyArray<string | number>; text: string }>,
): Record<string, unknown> {
  const root: Record<string, unknown> = { ...body };
  const copied = new Set<unknown>([root]);
  for (const { path, text } of replacements) {
    let node: Record<string | number, unknown> = root;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      let child = node[key] as Record<string | number, unknown>;
      if (!copied.has(child)) {
        child = (Array.isArray(child) ? [...child] : { ...child }) as Record<string | number, unknown>;
        copied.add(child);
        node[key] = child;
      }
      node = child;
    }
    node[path[path.length - 1]!] = text;
  }
  return root;
}

/**
 * Every string inside the fields only a caller's native body carries (`NativeRequest.extras`, src/llm/protocol.ts): text the
 * internal request does not hold, so redaction cannot reach it. The body was bounded by server.limits before it got here.
 */
export function nativeStrings(extras: Readonly<Record<string, unknown>> | undefined): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  if (extras !== undefined) walk(extras);
  return out;
}
