/** What a well-formed reply is, per door, for the adversarial suites: a valid success or the door's error envelope. */

export interface Reply { status: number; type: string; text: string }

/** Checks the reply is a valid success or a well-formed error envelope; returns a reason when it is not. */
export function malformed(r: Reply): string | undefined {
  if (r.status >= 400) {
    let j: any;
    try { j = JSON.parse(r.text); } catch { return `error ${r.status} body is not JSON: ${r.text.slice(0, 200)}`; }
    const e = j?.error;
    if (typeof e?.message !== 'string' || typeof e?.type !== 'string' || !('param' in e) || !('code' in e)) return `error ${r.status} is not an envelope: ${r.text.slice(0, 200)}`;
    return undefined;
  }
  if (r.status !== 200) return `unexpected status ${r.status}`;
  if (r.type.startsWith('text/event-stream')) {
    const frames = r.text.split('\n\n').filter((f) => f.trim() !== '');
    if (frames.length === 0) return 'empty stream';
    for (const f of frames.slice(0, -1)) {
      if (!f.startsWith('data: ')) return `bad frame ${f.slice(0, 80)}`;
      const j = JSON.parse(f.slice(6));
      if (j?.error !== undefined) return 'an error event before the end of the stream';
    }
    const last = frames[frames.length - 1];
    if (last === 'data: [DONE]') return undefined;
    try {
      const j = JSON.parse(last.slice(6));
      return typeof j?.error?.message === 'string' ? undefined : `stream ends without [DONE] or an error: ${last.slice(0, 80)}`;
    } catch {
      return `stream ends with a broken frame: ${last.slice(0, 80)}`;
    }
  }
  try {
    const j = JSON.parse(r.text);
    return j !== null && typeof j === 'object' && (Array.isArray(j.choices) || Array.isArray(j.data)) ? undefined : `200 body is not an OpenAI reply: ${r.text.slice(0, 120)}`;
  } catch {
    return `200 body is not JSON: ${r.text.slice(0, 120)}`;
  }
}
