/**
 * Cheap prompt-injection heuristics: instruction-override phrases, persona / "developer mode" overrides, system-prompt
 * extraction, and base64 blobs that decode to such instructions. Each cue has a weight; the cues that fire combine as
 * a noisy-OR into a 0..1 score. Pure.
 *
 * A cue fires on what is said to the assistant about this conversation, not on a topic: "ignore the previous
 * instructions" but not "forget about the budget constraints"; "print your system prompt" but not "what is the system
 * prompt feature"; "Developer Mode enabled." but not "how do I enable developer mode on Android". The benign near-misses
 * of reference-prompts/jailbreak_benign.yaml and the report set in test/safety/fixtures keep them honest.
 */

/**
 * Not inside a question about how or why something happens ("why does my assistant forget the system prompt", "how do I
 * show the system prompt I configured"): such a sentence asks about the words, it does not order them.
 */
const NOT_ASKED = String.raw`(?<!\b(?:how|why|where|when)\s+(?:do|does|did|can|could|should|would|is|are|to)\b[^.!?\n]{0,60})`;

/** Start of a sentence (an imperative there is addressed to the assistant, not asked about). */
const SENTENCE = String.raw`(?:^|[.!?:;"\]\n]\s*|\b(?:please|now|just|then|and)\s+)`;

export interface HeuristicResult {
  /** 0..1 */
  score: number;
  /** Names of the cues that fired. */
  cues: string[];
}

const CUES: ReadonlyArray<{ name: string; weight: number; re: RegExp }> = [
  {
    name: 'ignore_instructions',
    weight: 0.85,
    // The object is the conversation's own instructions (previous, above, your, system …), not "the budget constraints".
    re: new RegExp(String.raw`${NOT_ASKED}\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.!?\n]{0,40}\b(?:previous|prior|above|earlier|preceding|all|any|your|system|original|initial)\b[^.!?\n]{0,30}\b(?:instructions?|prompts?|rules|directives|guidelines|guardrails|constraints|restrictions|programming|policies|context)\b`, 'i'),
  },
  {
    name: 'new_instructions',
    weight: 0.5,
    re: /\b(?:new|updated|real|actual|true)\s+(?:system\s+)?(?:instructions?|rules|directives)\s*(?::|are\b|follow\b)/i,
  },
  {
    name: 'persona_override',
    weight: 0.75,
    re: /\b(?:you are now|from now on,? you(?: are|'re| will)|act as|pretend (?:to be|you are|you're)|roleplay as|role-play as|simulate)\b[^.!?\n]{0,60}\b(?:unfiltered|uncensored|unrestricted|without (?:any )?(?:restrictions|limits|filters|rules|guidelines|morals|ethics)|no (?:restrictions|limits|filters|rules|guidelines|morals|ethics)|jailbroken|evil|amoral|DAN)\b/i,
  },
  // The persona by name with its creed; "do anything now" alone is also a productivity slogan.
  { name: 'dan', weight: 0.85, re: /\b(?:DAN|STAN|DUDE|AIM)\b[^\n]{0,80}\b(?:do anything now|strive to avoid norms|always intelligent and machiavellian|no restrictions)\b/i },
  {
    // A declaration ("Developer Mode enabled", "you are now in jailbreak mode") or an order opening a sentence ("Enable
    // developer mode."), not a question about a device's developer mode.
    name: 'developer_mode',
    weight: 0.7,
    re: new RegExp(String.raw`\b(?:developer|dev|god|debug|admin|sudo|jailbreak|unrestricted)\s+mode\s+(?:is\s+)?(?:now\s+)?(?:enabled|activated)\b|\byou(?:'re| are)\s+(?:now\s+)?in\s+(?:developer|dev|god|jailbreak|unrestricted)\s+mode\b|${SENTENCE}(?:enable|activate)\s+(?:developer|dev|god|jailbreak)\s+mode\b`, 'i'),
  },
  // Jailbreaking the assistant ("jailbroken answers", "jailbreak yourself", "a jailbreak prompt"), not the topic
  // ("what a jailbreak is", "jailbreak my phone", "a prison jailbreak").
  { name: 'jailbreak_word', weight: 0.45, re: /\bjail\s?broken\b|\bjail\s?break(?:ing)?\s+(?:mode|prompt|yourself|the\s+(?:ai|model|assistant|chatbot|bot|llm))\b|\b(?:you(?:'re| are)|this is)\s+(?:now\s+)?(?:a\s+)?jail\s?break\b/i },
  {
    name: 'system_prompt_extraction',
    weight: 0.8,
    // An order to show a prompt ("print the system prompt"), or a question about the assistant's own ("what is your
    // system prompt"), not a question about the feature ("what is the system prompt feature for").
    re: new RegExp(String.raw`${NOT_ASKED}\b(?:(?:reveal|print|show|repeat|output|display|tell me|give me|leak|dump)\b[^.!?\n]{0,30}\b(?:your|the)\s+(?:(?:full|exact|original|initial|hidden|secret|entire)\s+)*(?:system\s+(?:prompt|message|instructions)|initial\s+(?:prompt|instructions)|hidden\s+(?:prompt|instructions)|instructions you were given|prompt above|pre-?prompt)|what (?:is|are|was|were)\b[^.!?\n]{0,30}\b(?:your\s+(?:(?:full|exact|original|initial|hidden|secret|entire)\s+)*(?:system\s+(?:prompt|message|instructions)|initial\s+(?:prompt|instructions)|hidden\s+(?:prompt|instructions)|pre-?prompt)|(?:your|the)\s+(?:(?:full|exact|original|initial|hidden|secret|entire)\s+)*(?:instructions you were given|prompt above)))\b`, 'i'),
  },
  // An order opening a sentence, not "how do I repeat the text above in Word".
  { name: 'verbatim_above', weight: 0.6, re: new RegExp(String.raw`${SENTENCE}(?:repeat|print|output)\b[^.!?\n]{0,30}\b(?:everything|all|the (?:text|words))\s+(?:above|before this|so far)\b`, 'i') },
  { name: 'no_ethics', weight: 0.45, re: /\b(?:no|without|free (?:of|from)|ignore (?:your|all))\s+(?:ethical|moral|safety|content)\s+(?:guidelines|restrictions|limits|filters|policies|constraints)\b/i },
  { name: 'stay_in_character', weight: 0.35, re: /\bstay in character\b|\bnever break character\b|\bdo not break character\b/i },
  { name: 'refusal_suppression', weight: 0.45, re: /\b(?:never|don't|do not|must not)\s+(?:refuse|say (?:you )?can(?:no|')t|apologi[sz]e|add (?:any )?(?:warnings?|disclaimers?))\b/i },
  { name: 'encoded_payload_request', weight: 0.35, re: /\b(?:decode|base64|rot13|hex)\b[^.!?\n]{0,60}\b(?:follow|execute|obey|do what it says|carry out|run)\b/i },
];

const BASE64 = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])/g;

