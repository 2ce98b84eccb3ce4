#!/usr/bin/env node
// Render a labelled audio dataset for the listening classifiers (style, instrument family, key,
// tempo) with Debian packages only: seeded chord charts -> mma (a groove of the style) -> MIDI,
// plus a seeded melody track with a known General MIDI program -> fluidsynth with one soundfont
// per split -> mono 16-bit WAV, and a JSONL manifest of labels. See docs/audio-data.md.
//
//   node tools/audio/render_dataset.mjs --split train --count 40 [--out build/audio] [--jobs 1] [--seed 1]
//   node tools/audio/render_dataset.mjs --split test --count 20 --start 0
//   node tools/audio/render_dataset.mjs --verify-grooves          # render every groove of every class once
//   node tools/audio/render_dataset.mjs --stats                    # rebuild the manifest and print stats
//
// Clip i of (split, seed) is fully determined by (seed, split, i): runs can be split across
// processes (--start/--count) or interrupted and restarted; a clip whose .json label file exists is
// skipped (unless the tool would now render it differently). Every file is written under a
// temporary name and renamed, the label file last.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  STYLES, STYLE_NAMES, SOUNDFONTS, planClip, mmaText, addMelodyTrack, midiContents, readWav, downmixTrim,
  writeWavMono16, levelStats, labelRecord, mmaBeatsPerBar, chordSymbol, fnv1a, planHash,
} from './dataset_lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function parseArgs(argv) {
  const a = {
    split: 'train', count: 40, start: 0, out: path.join(ROOT, 'build', 'audio'), jobs: 1, seed: 1, rate: 22050,
    gain: 0.6, melody: 0.9, minSeconds: 10, maxSeconds: 30, tail: 0.5, verifyGrooves: false, stats: false,
    keepTemp: false,
  };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--split') a.split = v();
    else if (k === '--count') a.count = Number(v());
    else if (k === '--start') a.start = Number(v());
    else if (k === '--out') a.out = path.resolve(v());
    else if (k === '--jobs') a.jobs = Math.max(1, Number(v()));
    else if (k === '--seed') a.seed = Number(v());
    else if (k === '--rate') a.rate = Number(v());
    else if (k === '--gain') a.gain = Number(v());
    else if (k === '--melody') a.melody = Number(v());
    else if (k === '--min-seconds') a.minSeconds = Number(v());
    else if (k === '--max-seconds') a.maxSeconds = Number(v());
    else if (k === '--tail') a.tail = Number(v());
    else if (k === '--verify-grooves') a.verifyGrooves = true;
    else if (k === '--stats') a.stats = true;
    else if (k === '-h' || k === '--help') {
      const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
      console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).join('\n').replace(/^\/\/ ?/gm, ''));
      console.log('\noptions: --split train|test --count N --start K --out DIR --jobs J --seed S --rate HZ --gain G\n'
        + '         --melody P --min-seconds S --max-seconds S --tail S --verify-grooves --stats');
      process.exit(0);
    }
    else throw new Error(`unknown argument ${k}`);
  }
  if (!['train', 'test'].includes(a.split)) throw new Error('--split must be train or test');
  for (const n of ['count', 'start', 'seed', 'rate']) if (!Number.isInteger(a[n]) || a[n] < 0) throw new Error(`--${n} must be a non-negative integer`);
  return a;
}

