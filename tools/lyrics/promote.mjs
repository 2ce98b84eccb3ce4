#!/usr/bin/env node
// Promotes a retrained lyrics model from build/models-next into models/ when its held-out bits per
// character beat the shipped model's (same 400 validation songs), keeping what the shipped manifest
// adds after training: style aliases as they stand, the originality index and word list blocks
// (same training text), and the shipped metrics as "previous_metrics".
//
//   node tools/lyrics/promote.mjs lyrics-zh [--from build/models-next] [--force]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const name = args[0];
const from = path.resolve(args.includes('--from') ? args[args.indexOf('--from') + 1] : path.join(repo, 'build/models-next'));
if (!name) { console.error('usage: promote.mjs MODEL_NAME [--from DIR] [--force]'); process.exit(2); }
const oldPath = path.join(repo, 'models', `${name}.json`);
const newPath = path.join(from, `${name}.json`);
const old = JSON.parse(fs.readFileSync(oldPath, 'utf8'));
const next = JSON.parse(fs.readFileSync(newPath, 'utf8'));
const a = old.metrics.valid_bits_per_char, b = next.metrics.valid_bits_per_char;
console.log(`${name}: shipped ${old.version} ${a} bits/char, candidate ${next.version} ${b} bits/char`);
if (!(b < a) && !args.includes('--force')) { console.log('not better: nothing changed'); process.exit(0); }
if (JSON.stringify(old.tokenizer) !== JSON.stringify(next.tokenizer)) throw new Error('vocabulary differs: the originality index and word list would not match');
for (const [k, v] of Object.entries(next.styles)) if (old.styles[k]) v.aliases = old.styles[k].aliases;
for (const k of ['originality', 'lexicon']) if (old[k]) next[k] = old[k];
next.previous_metrics = { version: old.version, ...old.metrics, training_steps: old.training?.steps, training_wall_seconds: old.training?.wall_seconds };
fs.copyFileSync(path.join(from, next.file), path.join(repo, 'models', next.file));
fs.writeFileSync(oldPath, JSON.stringify(next, null, 1) + '\n');
console.log(`promoted: models/${next.file} (${next.bytes} bytes), manifest keeps aliases, ${['originality', 'lexicon'].filter((k) => old[k]).join(' and ') || 'no companions'}`);
