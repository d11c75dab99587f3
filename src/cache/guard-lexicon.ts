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

const DIGITS = /^\d[\d,]*(\.\d+)?(st|nd|rd|th|k|m|x|s|am|pm)?$/;

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

type Sign = 1 | -1;
const scale = (axis: string, sign: Sign, words: string): Array<[string, readonly [string, Sign]]> =>
  words.split(' ').map((w) => [w, [axis, sign] as const]);

/**
 * Words at one end of a scale: the scale and which end. Two questions that place the same scale at opposite ends ask
 * opposite things ("cheapest flight" vs "most expensive flight", "increase" vs "decrease"). `degree` holds the comparative
 * words themselves; before a word on another scale they turn it instead ("least expensive" is the cheap end of price).
 */
export const SCALE_WORDS: ReadonlyMap<string, readonly [string, Sign]> = new Map([
  ...scale('degree', 1, 'most more'), ...scale('degree', -1, 'least less fewer'),
  ...scale('size', 1, 'big bigger biggest large larger largest huge'), ...scale('size', -1, 'small smaller smallest tiny'),
  ...scale('height', 1, 'high higher highest tall taller tallest'), ...scale('height', -1, 'low lower lowest'),
  ...scale('price', 1, 'expensive pricey pricier priciest costly costliest'), ...scale('price', -1, 'cheap cheaper cheapest inexpensive affordable'),
  ...scale('speed', 1, 'fast faster fastest quick quicker quickest'), ...scale('speed', -1, 'slow slower slowest'),
  ...scale('quality', 1, 'good better best'), ...scale('quality', -1, 'bad worse worst'),
  ...scale('age', 1, 'old older oldest'), ...scale('age', -1, 'new newer newest young younger youngest'),
  ...scale('heat', 1, 'hot hotter hottest warm warmer warmest'), ...scale('heat', -1, 'cold colder coldest cool cooler coolest'),
  ...scale('difficulty', 1, 'hard harder hardest difficult'), ...scale('difficulty', -1, 'easy easier easiest simple'),
  ...scale('change', 1, 'increase increases increased increasing raise rise rises grow grows'),
  ...scale('change', -1, 'decrease decreases decreased decreasing reduce reduces fall falls drop drops shrink shrinks'),
  ...scale('trade', 1, 'buy buying bought purchase purchasing'), ...scale('trade', -1, 'sell selling sold'),
  ...scale('sequence', 1, 'before prior'), ...scale('sequence', -1, 'after'),
  ...scale('position', 1, 'above'), ...scale('position', -1, 'below beneath'),
  ...scale('outcome', 1, 'win wins winning won gain gains gaining'), ...scale('outcome', -1, 'lose loses losing lost'),
  ...scale('sentiment', 1, 'positive pros advantages benefits'), ...scale('sentiment', -1, 'negative cons disadvantages drawbacks'),
  ...scale('extreme', 1, 'maximum max'), ...scale('extreme', -1, 'minimum'),
  ...scale('timeframe', 1, 'next upcoming future'), ...scale('timeframe', -1, 'last previous past'),
  ...scale('timing', 1, 'early earlier earliest'), ...scale('timing', -1, 'late later latest'),
  ...scale('length', 1, 'long longer longest'), ...scale('length', -1, 'short shorter shortest'),
  ...scale('strength', 1, 'strong stronger strongest'), ...scale('strength', -1, 'weak weaker weakest'),
  ...scale('wealth', 1, 'rich richer richest wealthy'), ...scale('wealth', -1, 'poor poorer poorest'),
  ...scale('safety', 1, 'safe safer safest'), ...scale('safety', -1, 'dangerous unsafe risky'),
  ...scale('flow', 1, 'import imports importing'), ...scale('flow', -1, 'export exports exporting'),
  ...scale('direction', 1, 'north northern'), ...scale('direction', -1, 'south southern'),
  ...scale('side', 1, 'east eastern'), ...scale('side', -1, 'west western'),
  ...scale('state', 1, 'open opening'), ...scale('state', -1, 'close closing closed'),
  ...scale('power', 1, 'on'), ...scale('power', -1, 'off'),
]);

/** Words that name a unit or a time frame; two questions with the same number in different units ask different things. */
export const UNIT_WORDS: ReadonlyMap<string, string> = new Map([
  ...'second seconds sec secs'.split(' ').map((w) => [w, 'second'] as const),
  ...'minute minutes mins'.split(' ').map((w) => [w, 'minute'] as const),
  ...'hour hours hr hrs hourly'.split(' ').map((w) => [w, 'hour'] as const),
  ...'day days daily'.split(' ').map((w) => [w, 'day'] as const),
  ...'week weeks weekly'.split(' ').map((w) => [w, 'week'] as const),
  ...'month months monthly'.split(' ').map((w) => [w, 'month'] as const),
  ...'year years yr yrs yearly annual annually'.split(' ').map((w) => [w, 'year'] as const),
  ...'decade decades'.split(' ').map((w) => [w, 'decade'] as const),
  ...'century centuries'.split(' ').map((w) => [w, 'century'] as const),
  ...'km kms kilometer kilometers kilometre kilometres'.split(' ').map((w) => [w, 'km'] as const),
  ...'mile miles mph'.split(' ').map((w) => [w, 'mile'] as const),
  ...'meter meters metre metres'.split(' ').map((w) => [w, 'meter'] as const),
  ...'foot feet ft'.split(' ').map((w) => [w, 'foot'] as const),
  ...'inch inches'.split(' ').map((w) => [w, 'inch'] as const),
  ...'cm centimeter centimeters centimetre centimetres'.split(' ').map((w) => [w, 'cm'] as const),
  ...'kg kgs kilogram kilograms kilo kilos'.split(' ').map((w) => [w, 'kg'] as const),
  ...'pound pounds lb lbs'.split(' ').map((w) => [w, 'pound'] as const),
  ...'gram grams'.split(' ').map((w) => [w, 'gram'] as const),
  ...'ounce ounces oz'.split(' ').map((w) => [w, 'ounce'] as const),
  ...'celsius centigrade'.split(' ').map((w) => [w, 'celsius'] as const),
  ...'fahrenheit'.split(' ').map((w) => [w, 'fahrenheit'] as const),
  ...'dollar dollars usd'.split(' ').map((w) => [w, 'dollar'] as const),
  ...'euro euros eur'.split(' ').map((w) => [w, 'euro'] as const),
  ...'rupee rupees inr'.split(' ').map((w) => [w, 'rupee'] as const),
  ...'liter liters litre litres'.split(' ').map((w) => [w, 'liter'] as const),
  ...'gallon gallons'.split(' ').map((w) => [w, 'gallon'] as const),
  ...'gb gigabyte gigabytes'.split(' ').map((w) => [w, 'gb'] as const),
  ...'mb megabyte megabytes'.split(' ').map((w) => [w, 'mb'] as const),
  ...'tb terabyte terabytes'.split(' ').map((w) => [w, 'tb'] as const),
]);

/** "am"/"pm" count as units only right after a number ("at 5 pm"), never as the verb ("I am"). */
export const MERIDIEM: ReadonlyMap<string, string> = new Map([['am', 'am'], ['a.m', 'am'], ['pm', 'pm'], ['p.m', 'pm']]);

/** Words that open the two ends of a movement or conversion ("from A to B", "dollars to rupees"). */
export const FROM_WORDS: ReadonlySet<string> = new Set(['from']);
export const TO_WORDS: ReadonlySet<string> = new Set(['to', 'into', 'towards']);
