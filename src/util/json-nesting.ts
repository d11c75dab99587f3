/** Reading a JSON text's nesting before it is parsed. Pure. */

/**
 * Whether a JSON text nests arrays and objects more than `max` deep (brackets outside strings), read before it is parsed:
 * a text is bounded in length, not in depth, and half a megabyte of `[` took `JSON.parse` a quarter of a second and then
 * overflowed the stack of whatever serialised the result.
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* backslash */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return false;
}
