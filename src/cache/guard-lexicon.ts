/**
 * Word lists for the false-hit guard: English function words (ignored when comparing content), negators, question words,
 * number words, and a light suffix stemmer so "isotopes"/"isotope" or "recruiting"/"recruit" compare equal.
 */

/** Function words that carry no content of their own. Negators, question words and number words are kept out on purpose. */
export const STOPWORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'the', 'and', 'or', 'but', 'if', 'then', 'else', 'so', 'than', 'too', 'very', 'just', 'also', 'only', 'really',
  'of', 'in', 'on', 'at', 'to', 'for', 'from', 'by', 'with', 'about', 'as', 'into', 'onto', 'over', 'under', 'up', 'down',
  'out', 'off', 'through', 'during', 'between', 'among', 'via', 'per', 'within', 'upon', 'across', 'along', 'around',
  'i', 'me', 'my', 'mine', 'myself', 'we', 'us', 'our', 'ours', 'you', 'your', 'yours', 'yourself', 'he', 'him', 'his',
  'she', 'her', 'hers', 'it', 'its', 'itself', 'they', 'them', 'their', 'theirs', 'one', 'ones', 'someone', 'somebody',
  'anyone', 'anybody', 'everyone', 'something', 'anything', 'everything', 'thing', 'things',
  'this', 'that', 'these', 'those', 'there', 'here',
  'is', 'am', 'are', 'was', 'were', 'be', 'been', 'being', 'do', 'does', 'did', 'doing', 'done', 'have', 'has', 'had',
  'having', 'get', 'gets', 'got', 'getting', 'can', 'could', 'will', 'would', 'shall', 'should', 'may', 'might', 'must',
  'need', 'needs', 'want', 'wants', 'like', 'way', 'ways', 'possible', 'actually', 'please', 'tell', 'know', 'let',
  'some', 'any', 'all', 'each', 'every', 'such', 'same', 'other', 'another', 'much', 'many', 'more', 'most', 'lot', 'lots',
  'good', 'best', 'better', 'great', 'really', 'kind', 'type', 'types', 'use', 'using', 'make', 'made', 'go', 'going',
  'while', 'because', 'since', 'until', 'both', 'either', 'whether', 'own', 'again', 'still', 'ever', 'even', 'well',
  'say', 'said', 'think', 'mean', 'means', 'example', 'examples', 'some', 'guy', 'guys', 'people', 'person', 'quora',
]);

/** Words that flip the meaning of what follows. "n't" is split off by the tokenizer and lands here as "not". */
export const NEGATORS: ReadonlySet<string> = new Set([
  'not', 'no', 'never', 'none', 'nobody', 'nothing', 'neither', 'nor', 'nowhere', 'without', 'cannot', 'hardly', 'lack',
]);

/** Question words, grouped where they ask the same thing ("what" and "which" usually do). */
export const QUESTION_WORDS: ReadonlyMap<string, string> = new Map([
  ['what', 'what'], ['which', 'what'], ['why', 'why'], ['how', 'how'], ['when', 'when'], ['where', 'where'],
  ['who', 'who'], ['whom', 'who'], ['whose', 'who'],
]);

const NUMBER_WORDS: ReadonlyMap<string, string> = new Map([
  ['zero', '0'], ['two', '2'], ['three', '3'], ['four', '4'], ['five', '5'], ['six', '6'], ['seven', '7'],
  ['eight', '8'], ['nine', '9'], ['ten', '10'], ['eleven', '11'], ['twelve', '12'], ['thirteen', '13'], ['fourteen', '14'],
  ['fifteen', '15'], ['sixteen', '16'], ['seventeen', '17'], ['eighteen', '18'], ['nineteen', '19'], ['twenty', '20'],
  ['thirty', '30'], ['forty', '40'], ['fifty', '50'], ['sixty', '60'], ['seventy', '70'], ['eighty', '80'], ['ninety', '90'],
  ['hundred', '100'], ['thousand', '1000'], ['million', '1e6'], ['billion', '1e9'], ['trillion', '1e12'],
  ['first', '1st'], ['second', '2nd'], ['third', '3rd'], ['fourth', '4th'], ['fifth', '5th'], ['sixth', '6th'],
  ['seventh', '7th'], ['eighth', '8th'], ['ninth', '9th'], ['tenth', '10th'], ['half', '1/2'], ['twice', '2x'], ['double', '2x'],
  ['january', 'm01'], ['february', 'm02'], ['march', 'm03'], ['april', 'm04'], ['june', 'm06'], ['july', 'm07'],
  ['august', 'm08'], ['september', 'm09'], ['october', 'm10'], ['november', 'm11'], ['december', 'm12'],
  ['monday', 'd1'], ['tuesday', 'd2'], ['wednesday', 'd3'], ['thursday', 'd4'], ['friday', 'd5'], ['saturday', 'd6'], ['sunday', 'd7'],
  ['yesterday', 'rel-1'], ['today', 'rel0'], ['tomorrow', 'rel+1'], ['tonight', 'rel0n'],
]);

const DIGITS = /^\d[\d,]*(\.\d+)?(st|nd|rd|th|k|m|x|s)?$/;

/** The canonical form of a quantity, date part or ordinal, or undefined when the token is not one. */
export function quantityOf(token: string): string | undefined {
  const w = NUMBER_WORDS.get(token);
  if (w !== undefined) return w;
  if (!DIGITS.test(token)) return undefined;
  const m = /^(\d[\d,]*(?:\.\d+)?)(.*)$/.exec(token)!;
  const n = Number(m[1].replace(/,/g, ''));
  return Number.isFinite(n) ? `${n}${m[2] === 's' ? '' : m[2]}` : token;
}

/** A light suffix stemmer: enough to equate inflections of one word, never to conflate different words. */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith("'s")) w = w.slice(0, -2);
  if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('es') && /(sh|ch|x|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is') && w.length > 3) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length > 4) w = undouble(w.slice(0, -2));
  else if (w.endsWith('ly') && w.length > 4) w = w.slice(0, -2);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  const n = w.length;
  return n > 3 && w[n - 1] === w[n - 2] && !/[aeiouls]/.test(w[n - 1]) ? w.slice(0, -1) : w;
}
