/**
 * Language identification for short prompts: the dominant script decides for scripts used by one major language (Hangul →
 * ko, kana → ja, Thai → th, ...); Latin and Cyrillic text is scored against stop-word profiles and distinctive letters.
 * Returns an ISO 639-1 code, or "und" when the text has too little evidence. Pure.
 */

/** Script ranges with the language they indicate on their own. */
const SCRIPTS: ReadonlyArray<{ lang: string; re: RegExp }> = [
  { lang: 'ja', re: /[\u3040-\u30ff]/g },
  { lang: 'ko', re: /[\uac00-\ud7af\u1100-\u11ff]/g },
  { lang: 'zh', re: /[\u4e00-\u9fff\u3400-\u4dbf]/g },
  { lang: 'ar', re: /[\u0600-\u06ff\u0750-\u077f]/g },
  { lang: 'he', re: /[\u0590-\u05ff]/g },
  { lang: 'hi', re: /[\u0900-\u097f]/g },
  { lang: 'bn', re: /[\u0980-\u09ff]/g },
  { lang: 'ta', re: /[\u0b80-\u0bff]/g },
  { lang: 'th', re: /[\u0e00-\u0e7f]/g },
  { lang: 'el', re: /[\u0370-\u03ff]/g },
  { lang: 'hy', re: /[\u0530-\u058f]/g },
  { lang: 'ka', re: /[\u10a0-\u10ff]/g },
  { lang: 'cyr', re: /[\u0400-\u04ff]/g },
  { lang: 'lat', re: /[A-Za-z\u00c0-\u024f]/g },
];

/** Frequent function words per language (lower case). Words shared by several languages count for each. */
const STOPWORDS: Readonly<Record<string, string>> = {
  en: 'the and is are was were to of in that it for on with as this be have has i you what how why can do does not my your me we they will would should could there which who an a from at by or if about when please',
  es: 'el la los las de que y en un una es por para con no se lo como más pero sus le ya o este sí porque esta entre cuando muy sin sobre también me hay qué cómo dónde mi tengo puedo quiero necesito',
  fr: 'le la les de des et est un une du en que qui pas pour dans ce il elle sur au avec je vous nous ne se plus son mais comme ou sont cette quoi comment est-ce mon ma mes suis peux veux',
  de: 'der die das und ist nicht ein eine ich sie es zu den mit von auf für dem im sich des auch wie wir was bitte kann ich können ist mein meine haben habe wird noch nach bei oder warum',
  it: 'il lo la gli le di che e è un una per non con del della sono come anche ma più mi ti si questo questa cosa perché posso voglio ho ha nel alla',
  pt: 'o a os as de que e é um uma do da em para com não no na se por mais como mas foi ao ele ela isso você eu meu minha tenho posso quero está são',
  nl: 'de het een en van is dat ik niet je zijn op te met voor er maar om ook als wat hoe kan mijn wij ze dit deze heb hebben bij naar',
  sv: 'och att det är som en på för med jag inte av har till den om ett var kan vad hur min mitt ska vi de men eller',
  da: 'og at det er en af på til med ikke jeg for den har som de kan vi hvad hvordan min mit skal eller men',
  pl: 'i w nie na się jest z do to że co jak o tak ale czy za od po mi mnie jestem mam może być ten ta',
  tr: 've bir bu da de ne için ile mi ben sen o çok daha gibi ama var yok nasıl neden nedir mı mu bana benim',
  id: 'dan yang di ini itu dengan untuk dari tidak ada saya apa bisa akan ke pada juga atau bagaimana kamu anda',
  ro: 'și de la în este nu pe cu o un ce să din care mai pentru sunt cum eu am fost',
  cs: 'a je se na v že to s z do jak jsem není ale co pro by mi ti jsou tak',
  fi: 'ja on ei se että hän oli ovat mitä miten kuinka minä sinä tämä mutta myös tai kun',
  ru: 'и в не на что я с он как это по но из у за от так же все она вы мы ты мне меня как что где почему',
  uk: 'і в не на що я з він як це та але до у за від так ви ми ти мені мене де чому',
};

const PROFILES: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries(STOPWORDS).map(([lang, words]) => [lang, new Set(words.split(' '))]),
);

/** Letters that only some languages use: a hint worth one stop-word each. */
const LETTER_HINTS: ReadonlyArray<{ lang: string; re: RegExp }> = [
  { lang: 'es', re: /[ñ¿¡]/g },
  { lang: 'pt', re: /[ãõ]/g },
  { lang: 'de', re: /[ß]/g },
  { lang: 'de', re: /[äöü]/g },
  { lang: 'fr', re: /[èêëœç]/g },
  { lang: 'pl', re: /[ąęłńśźż]/g },
  { lang: 'tr', re: /[ğışİ]/g },
  { lang: 'ro', re: /[ăâîșț]/g },
  { lang: 'cs', re: /[ěščřžůý]/g },
  { lang: 'sv', re: /[å]/g },
  { lang: 'da', re: /[æø]/g },
  { lang: 'uk', re: /[ієїґ]/g },
];

const WORD = /[\p{L}'-]+/gu;

function count(re: RegExp, text: string): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(text) !== null) n++;
  return n;
}

function byWords(text: string, candidates: readonly string[]): string {
  const score = new Map<string, number>(candidates.map((l) => [l, 0]));
  let words = 0;
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m !== null && words < 400; m = WORD.exec(text)) {
    words++;
    const w = m[0].toLowerCase();
    for (const l of candidates) if (PROFILES.get(l)!.has(w)) score.set(l, score.get(l)! + 1);
  }
  for (const h of LETTER_HINTS) {
    if (!score.has(h.lang)) continue;
    const n = count(h.re, text);
    if (n > 0) score.set(h.lang, score.get(h.lang)! + Math.min(n, 3) * 0.75);
  }
  let best = 'und';
  let top = 0;
  let second = 0;
  for (const [l, s] of score) {
    if (s > top) {
      second = top;
      top = s;
      best = l;
    } else if (s > second) second = s;
  }
  // Evidence: at least one function word, and a lead over the runner-up on anything but the shortest text.
  if (top < 1 || (top === second && words > 2)) return 'und';
  return best;
}

const LATIN = Object.keys(STOPWORDS).filter((l) => l !== 'ru' && l !== 'uk');

/** ISO 639-1 code of the text's language, or "und". Looks at the first 2,000 characters. */
export function detectLanguage(input: string): string {
  const text = input.length > 2000 ? input.slice(0, 2000) : input;
  let bestScript = '';
  let bestCount = 0;
  let kana = 0;
  let han = 0;
  for (const s of SCRIPTS) {
    const n = count(s.re, text);
    if (s.lang === 'ja') kana = n;
    if (s.lang === 'zh') han = n;
    if (n > bestCount) {
      bestCount = n;
      bestScript = s.lang;
    }
  }
  if (bestCount < 2) return 'und';
  // Japanese mixes kanji with kana; any real amount of kana means Japanese.
  if (bestScript === 'zh' && kana > 0 && kana * 5 >= han) return 'ja';
  if (bestScript === 'cyr') {
    const l = byWords(text, ['ru', 'uk']);
    return l === 'und' ? 'ru' : l;
  }
  if (bestScript === 'lat') return byWords(text, LATIN);
  return bestScript;
}
