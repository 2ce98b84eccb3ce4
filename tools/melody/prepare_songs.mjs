#!/usr/bin/env node
// Reads the Bach chorales (.mxl) and the LilyPond song MIDI renders from ../shared/data/melody and writes
// build/data/melody-songs.jsonl (one record a line, docs/melody-data.md) and build/data/melody-songs-stats.json.
// Usage: node tools/melody/prepare_songs.mjs [--data DIR] [--out DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMxl } from './mxl.mjs';
import { midiSongRecords } from './midi.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const dataDir = path.resolve(opt('--data', path.resolve(root, '../shared/data/melody')));
const outDir = path.resolve(opt('--out', path.join(root, 'build/data')));

const sources = [
  { source: 'bach-chorales', dir: 'bach-chorales', ext: /\.(mxl|xml|musicxml)$/i, read: (buf, file) => [readMxl(buf, { file })] },
  { source: 'lilypond-songs', dir: 'lilypond-songs/midi', ext: /\.(midi?|kar)$/i, read: (buf, file) => midiSongRecords(buf, { file }) },
];

const stats = { generated: new Date().toISOString(), data_dir: dataDir, sources: {}, totals: {}, skipped: [] };
fs.mkdirSync(outDir, { recursive: true });
const outPath = path.join(outDir, 'melody-songs.jsonl');
const lines = [];
for (const s of sources) {
  const st = { files: 0, parsed_files: 0, records: 0, notes: 0, pitched_notes: 0, notes_with_syllable: 0, records_with_lyrics: 0, pickups: 0, skipped: 0 };
  stats.sources[s.source] = st;
  const dir = path.join(dataDir, s.dir);
  if (!fs.existsSync(dir)) { stats.skipped.push({ source: s.source, file: s.dir, reason: 'folder missing' }); continue; }
  for (const file of fs.readdirSync(dir).filter((f) => s.ext.test(f)).sort()) {
    st.files++;
    let recs;
    try {
      recs = s.read(fs.readFileSync(path.join(dir, file)), file);
    } catch (e) {
      st.skipped++; stats.skipped.push({ source: s.source, file, reason: e.message }); continue;
    }
    recs = recs.filter((r) => {
      const pitched = r.notes.filter((n) => n[0] !== null).length;
      if (pitched < 4) { stats.skipped.push({ source: s.source, file, id: r.id, reason: `only ${pitched} notes` }); return false; }
      return true;
    });
    if (!recs.length) { st.skipped++; continue; }
    st.parsed_files++;
    for (const r of recs) {
      const pitched = r.notes.filter((n) => n[0] !== null);
      const withSyl = pitched.filter((n) => n.length > 4).length;
      st.records++; st.notes += r.notes.length; st.pitched_notes += pitched.length; st.notes_with_syllable += withSyl;
      if (withSyl) st.records_with_lyrics++;
      if (r.pickup) st.pickups++;
      lines.push(JSON.stringify(r));
    }
  }
  st.syllable_share = st.pitched_notes ? +(st.notes_with_syllable / st.pitched_notes).toFixed(4) : 0;
  st.file_success_rate = st.files ? +(st.parsed_files / st.files).toFixed(4) : 0;
}
const sum = (k) => Object.values(stats.sources).reduce((a, s) => a + (s[k] || 0), 0);
stats.totals = { files: sum('files'), parsed_files: sum('parsed_files'), records: sum('records'), pitched_notes: sum('pitched_notes'), notes_with_syllable: sum('notes_with_syllable') };
stats.totals.syllable_share = stats.totals.pitched_notes ? +(stats.totals.notes_with_syllable / stats.totals.pitched_notes).toFixed(4) : 0;
fs.writeFileSync(outPath, lines.join('\n') + (lines.length ? '\n' : ''));
fs.writeFileSync(path.join(outDir, 'melody-songs-stats.json'), JSON.stringify(stats, null, 2) + '\n');

console.log(`melody songs -> ${path.relative(process.cwd(), outPath) || outPath}`);
for (const [name, st] of Object.entries(stats.sources)) {
  console.log(`  ${name}: ${st.parsed_files}/${st.files} files, ${st.records} records (${st.records_with_lyrics} with lyrics), ` +
    `${st.pitched_notes} notes, ${(100 * st.syllable_share).toFixed(1)}% with syllables, ${st.pickups} pickups, ${st.skipped} skipped`);
}
if (stats.skipped.length) {
  console.log(`  skipped (${stats.skipped.length}):`);
  for (const s of stats.skipped.slice(0, 20)) console.log(`    ${s.source}/${s.file}${s.id ? ' ' + s.id : ''}: ${s.reason}`);
}
