/** Which text of an OpenAI request gets embedded. Pure. */
import type { EmbedTextMode } from './config.js';

/** Text of one message's `content`: a string, or the text parts of a content-parts array (images and audio are skipped). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (part && typeof part === 'object' && (part as { type?: unknown }).type === 'text') {
      const t = (part as { text?: unknown }).text;
      if (typeof t === 'string' && t !== '') out = out === '' ? t : `${out}\n${t}`;
    }
  }
  return out;
}

/**
 * The text to embed from a chat body (`messages`) or a completions body (`prompt`, a string or an array of strings):
 *  - `last_user`: the last user message;
 *  - `all_user`: every user message, oldest first, one per line;
 *  - `all`: every message's text (system, user, assistant, tool), oldest first.
 * A completions prompt is used whole in every mode. Returns '' when the body has no text.
 */
export function textToEmbed(body: Readonly<Record<string, unknown>>, mode: EmbedTextMode): string {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    if (mode === 'last_user') {
      for (let i = messages.length - 1; i >= 0; i--) {
        const m = messages[i] as { role?: unknown; content?: unknown } | null;
        if (m?.role === 'user') return contentText(m.content);
      }
      return '';
    }
    const parts: string[] = [];
    for (const m of messages as Array<{ role?: unknown; content?: unknown } | null>) {
      if (!m || (mode === 'all_user' && m.role !== 'user')) continue;
      const t = contentText(m.content);
      if (t !== '') parts.push(t);
    }
    return parts.join('\n');
  }
  const prompt = body.prompt;
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) return prompt.filter((p): p is string => typeof p === 'string').join('\n');
  return '';
}

/**
 * A category name as text: `report_lost_card` → "report lost card" (empty when it has no letters or digits). The same
 * rule the catalogue uses for its name-as-example (catalog/build.ts), so the classifier can recognise that example.
 */
export const categoryNameText = (name: string): string => name.replace(/[_.\-\s]+/g, ' ').trim();
