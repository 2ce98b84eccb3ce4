// The listening evaluation's scores (tools/audio/eval_listen.mjs): MIREX key weights, tempo accuracies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mirex, acc1, acc2 } from '../../tools/audio/eval_listen.mjs';

test('MIREX key score: same, fifth, relative, parallel, other', () => {
  const ref = { tonic: 'C', mode: 'major' };
  assert.equal(mirex({ tonic: 'C', mode: 'major' }, ref), 1);
  assert.equal(mirex({ tonic: 'G', mode: 'major' }, ref), 0.5);
  assert.equal(mirex({ tonic: 'F', mode: 'major' }, ref), 0.5);
  assert.equal(mirex({ tonic: 'A', mode: 'minor' }, ref), 0.3);
  assert.equal(mirex({ tonic: 'C', mode: 'minor' }, ref), 0.2);
  assert.equal(mirex({ tonic: 'D', mode: 'major' }, ref), 0);
  assert.equal(mirex({ tonic: 'Eb', mode: 'major' }, { tonic: 'C', mode: 'minor' }), 0.3);
  assert.equal(mirex({ tonic: 'D#', mode: 'minor' }, { tonic: 'Eb', mode: 'minor' }), 1);
  assert.equal(mirex(null, ref), 0);
});

test('tempo accuracy 1 (4%) and 2 (octave errors allowed)', () => {
  assert.ok(acc1(123, 120) && !acc1(126, 120));
  assert.ok(!acc1(60, 120) && acc2(60, 120) && acc2(240, 120) && acc2(40, 120) && !acc2(90, 120));
});
