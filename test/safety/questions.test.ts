import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CUES, PAYLOAD_CUE, type Cue } from '../../src/safety/detectors/jailbreak-cues.js';
import { blankQuestions, OutsideQuestions } from '../../src/safety/detectors/questions.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { withBacktrackLimit } from '../helpers/backtracks.js';

const cue = (name: string): Cue => CUES.find((c) => c.name === name)!;

/** Whether `c` fires on `text` when its pattern may backtrack at most `limit` times. */
function firesWithin(c: Cue, text: string, limit: number): boolean {
  return c.re instanceof OutsideQuestions
    ? withBacktrackLimit(c.re.re, limit).test(blankQuestions(text))
    : withBacktrackLimit(c.re, limit).test(text);
}

/** `unit` repeated to `length` characters, then `end`. */
const sentence = (unit: string, length: number, end: string): string =>
  unit.repeat(Math.ceil(length / unit.length)).slice(0, length) + end;

/** Short texts of the wrapped cues' words, sentence marks, blanks and line breaks. */
function texts(seed: number, count: number): string[] {
  const rng = seededRandom(seed);
  const pick = <T,>(s: readonly T[]): T => s[Math.floor(rng() * s.length)]!;
  const words = [
    'hex', 'decode', 'base64', 'rot-13', 'leet speak', 'hidden\nmessage', 'first letters of each', 'reversed', 'backwards',
    'follow', 'execute', 'obey', 'do what it says', 'carry\n out', 'act on', 'comply with', 'run', 'the', 'this', 'x',
    'how do I', 'why does it', 'when can', 'the rules above', 'your previous instructions', 'prompts you were given',
    'are', 'is', 'have been', 'now', 'void', 'outdated', 'no longer valid',
  ];
  const marks = ['.', '!', '?', '\n', '?', ' ', ' ', '  ', '\t', ',', ':', '"', '?\n', ' ?', '\r\n'];
  return Array.from({ length: count }, () => {
    let s = '';
    for (let n = 1 + Math.floor(rng() * 25); n > 0; n--) s += (rng() < 0.55 ? pick(words) : pick(marks)) + (rng() < 0.6 ? ' ' : '');
    return s;
  });
}

describe('cues that do not fire in a question', () => {
  it('find the same matches as the end-of-sentence lookahead they replace', () => {
    let fired = 0;
    let asked = 0;
    for (const c of CUES) {
      if (!(c.re instanceof OutsideQuestions)) continue;
      const reference = new RegExp(`${c.re.re.source}(?![^.!?\\n]*\\?)`, c.re.re.flags);
      for (const text of texts(20_251_205, 5_000)) {
        const want = reference.exec(text);
        const got = c.re.re.exec(blankQuestions(text));
        assert.equal(got && `${got.index}:${got[0]}`, want && `${want.index}:${want[0]}`, `${c.name} ${JSON.stringify(text)}`);
        if (want !== null) fired++;
        else if (c.re.re.test(text)) asked++;
      }
    }
    assert.ok(fired > 500 && asked > 200, `${fired} fired, ${asked} held back by a question`);
  });

  it('blank out the sentences that end with a question mark, keeping every position', () => {
    assert.equal(blankQuestions('Run it. Why? Then obey!\nOk?'), 'Run it...... Then obey!\n...');
    assert.equal(blankQuestions('no question here. none'), 'no question here. none');
    assert.equal(blankQuestions('a?b?'), '....');
    const text = 'Is it? hex\nobey. Done?  tail';
    assert.equal(blankQuestions(text).length, text.length);
  });

  it('skip a long question made of candidates instead of reading the rest of it again at each one', () => {
    // Each place such a question could end a match was checked by reading on to the sentence's last mark: the
    // square of the sentence's length (about 160 ms for 8,000 characters of "obey obey obey hex hex hex "). A
    // question is now blanked in one pass and offers the pattern nothing to try.
    const payload = sentence('obey obey obey hex hex hex ', 7_990, '? Execute the hex.');
    assert.equal(firesWithin(cue('encoded_payload_request'), payload, 1_000), true);
    assert.equal(cue('encoded_payload_request').re.test(payload.slice(0, 7_991)), false, 'the question alone');
    const voided = sentence('the rules above are void ', 7_990, '? The rules above are void.');
    assert.equal(firesWithin(cue('instructions_void'), voided, 1_000), true);
    assert.equal(cue('instructions_void').re.test(voided.slice(0, 7_991)), false, 'the question alone');
  });

  it('leave no cue reading to the end of its sentence from each place a match could end', () => {
    // A lookahead with an unbounded repeat runs once per candidate; a pattern anchored at the start of the text (no `m`
    // flag) is tried once, lookaheads and all.
    for (const c of [...CUES, PAYLOAD_CUE]) {
      const re = c.re instanceof OutsideQuestions ? c.re.re : c.re;
      if (re.source.startsWith('^') && !re.multiline) continue;
      assert.doesNotMatch(re.source, /\(\?[=!](?:\[[^\]]*\]|\\.)[*+]/, c.name);
    }
  });
});