function run(cmd, args, { timeoutMs = 300000, cwd } = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => { clearTimeout(timer); resolve({ code: -1, out: String(e) }); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

const tmpName = (file) => `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
function writeAtomic(file, data) {
  const t = tmpName(file);
  fs.writeFileSync(t, data);
  fs.renameSync(t, file);
}

/** mma: .mma -> MIDI buffer (throws with mma's message on failure). Run in the file's folder with
 * relative names: mma writes the names into the MIDI, which then does not depend on --out. */
async function runMma(mmaFile, midFile) {
  const cwd = path.dirname(mmaFile);
  const res = await run('mma', ['-f', path.relative(cwd, midFile), path.basename(mmaFile)], { cwd });
  const errs = res.out.split('\n').filter((l) => /error/i.test(l));
  if (res.code !== 0 || errs.length || !fs.existsSync(midFile)) throw new Error(`mma failed (${res.code}): ${(errs.join(' ') || res.out).slice(0, 400)}`);
  return fs.readFileSync(midFile);
}

/** fluidsynth: MIDI -> stereo WAV file at `rate`. */
async function runFluidsynth(sf, midFile, wavFile, { rate, gain }) {
  const res = await run('fluidsynth', ['-ni', '-g', String(gain), '-r', String(rate), '-o', 'synth.dynamic-sample-loading=1',
    '-o', 'synth.cpu-cores=1', '-F', wavFile, sf, midFile]);
  if (res.code !== 0 || !fs.existsSync(wavFile)) throw new Error(`fluidsynth failed (${res.code}): ${res.out.slice(-400)}`);
}

async function renderClip(plan, opts) {
  const dir = path.join(opts.out, plan.split);
  const base = path.join(dir, plan.id);
  const labelFile = `${base}.json`;
  if (fs.existsSync(labelFile) && fs.existsSync(`${base}.wav`)) {
    try {
      const old = JSON.parse(fs.readFileSync(labelFile, 'utf8'));
      if (old.plan_hash === planHash(plan) && old.sample_rate === opts.rate) return { skipped: true };
    } catch { /* unreadable: render again */ }
  }
  const t0 = Date.now();
  const mmaFile = `${base}.mma`;
  writeAtomic(mmaFile, mmaText(plan));
  const tmpMid = tmpName(`${base}.mid`);
  const tmpWav = `${tmpName(base)}.wav`;
  try {
    const mid = await runMma(mmaFile, tmpMid);
    const { buffer } = addMelodyTrack(mid, plan);
    fs.writeFileSync(tmpMid, buffer);
    fs.renameSync(tmpMid, `${base}.mid`);
    const maxTick = Math.round((plan.musicSeconds * plan.mmaTempo / 60) * parseMidiDivision(buffer));
    const contents = midiContents(buffer, { maxTick });
    await runFluidsynth(plan.soundfont.path, `${base}.mid`, tmpWav, opts);
    const wav = readWav(fs.readFileSync(tmpWav));
    fs.unlinkSync(tmpWav);
    const rendered = wav.channels[0].length / wav.rate;
    const seconds = Math.min(rendered, plan.musicSeconds + opts.tail);
    const mono = downmixTrim(wav.channels, wav.rate, seconds, plan.musicSeconds < rendered ? 0.05 : 0.005);
    const level = levelStats(mono, wav.rate);
    writeAtomic(`${base}.wav`, writeWavMono16(mono, wav.rate));
    const rec = labelRecord(plan, { file: path.relative(opts.out, `${base}.wav`), seconds, contents, level, rate: wav.rate });
    rec.render_ms = Date.now() - t0;
    writeAtomic(labelFile, `${JSON.stringify(rec)}\n`);
    return { rec };
  } finally {
    for (const f of [tmpMid, tmpWav]) if (fs.existsSync(f)) fs.unlinkSync(f);
  }
}

const parseMidiDivision = (buf) => buf.readUInt16BE(12);

function profileCorr(a, b) {
  const m = (v) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = m(a); const mb = m(b);
  let n = 0; let da = 0; let db = 0;
  for (let i = 0; i < a.length; i++) { n += (a[i] - ma) * (b[i] - mb); da += (a[i] - ma) ** 2; db += (b[i] - mb) ** 2; }
  return da && db ? n / Math.sqrt(da * db) : 0;
}

async function pool(items, jobs, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(jobs, items.length) }, async () => {
    while (next < items.length) { const i = next++; await fn(items[i], i); }
  });
  await Promise.all(workers);
}

function checkTools() {
  const missing = [];
  for (const bin of ['mma', 'fluidsynth']) {
    const found = (process.env.PATH || '').split(':').some((d) => d && fs.existsSync(path.join(d, bin)));
    if (!found) missing.push(bin);
  }
  for (const split of Object.keys(SOUNDFONTS)) for (const sf of SOUNDFONTS[split]) if (!fs.existsSync(sf.path)) missing.push(`${sf.path} (${sf.package})`);
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run bash tools/setup-training.sh`);
}

/** Rebuild manifest.jsonl from every label file under out (sorted by split and id); return records. */
function rebuildManifest(out) {
  const recs = [];
  for (const split of ['train', 'test']) {
    const dir = path.join(out, split);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
      try { recs.push(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))); } catch { /* being written */ }
    }
  }
  writeAtomic(path.join(out, 'manifest.jsonl'), recs.map((r) => JSON.stringify(r)).join('\n') + (recs.length ? '\n' : ''));
  return recs;
}

function dirBytes(dir, ext) {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir).filter((f) => f.endsWith(ext)).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
}

