/** Reading a JSON text's structure before it is parsed. Pure. */

/** Bounds a JSON text is read against; one left out is not checked. */
export interface JsonTextBounds {
  /** Object members (colons outside strings). */
  members?: number;
  /** Objects and arrays (opening braces and brackets outside strings). */
  containers?: number;
  /** Commas outside strings (a list of n values has n - 1). */
  commas?: number;
  /** Nesting of arrays and objects. */
  depth?: number;
}

/** What a reading found: the first bound passed, if any, and the commas counted up to there. */
export interface JsonTextShape {
  over?: keyof JsonTextBounds;
  commas: number;
}

/**
 * Reads a JSON text's structure outside its strings, stopping at the first bound passed. A text is bounded in length, not
 * in depth, members or values, and the parse is where those cost: half a megabyte of `[` took `JSON.parse` a quarter of a
 * second and then overflowed the stack of whatever serialised the result; a megabyte of one-digit numbers is half a
 * million values to parse and serialise again. A UTF-8 text may be read as latin1: the characters counted are ASCII, and
 * no byte of a multi-byte character is one of them.
 */
export function readJsonText(text: string, bounds: JsonTextBounds): JsonTextShape {
  const { members: maxMembers = Infinity, containers: maxContainers = Infinity, commas: maxCommas = Infinity, depth: maxDepth = Infinity } = bounds;
  let members = 0;
  let opened = 0;
  let commas = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* backslash */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x2c /* , */) {
      if (++commas > maxCommas) return { over: 'commas', commas };
    } else if (c === 0x3a /* : */) {
      if (++members > maxMembers) return { over: 'members', commas };
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++opened > maxContainers) return { over: 'containers', commas };
      if (++depth > maxDepth) return { over: 'depth', commas };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return { commas };
}
