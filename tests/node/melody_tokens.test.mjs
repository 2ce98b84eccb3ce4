// Melody records -> tokens (tools/melody/tokens.mjs): key-relative pitches, the duration grid, bars,
// chords as roman numerals, syllable marks; every token is in the vocabulary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chordToken, recordTokens, tonicPc, vocabulary } from '../../tools/melody/tokens.mjs';

test('tonics and chord symbols', () => {
  assert.equal(tonicPc('G'), 7);
  assert.equal(tonicPc('Bb'), 10);
  assert.equal(tonicPc('F#'), 6);
  assert.equal(chordToken('D7', 'G'), '<c:V7>');
  assert.equal(chordToken('Em', 'G'), '<c:vi>');
  assert.equal(chordToken('F', 'G'), '<c:bVII>');
  assert.equal(chordToken('Bdim', 'C'), '<c:viio>');
  assert.equal(chordToken('x', 'C'), null);
});

test('a record becomes key-relative tokens with bars, chords and syllables', () => {
  const rec = {
    key: { tonic: 'G', mode: 'major' }, meter: [6, 8], type: 'jig',
    notes: [[67, 0, 0.5, 0, 'la'], [71, 0.5, 0.5, 0], [null, 1, 0.5, 0], [74, 1.5, 1.5, 1]],
    chords: [[0, 'G'], [1.5, 'D']],
  };
  const { tokens, dropped } = recordTokens(rec);
  assert.deepEqual(tokens, ['<bos>', '<type:jig>', '<meter:6/8>', '<mode:major>', '<bar>', '<c:I>', '<syl>', '<p+0>', '<d6>',
    '<p+4>', '<d6>', '<r>', '<d6>', '<bar>', '<c:V>', '<p+7>', '<d18>', '<eos>']);
  assert.equal(dropped, 0);
  const vocab = new Set(vocabulary(['<c:I>', '<c:V>']));
  for (const t of tokens) assert.ok(vocab.has(t), t);
  assert.equal(recordTokens({ key: { tonic: '?' }, notes: [[60, 0, 1, 0]] }), null);
});
