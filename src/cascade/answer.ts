/**
 * Reads the answer the checks judge — the first choice's text, finish reason, tool calls, refusal and token
 * log-probabilities — from a JSON reply body or from the parts of a buffered stream. Pure.
 */
import type { StreamPart } from '../providers/types.js';
import type { Answer } from './types.js';

type Obj = Record<string, unknown>;

function tokenLogprobs(logprobs: unknown, out: number[]): boolean {
  if (!logprobs || typeof logprobs !== 'object') return false;
  const content = (logprobs as { content?: unknown; token_logprobs?: unknown }).content;
  let found = false;
  if (Array.isArray(content)) {
    for (const t of content) {
      const lp = (t as { logprob?: unknown } | null)?.logprob;
      if (typeof lp === 'number' && Number.isFinite(lp)) {
        out.push(lp);
        found = true;
      }
    }
  }
  // text completions: {tokens, token_logprobs}
  const legacy = (logprobs as { token_logprobs?: unknown }).token_logprobs;
  if (Array.isArray(legacy)) {
    for (const lp of legacy) {
      if (typeof lp === 'number' && Number.isFinite(lp)) {
        out.push(lp);
        found = true;
      }
    }
  }
  return found;
}

/** The answer of a JSON chat or text completion body. */
export function answerFromBody(body: Readonly<Obj>): Answer {
  const choices = body.choices;
  const first = Array.isArray(choices) ? (choices.find((c) => (c as Obj | null)?.index === 0 || (c as Obj | null)?.index === undefined) ?? choices[0]) as Obj | undefined : undefined;
  if (!first) return { text: '', finishReason: null, toolCalls: false, refusal: null, logprobs: undefined };
  const message = first.message as Obj | undefined;
  const text = typeof message?.content === 'string' ? message.content : typeof first.text === 'string' ? first.text : '';
  const lps: number[] = [];
  return {
    text,
    finishReason: typeof first.finish_reason === 'string' ? first.finish_reason : null,
    toolCalls: Array.isArray(message?.tool_calls) && message.tool_calls.length > 0,
    refusal: typeof message?.refusal === 'string' && message.refusal !== '' ? message.refusal : null,
    logprobs: tokenLogprobs(first.logprobs, lps) ? lps : undefined,
  };
}

/** Accumulates the first choice of a stream, part by part. */
export class StreamAnswer {
  private readonly parts: string[] = [];
  private refusalParts: string[] | undefined;
  private readonly lps: number[] = [];
  private hasLogprobs = false;
  private finish: string | null = null;
  private tools = false;

  push(part: StreamPart): void {
    if (!('choice' in part) || part.choice !== 0) return;
    switch (part.type) {
      case 'text-delta':
        this.parts.push(part.text);
        if (tokenLogprobs(part.logprobs, this.lps)) this.hasLogprobs = true;
        break;
      case 'refusal-delta':
        if (part.text !== '') (this.refusalParts ??= []).push(part.text);
        break;
      case 'tool-call-start':
        this.tools = true;
        break;
      case 'finish':
        this.finish = part.reason;
        break;
      default:
        break;
    }
  }

  answer(): Answer {
    return {
      text: this.parts.join(''),
      finishReason: this.finish,
      toolCalls: this.tools,
      refusal: this.refusalParts ? this.refusalParts.join('') : null,
      logprobs: this.hasLogprobs ? this.lps : undefined,
    };
  }
}

/** The answer assembled from buffered stream parts. */
export function answerFromParts(parts: readonly StreamPart[]): Answer {
  const acc = new StreamAnswer();
  for (const p of parts) acc.push(p);
  return acc.answer();
}
