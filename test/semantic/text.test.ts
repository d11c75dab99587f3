import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentText, textToEmbed } from '../../src/semantic/text.js';

const chat = {
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: 'an answer' },
    { role: 'user', content: [{ type: 'text', text: 'second' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'question' }] },
  ],
};

test('last_user takes the last user turn, content parts joined, images skipped', () => {
  assert.equal(textToEmbed(chat, 'last_user'), 'second\nquestion');
});

test('all_user and all', () => {
  assert.equal(textToEmbed(chat, 'all_user'), 'first question\nsecond\nquestion');
  assert.equal(textToEmbed(chat, 'all'), 'You are terse.\nfirst question\nan answer\nsecond\nquestion');
});

test('completions prompt: string or array of strings', () => {
  assert.equal(textToEmbed({ prompt: 'say hi' }, 'last_user'), 'say hi');
  assert.equal(textToEmbed({ prompt: ['a', 'b', [1, 2]] }, 'all'), 'a\nb');
});

test('no text gives an empty string', () => {
  assert.equal(textToEmbed({ messages: [{ role: 'assistant', content: 'x' }] }, 'last_user'), '');
  assert.equal(textToEmbed({}, 'all'), '');
  assert.equal(contentText(null), '');
});