/** Decodes base64 that yields mostly printable text; undefined otherwise. */
function decodedText(blob: string): string | undefined {
  if (blob.length % 4 === 1) return undefined;
  const buf = Buffer.from(blob, 'base64');
  if (buf.length < 12) return undefined;
  let printable = 0;
  for (const b of buf) if ((b >= 32 && b < 127) || b === 10 || b === 13 || b === 9) printable++;
  return printable / buf.length >= 0.95 ? buf.toString('latin1') : undefined;
}

function fire(text: string, cues: string[], weights: number[], prefix = ''): void {
  for (const c of CUES) {
    if (c.re.test(text) && !cues.includes(prefix + c.name)) {
      cues.push(prefix + c.name);
      weights.push(c.weight);
    }
  }
}

/** Scores one text (a user turn, or all user turns joined). */
export function jailbreakHeuristics(input: string): HeuristicResult {
  const text = input.length > 8000 ? input.slice(0, 8000) : input;
  const cues: string[] = [];
  const weights: number[] = [];
  fire(text, cues, weights);
  BASE64.lastIndex = 0;
  for (let m = BASE64.exec(text), n = 0; m !== null && n < 8; m = BASE64.exec(text), n++) {
    const decoded = decodedText(m[0]);
    if (decoded === undefined) continue;
    const before = cues.length;
    fire(decoded, cues, weights, 'base64:');
    if (cues.length > before) {
      cues.push('base64_instructions');
      weights.push(0.9);
    } else if (/\b[a-z]{2,}\s+[a-z]{2,}\s+[a-z]{2,}\b/i.test(decoded)) {
      // Hidden prose is itself a smuggling sign, weaker than decoded override phrases.
      cues.push('base64_text');
      weights.push(0.3);
    }
  }
  let keep = 1;
  for (const w of weights) keep *= 1 - w;
  return { score: 1 - keep, cues };
}
