// Test audio made in the tests themselves (shared by tests/node/listen.test.mjs and
// tests/browser/listen.test.mjs): a PCM WAV writer and a chord-and-click song with a known key and tempo.
import { rng } from './helpers.mjs';

/** A canonical 44-byte-header PCM WAV file: channels = Float32Arrays in -1..1, written as `bits`-bit ints. */
export function wavFile(channels, rate, bits = 16) {
  const n = channels.length, frames = channels[0].length, bytes = bits / 8;
  const size = frames * n * bytes;
  const buf = Buffer.alloc(44 + size);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + size, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(n, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * n * bytes, 28);
  buf.writeUInt16LE(n * bytes, 32);
  buf.writeUInt16LE(bits, 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(size, 40);
  const full = 2 ** (bits - 1);
  let at = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < n; c++) {
      const v = Math.max(-full, Math.min(full - 1, Math.round(channels[c][i] * full)));
      buf.writeIntLE(v, at, bytes);
      at += bytes;
    }
  }
  return buf;
}

/**
 * C F G C (root-position triads with a bass note), chordSeconds each, and a click on every beat at
 * `bpm`: stereo Float32Arrays [left, right].
 */
export function chordSong({ rate = 44100, seconds, bpm = 120, chordSeconds }) {
  const frames = rate * seconds;
  const left = new Float32Array(frames), right = new Float32Array(frames);
  const hz = (midi) => 440 * 2 ** ((midi - 69) / 12);
  const chords = [[48, 60, 64, 67], [53, 60, 65, 69], [55, 59, 62, 67], [48, 60, 64, 67]];
  const noise = rng(7);
  const beat = Math.round(rate * 60 / bpm);
  for (let i = 0; i < frames; i++) {
    const t = i / rate;
    const chord = chords[Math.min(chords.length - 1, Math.floor(t / chordSeconds))];
    let tone = 0;
    for (const m of chord) {
      const f = hz(m);
      tone += Math.sin(2 * Math.PI * f * t) + 0.3 * Math.sin(4 * Math.PI * f * t);
    }
    tone *= 0.05;
    const k = i % beat; // click: a decaying burst of noise and 2 kHz at each beat
    const click = k < 0.03 * rate ? 0.35 * Math.exp(-k / (0.005 * rate)) * (0.6 * Math.sin(2 * Math.PI * 2000 * k / rate) + 0.4 * (noise() * 2 - 1)) : 0;
    left[i] = tone + click;
    right[i] = 0.8 * tone + click;
  }
  return [left, right];
}
