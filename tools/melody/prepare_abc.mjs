#!/usr/bin/env node
// Parse every ABC tune in ../shared/data/melody/{nottingham,oneills1850,ryansMammoth,airdsAirs}
// and write build/data/melody-abc.jsonl (one record a line, docs/melody-data.md) and
// build/data/melody-abc-stats.json (counts per source / type / key / meter, skipped tunes with why).
//
//   node tools/melody/prepare_abc.mjs [--data DIR] [--out DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAbcFile } from './abc.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SOURCES = ['nottingham', 'oneills1850', 'ryansMammoth', 'airdsAirs'];

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

const inc = (obj, k, n = 1) => { obj[k] = (obj[k] || 0) + n; };

export function prepare({ dataDir, outDir, log = console.log }) {
  const records = [];
  const stats = { sources: {}, types: {}, keys: {}, modes: {}, meters: {}, pickup: 0, skipped: [], skipReasons: {} };
  for (const source of SOURCES) {
    const dir = path.join(dataDir, source);
    if (!fs.existsSync(dir)) { log(`missing ${dir}`); continue; }
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.abc')).sort();
    const s = stats.sources[source] = { files: files.length, tunes: 0, parsed: 0, skipped: 0, notes: 0, types: {} };
    for (const file of files) {
      const buf = fs.readFileSync(path.join(dir, file));
      let text = buf.toString('utf8');
      if (text.includes('\uFFFD')) text = buf.toString('latin1'); // not UTF-8: Latin-1
      for (const r of parseAbcFile(text, { file, source })) {
        s.tunes++;
        if (r.error) {
          s.skipped++;
          stats.skipped.push({ source, file, x: r.x, line: r.line, reason: r.error });
          inc(stats.skipReasons, r.error.replace(/".*"/, '"…"'));
          continue;
        }
        const rec = r.record;
        s.parsed++;
        s.notes += rec.notes.length;
        inc(s.types, String(rec.type));
        inc(stats.types, String(rec.type));
        inc(stats.keys, `${rec.key.tonic} ${rec.key.mode}`);
        inc(stats.modes, rec.key.mode);
        inc(stats.meters, rec.meter.join('/'));
        if (rec.pickup) stats.pickup++;
        records.push(rec);
      }
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'melody-abc.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const sortObj = (o) => Object.fromEntries(Object.entries(o).sort((a, b) => b[1] - a[1]));
  for (const k of ['types', 'keys', 'modes', 'meters', 'skipReasons']) stats[k] = sortObj(stats[k]);
  stats.total = { tunes: records.length + stats.skipped.length, parsed: records.length, skipped: stats.skipped.length };
  fs.writeFileSync(path.join(outDir, 'melody-abc-stats.json'), JSON.stringify(stats, null, 1) + '\n');
  return { records, stats };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const dataDir = path.resolve(arg('--data', path.resolve(repo, '../shared/data/melody')));
  const outDir = path.resolve(arg('--out', path.join(repo, 'build/data')));
  const { stats } = prepare({ dataDir, outDir });
  for (const [src, s] of Object.entries(stats.sources)) {
    console.log(`${src.padEnd(13)} ${String(s.parsed).padStart(5)}/${String(s.tunes).padEnd(5)} parsed ` +
      `(${(100 * s.parsed / Math.max(1, s.tunes)).toFixed(1)}%)  types ${JSON.stringify(s.types)}`);
  }
  console.log(`total ${stats.total.parsed}/${stats.total.tunes} parsed, ${stats.pickup} with pickup`);
  console.log('types', JSON.stringify(stats.types));
  console.log('meters', JSON.stringify(stats.meters));
  console.log('modes', JSON.stringify(stats.modes));
  if (stats.total.skipped) console.log('skipped', JSON.stringify(stats.skipReasons));
  console.log(`wrote ${path.join(outDir, 'melody-abc.jsonl')} and melody-abc-stats.json in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
