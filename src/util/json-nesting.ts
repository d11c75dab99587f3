/** Reading a JSON text's shape before it is parsed. Pure. */

/** What a JSON text holds outside its strings (see `jsonTextShape`). */
export interface JsonTextShape {
  /** It nests arrays and objects deeper than the depth asked about (the count stops there). */
  deeper: boolean;
  /** Commas outside strings, up to where the count stopped: a list of n values has n - 1. */
  commas: number;
}

/**
 * Whether a JSON text nests arrays and objects more than `maxDepth` deep (brackets outside strings), and how many commas
 * separate its values, read before it is parsed: a text is bounded in length, not in depth or in values. Half a megabyte
 * of `[` took `JSON.parse` a quarter of a second and then overflowed the stack of whatever serialised the result; a
 * megabyte of one-digit numbers is half a million values to parse and serialise again.
 */
export function jsonTextShape(text: string, maxDepth: number): JsonTextShape {
  let depth = 0;
  let commas = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* backslash */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x2c /* , */) commas++;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return { deeper: true, commas };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return { deeper: false, commas };
}
