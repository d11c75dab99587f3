/** Text a caller may put in a request: what the semantic path (tokenizer, model, lexical features) must take as it comes. */
import fc from 'fast-check';

const code = (min: number, max: number): fc.Arbitrary<string> => fc.integer({ min, max }).map((c) => String.fromCharCode(c));

/** Text a caller may send: any code point, lone surrogates, controls, marks and joiners, long runs, whitespace only. */
export const callerText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: fc.oneof(code(0xd800, 0xdfff), code(0, 0x1f), code(0x300, 0x36f), fc.constantFrom('\u200d', '\u200b', '\u202e', '\ufeff', '\ufffd', ' ', '▁', 'a')), maxLength: 120 }),
  fc.tuple(fc.constantFrom('a', ' ', '▁', '😀', '\u0301', '\ud83d', '.', '模'), fc.integer({ min: 1, max: 20_000 })).map(([c, n]) => c.repeat(n)),
  fc.constantFrom('', ' ', '\n\t ', '\u0000', '▁▁▁', '<unk>', '</s>', '<s>'),
);