function printStats(out, recs) {
  const count = (arr, key) => arr.reduce((m, r) => { const k = key(r); m[k] = (m[k] || 0) + 1; return m; }, {});
  const fmt = (o) => Object.entries(o).sort().map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`manifest: ${path.join(out, 'manifest.jsonl')} (${recs.length} clips)`);
  for (const split of ['train', 'test']) {
    const rs = recs.filter((r) => r.split === split);
    if (!rs.length) continue;
    const secs = rs.reduce((s, r) => s + r.seconds, 0);
    const wavBytes = dirBytes(path.join(out, split), '.wav');
    const otherBytes = dirBytes(path.join(out, split), '.mid') + dirBytes(path.join(out, split), '.mma') + dirBytes(path.join(out, split), '.json');
    const ms = rs.map((r) => r.render_ms || 0);
    console.log(`${split}: ${rs.length} clips, ${(secs / 60).toFixed(2)} min of audio (${Math.min(...rs.map((r) => r.seconds)).toFixed(1)}-${Math.max(...rs.map((r) => r.seconds)).toFixed(1)} s),`
      + ` WAV ${(wavBytes / 1e6).toFixed(1)} MB = ${(wavBytes / 1e6 / (secs / 60)).toFixed(2)} MB/min, MIDI+mma+labels ${(otherBytes / 1e6).toFixed(2)} MB,`
      + ` render ${(ms.reduce((a, b) => a + b, 0) / 1000).toFixed(0)} s (${(ms.reduce((a, b) => a + b, 0) / 1000 / secs).toFixed(2)} s per audio s)`);
    console.log(`  styles: ${fmt(count(rs, (r) => r.style))}`);
    console.log(`  featured: ${fmt(count(rs, (r) => r.featured_family ?? 'none'))}`);
    console.log(`  soundfonts: ${fmt(count(rs, (r) => r.soundfont))}; modes: ${fmt(count(rs, (r) => r.key.mode))}; meters: ${fmt(count(rs, (r) => r.time_signature))}`);
    console.log(`  tempo ${Math.min(...rs.map((r) => r.tempo))}-${Math.max(...rs.map((r) => r.tempo))} bpm; rms ${Math.min(...rs.map((r) => r.rms_dbfs)).toFixed(1)} to ${Math.max(...rs.map((r) => r.rms_dbfs)).toFixed(1)} dBFS;`
      + ` peak max ${Math.max(...rs.map((r) => r.peak_dbfs)).toFixed(1)} dBFS; clips with clipped samples: ${rs.filter((r) => r.clipped_fraction > 0).length}`);
  }
  // Hold-out checks across splits.
  const tr = recs.filter((r) => r.split === 'train');
  const te = recs.filter((r) => r.split === 'test');
  if (tr.length && te.length) {
    const inter = (a, b) => [...a].filter((x) => b.has(x));
    const sets = (rs, f) => new Set(rs.map(f));
    const chartKey = (r) => `${r.key.mode}:${r.chart}`;
    const styleKey = (r) => `${r.style}:${r.key.tonic} ${r.key.mode}`;
    console.log(`hold-out overlap train/test: tempi ${inter(sets(tr, (r) => r.tempo), sets(te, (r) => r.tempo)).length},`
      + ` charts ${inter(sets(tr, chartKey), sets(te, chartKey)).length}, style+key ${inter(sets(tr, styleKey), sets(te, styleKey)).length},`
      + ` soundfonts ${inter(sets(tr, (r) => r.soundfont), sets(te, (r) => r.soundfont)).length}`);
  }
}

