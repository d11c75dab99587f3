/**
 * The work of the secret detector's patterns on hostile text, as backtracks. V8 steps back through a greedy run of one
 * character class without counting a backtrack, so a pattern that rereads such a run from each of its characters would
 * pass a backtrack limit unnoticed; compiled without that shortcut (this file's own process only), every step back counts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { detectPii } from '../../src/safety/detectors/pii.js';
import { TRAILING_PUNCTUATION } from '../../src/safety/detectors/secrets.js';
import { withBacktrackLimit } from '../helpers/backtracks.js';

setFlagsFromString('--no-regexp-optimization');

describe('secret detector work', () => {
  it('cuts the punctuation closing a token by reading its run once, not once from each of its marks', () => {
    // From each mark of a run of n marks that does not end the text, the run's rest was read to its end: n² / 2 steps
    // (2 million here). From the run's first mark only, about 2n.
    const text = `${'.'.repeat(2_000)}x.`;
    const bounded = withBacktrackLimit(TRAILING_PUNCTUATION, 20_000);
    assert.equal(bounded.exec(text)?.index, 2_001);
    assert.equal('Zq8vX2mK9pL4wR7t.!'.replace(TRAILING_PUNCTUATION, ''), 'Zq8vX2mK9pL4wR7t');
    assert.equal('a.b!c'.replace(TRAILING_PUNCTUATION, ''), 'a.b!c');
    // The same secrets as before: a token closed by a full stop, and none in a token of dots.
    const kinds = (t: string): string[] => detectPii(t).map((f) => `${f.type}:${t.slice(f.start, f.end)}`);
    assert.deepEqual(kinds('the password is Zq8vX2mK9pL4wR7t. Thanks'), ['secret:Zq8vX2mK9pL4wR7t']);
    assert.deepEqual(kinds(`pwd=${'.'.repeat(199)}x `.repeat(50)), []);
  });
});
