/**
 * Generates the cache guard's look-alike dev set: pairs of questions that differ by one meaning-changing edit (must not be
 * served) and light paraphrases (should be served), from the duplicate questions of a QQP dev file and CLINC150 val
 * questions. Seeded and repeatable; the output is derived from the shared data and is written at run time, never committed.
 *
 *   node --import tsx scripts/one-edit-pairs.ts [--data ../shared/data] [--out <dir>] [--per-kind 300] [--seed 1]
 *
 * Writes <out>/<kind>.jsonl ({"a","b","duplicate"}) for the kinds number, negation, entity, antonym_direction, unit_time
 * (duplicate false) and paraphrase (duplicate true). Score each with `switchyard cache-eval --data <out>/<kind>.jsonl`:
 * for an edit kind every served pair is a false hit; for paraphrases, served is recall.
 * The edit vocabularies below are the generator's own, written from English usage, not copied from the guard's lexicon.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { seededShuffle } from '../src/commands/build-refs.js';

type Edit = (text: string, pick: <T>(xs: readonly T[]) => T) => string | undefined;

const swapWords = (pairs: ReadonlyArray<readonly [string, string]>): Edit => (text, pick) => {
  const hits = pairs.flatMap(([x, y]) => [[x, y], [y, x]] as const).filter(([x]) => new RegExp(`\\b${x}\\b`, 'i').test(text));
  if (hits.length === 0) return undefined;
  const [x, y] = pick(hits);
  return text.replace(new RegExp(`\\b${x}\\b`, 'i'), (m) => (m[0] === m[0].toUpperCase() ? y[0].toUpperCase() + y.slice(1) : y));
};

const NUMBER: Edit = (text, pick) => {
  const m = /\b\d+\b/.exec(text);
  if (m) return text.slice(0, m.index) + String(Number(m[0]) + pick([1, 2, 3, 5, 10])) + text.slice(m.index + m[0].length);
  return swapWords([['one', 'two'], ['two', 'three'], ['three', 'four'], ['five', 'ten'], ['first', 'second']])(text, pick);
};

const NEGATION: Edit = (text) => {
  const m = /\b(is|are|was|were|can|do|does|did|should|will|would|could)\b/i.exec(text);
  if (!m || /\bnot\b|n't\b/i.test(text)) return undefined;
  return `${text.slice(0, m.index + m[0].length)} not${text.slice(m.index + m[0].length)}`;
};

const ENTITY_POOL = ['India', 'China', 'Canada', 'Germany', 'Japan', 'Brazil', 'Google', 'Amazon', 'Microsoft', 'Apple',
  'Facebook', 'Paris', 'London', 'Tokyo', 'Chicago', 'Python', 'Java', 'Trump', 'Obama', 'Harvard', 'Stanford', 'Samsung'];
const ENTITY: Edit = (text, pick) => {
  const names = [...text.matchAll(/(?<=[a-z\d,]\s+)[A-Z][a-z]+\b/g)].filter((m) => m[0] !== 'I');
  if (names.length === 0) return undefined;
  const m = pick(names);
  const other = pick(ENTITY_POOL.filter((e) => e !== m[0]));
  return text.slice(0, m.index) + other + text.slice(m.index! + m[0].length);
};

const ANTONYM = swapWords([
  ['most', 'least'], ['more', 'less'], ['cheapest', 'most expensive'], ['cheap', 'expensive'], ['best', 'worst'],
  ['better', 'worse'], ['good', 'bad'], ['increase', 'decrease'], ['buy', 'sell'], ['before', 'after'], ['highest', 'lowest'],
  ['high', 'low'], ['biggest', 'smallest'], ['big', 'small'], ['largest', 'smallest'], ['fastest', 'slowest'], ['fast', 'slow'],
  ['easiest', 'hardest'], ['easy', 'hard'], ['hot', 'cold'], ['win', 'lose'], ['gain', 'lose'], ['positive', 'negative'],
  ['advantages', 'disadvantages'], ['maximum', 'minimum'], ['next', 'last'], ['old', 'new'], ['long', 'short'],
  ['strong', 'weak'], ['rich', 'poor'], ['safe', 'dangerous'], ['import', 'export'], ['north', 'south'], ['open', 'close'],
  ['turn on', 'turn off'], ['above', 'below'], ['early', 'late'],
]);
const DIRECTION: Edit = (text) => {
  const m = /\bfrom ([A-Za-z]+(?: [A-Z][a-z]+)?) to ([A-Za-z]+(?: [A-Z][a-z]+)?)\b/.exec(text) ??
    /\b(?:convert|translate|change|exchange|switch|transfer)\s+(?:\d+\s+)?(?:\w+\s+)??([a-z]+) (?:to|into) ([a-z]+)\b/i.exec(text);
  if (!m || m[1].toLowerCase() === m[2].toLowerCase() || /^(the|a|an|my|your|it|me|them)$/i.test(m[1]) || /^(the|a|an|my|your|it|me|them)$/i.test(m[2])) return undefined;
  return text.slice(0, m.index) + m[0].replace(m[1], '\u0000').replace(m[2], m[1]).replace('\u0000', m[2]) + text.slice(m.index + m[0].length);
};
const ANTONYM_DIRECTION: Edit = (text, pick) => (pick([0, 1]) === 0 ? ANTONYM(text, pick) ?? DIRECTION(text, pick) : DIRECTION(text, pick) ?? ANTONYM(text, pick));

const MERIDIEM: Edit = (text) => {
  const m = /\b(\d{1,2}(?::\d\d)?) ?(am|pm|a\.m\.|p\.m\.)/i.exec(text);
  if (!m) return undefined;
  const flip: Record<string, string> = { am: 'pm', pm: 'am', 'a.m.': 'p.m.', 'p.m.': 'a.m.' };
  return text.slice(0, m.index) + m[0].replace(m[2], flip[m[2].toLowerCase()]) + text.slice(m.index + m[0].length);
};
const UNIT_WORDS = swapWords([
  ['months', 'years'], ['month', 'year'], ['days', 'weeks'], ['day', 'week'], ['minutes', 'hours'],
  ['minute', 'hour'], ['seconds', 'minutes'], ['today', 'tomorrow'], ['tomorrow', 'yesterday'], ['tonight', 'tomorrow'],
  ['daily', 'weekly'], ['monthly', 'yearly'], ['miles', 'kilometers'], ['km', 'miles'], ['pounds', 'kilograms'], ['kg', 'pounds'],
  ['celsius', 'fahrenheit'], ['dollars', 'euros'], ['rupees', 'dollars'], ['inches', 'feet'], ['gb', 'mb'], ['liters', 'gallons'],
]);
const UNIT_TIME: Edit = (text, pick) => MERIDIEM(text, pick) ?? UNIT_WORDS(text, pick);

/** Light rewordings that keep the question. */
const PARAPHRASE: Edit = (text, pick) => {
  const rules: Array<[RegExp, string]> = [
    [/\bwhat is\b/i, "what's"], [/\bwhat's\b/i, 'what is'], [/\bhow do i\b/i, 'how can I'], [/\bhow can i\b/i, 'how do I'],
    [/\bcan you\b/i, 'could you'], [/\bcould you\b/i, 'can you'], [/\bi want to\b/i, "I'd like to"], [/\bwhich is\b/i, 'what is'],
    [/\bdo you know\b/i, 'can you tell me'], [/\btell me\b/i, 'let me know'], [/\bwhat are some\b/i, 'what are a few'],
  ];
  const hits = rules.filter(([re]) => re.test(text));
  if (hits.length) {
    const [re, to] = pick(hits);
    return text.replace(re, to);
  }
  const tweaks = [(t: string) => `${t.replace(/[?.!]*$/, '')}?`, (t: string) => `please, ${t[0].toLowerCase()}${t.slice(1)}`, (t: string) => t.toLowerCase()];
  const out = pick(tweaks)(text);
  return out === text ? undefined : out;
};

const KINDS: Array<[string, Edit, boolean]> = [
  ['number', NUMBER, false], ['negation', NEGATION, false], ['entity', ENTITY, false],
  ['antonym_direction', ANTONYM_DIRECTION, false], ['unit_time', UNIT_TIME, false], ['paraphrase', PARAPHRASE, true],
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { data: { type: 'string', default: '../shared/data' }, out: { type: 'string', default: '/tmp/switchyard-one-edit' },
      'per-kind': { type: 'string', default: '300' }, seed: { type: 'string', default: '1' } },
  });
  const perKind = Number(values['per-kind']);
  const seed = Number(values.seed);
  if (!Number.isInteger(perKind) || perKind < 1 || !Number.isInteger(seed) || seed < 0) throw new Error('--per-kind and --seed must be whole numbers');
  const lines = async (f: string) => (await readFile(path.join(values.data, f), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const qqp = (await lines('pairs/qqp_dev_balanced_10k.jsonl')).filter((p) => p.duplicate === true).map((p) => String(p.a));
  const clinc = (await lines('clinc150/val.jsonl')).map((r) => String(r.text));
  const sources = seededShuffle([...new Set([...qqp, ...clinc])], seed);
  let s = seed + 1;
  const pick = <T>(xs: readonly T[]): T => {
    s = (Math.imul(s, 48271) + 1) >>> 0;
    return xs[s % xs.length];
  };
  await mkdir(values.out, { recursive: true });
  for (const [kind, edit, duplicate] of KINDS) {
    const rows: string[] = [];
    for (const a of sources) {
      if (rows.length >= perKind) break;
      const b = edit(a, pick);
      if (b !== undefined && b !== a) rows.push(JSON.stringify({ a, b, duplicate }));
    }
    await writeFile(path.join(values.out, `${kind}.jsonl`), `${rows.join('\n')}\n`);
    process.stdout.write(`${kind}: ${rows.length} pairs -> ${path.join(values.out, `${kind}.jsonl`)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
});