/** Render 4 bars of every groove of every class with FluidR3 and report what sounds. */
async function verifyGrooves(opts) {
  const dir = path.join(opts.out, 'grooves');
  fs.mkdirSync(dir, { recursive: true });
  const items = [];
  for (const style of STYLE_NAMES) for (const entry of STYLES[style]) items.push({ style, entry });
  const results = [];
  await pool(items, opts.jobs, async ({ style, entry }) => {
    const name = `${style}--${entry.groove.replace(/[^A-Za-z0-9]+/g, '_')}`;
    const mmaFile = path.join(dir, `${name}.mma`);
    const per = entry.mmaPerBeat || 1;
    const tempo = Math.round((entry.tempo[0] + entry.tempo[1]) / 2) * per;
    const write = (file, pc) => fs.writeFileSync(file, `Groove ${entry.groove}\nTempo ${tempo}\nRndSeed ${fnv1a(name) % 1000}\n`
      + `${['I', 'IV', 'V', 'I'].map((rn, i) => `${i + 1} ${chordSymbol(rn, pc, 'major').symbol}`).join('\n')}\n`);
    write(mmaFile, 0);
    const res = { style, groove: entry.groove, ok: false };
    try {
      const mid = await runMma(mmaFile, path.join(dir, `${name}.mid`));
      const c = midiContents(mid);
      res.families = [...new Set(c.instruments.map((i) => i.family))].sort();
      res.notes = c.instruments.reduce((s, i) => s + i.notes, 0);
      res.pitched = c.instruments.filter((i) => i.family !== 'drums').reduce((s, i) => s + i.notes, 0);
      // The groove must follow the chart: the same chords a tritone up (F#) must give the C
      // pitch-class profile rotated by 6 (a track with fixed pitches would not).
      write(path.join(dir, `${name}-fs.mma`), 6);
      const c6 = midiContents(await runMma(path.join(dir, `${name}-fs.mma`), path.join(dir, `${name}-fs.mid`)));
      res.transposes = Math.round(profileCorr(c.pitchClassHist, c6.pitchClassHist.map((_, i) => c6.pitchClassHist[(i + 6) % 12])) * 1000) / 1000;
      // The meter mma used: the last note-on must fall in the 4th bar of the expected meter.
      res.last_note_on_beat = Math.round((c.lastOnTick / c.division) * 100) / 100;
      res.last_note_off_beat = Math.round((c.lastTick / c.division) * 100) / 100;
      res.expected_beats = 4 * mmaBeatsPerBar(style);
      await runFluidsynth(SOUNDFONTS.train[0].path, path.join(dir, `${name}.mid`), path.join(dir, `${name}.wav`), opts);
      const wav = readWav(fs.readFileSync(path.join(dir, `${name}.wav`)));
      const mono = downmixTrim(wav.channels, wav.rate, wav.channels[0].length / wav.rate);
      Object.assign(res, levelStats(mono, wav.rate));
      fs.unlinkSync(path.join(dir, `${name}.wav`));
      res.ok = res.pitched > 0 && res.rms_dbfs > -45 && res.transposes > 0.9 && res.last_note_on_beat < res.expected_beats + 0.1
        && res.last_note_on_beat >= res.expected_beats - mmaBeatsPerBar(style);
    } catch (e) { res.error = String(e.message || e); }
    results.push(res);
    console.log(`${res.ok ? 'ok  ' : 'FAIL'} ${style.padEnd(17)} ${entry.groove.padEnd(40)} ${res.error ?? `${res.notes} notes, ${res.families?.join(' ')}, rms ${res.rms_dbfs} dBFS, transposes ${res.transposes}, last note-on/off at beat ${res.last_note_on_beat}/${res.last_note_off_beat} of ${res.expected_beats}`}`);
  });
  results.sort((a, b) => a.style.localeCompare(b.style) || a.groove.localeCompare(b.groove));
  fs.writeFileSync(path.join(opts.out, 'grooves.json'), `${JSON.stringify(results, null, 1)}\n`);
  const bad = results.filter((r) => !r.ok);
  console.log(`${results.length - bad.length}/${results.length} grooves ok; report in ${path.join(opts.out, 'grooves.json')}`);
  return bad.length ? 1 : 0;
}

async function main() {
  const opts = parseArgs(process.argv);
  fs.mkdirSync(opts.out, { recursive: true });
  if (opts.stats) { printStats(opts.out, rebuildManifest(opts.out)); return 0; }
  checkTools();
  if (opts.verifyGrooves) return verifyGrooves(opts);
  fs.mkdirSync(path.join(opts.out, opts.split), { recursive: true });
  const plans = [];
  for (let i = opts.start; i < opts.start + opts.count; i++) {
    plans.push(planClip({ seed: opts.seed, split: opts.split, index: i, melodyRate: opts.melody, minSeconds: opts.minSeconds, maxSeconds: opts.maxSeconds - opts.tail }));
  }
  let done = 0; let skipped = 0; const failed = [];
  const t0 = Date.now();
  console.log(`rendering ${plans.length} ${opts.split} clips (seed ${opts.seed}, indices ${opts.start}-${opts.start + opts.count - 1}) into ${opts.out} with ${opts.jobs} job(s) on ${os.cpus().length} cores`);
  await pool(plans, opts.jobs, async (plan) => {
    try {
      const r = await renderClip(plan, opts);
      if (r.skipped) skipped++;
      else {
        done++;
        const x = r.rec;
        console.log(`[${done + skipped + failed.length}/${plans.length}] ${plan.id} ${x.style} ${x.groove} ${x.key.tonic} ${x.key.mode} ${x.tempo} bpm ${x.seconds}s`
          + ` ${x.featured_family ?? '-'} ${x.soundfont} rms ${x.rms_dbfs} dBFS (${(x.render_ms / 1000).toFixed(1)} s)`);
      }
    } catch (e) {
      failed.push({ id: plan.id, groove: plan.groove, error: String(e.message || e) });
      console.log(`FAILED ${plan.id} ${plan.groove}: ${e.message || e}`);
    }
  });
  console.log(`rendered ${done}, skipped ${skipped} (already there), failed ${failed.length} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  printStats(opts.out, rebuildManifest(opts.out));
  return failed.length ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e) => { console.error(e.message || e); process.exitCode = 2; });
