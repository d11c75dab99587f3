import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pieces } from '../../src/simulator/text.js';

describe('the simulator\'s reply pieces', () => {
  it('are the words with their leading space, whose concatenation is the text less its trailing space', () => {
    assert.deepEqual(pieces('Hello  big\nworld'), ['Hello', '  big', '\nworld']);
    assert.deepEqual(pieces('  lead and trail  '), ['  lead', ' and', ' trail']);
    assert.deepEqual(pieces('   '), ['   ']);
    assert.deepEqual(pieces(''), ['']);
  });

  it('split a text ending in a long blank run in time linear in it (the old pattern took minutes here)', () => {
    const started = Date.now();
    assert.deepEqual(pieces(`a b${' '.repeat(400_000)}`), ['a', ' b']);
    assert.ok(Date.now() - started < 2_000);
  });
});
