// Shared by the node tests (not a test file itself: node --test only runs *.test.mjs here).
// Build outputs come from `npm run build` (dist/wasm, build/native) and the models from training
// (models/). TUNESMITH_WASM_DIR / TUNESMITH_MODELS point the tests elsewhere. Without them a test
// is skipped with the reason, except under CI (CI=true), where a missing artifact is a failure.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WASM_DIR = path.resolve(process.env.TUNESMITH_WASM_DIR || path.join(ROOT, 'dist', 'wasm'));
export const MODELS_DIR = path.resolve(process.env.TUNESMITH_MODELS || path.join(ROOT, 'models'));
export const NATIVE_CLI = path.join(ROOT, 'build', 'native', 'tunesmith');

export const hasWasm = (variant) => ['mjs', 'wasm'].every((ext) => fs.existsSync(path.join(WASM_DIR, `tunesmith-${variant}.${ext}`)));
export const hasModel = (name) => ['json', 'onnx'].every((ext) => fs.existsSync(path.join(MODELS_DIR, `${name}.${ext}`)));
/** The transformer models (format tunesmith-model/1) in models/, by name. */
export const modelNames = () => (fs.existsSync(MODELS_DIR) ? fs.readdirSync(MODELS_DIR) : [])
  .filter((f) => f.endsWith('.json') && hasModel(f.slice(0, -5)))
  .filter((f) => { try { return JSON.parse(fs.readFileSync(path.join(MODELS_DIR, f), 'utf8')).format === 'tunesmith-model/1'; } catch { return false; } })
  .map((f) => f.slice(0, -5)).sort();

/** false when everything is there; else the skip reason (or a thrown error under CI). */
export function missing({ variants = ['mt', 'st'], models = ['lyrics-zh', 'lyrics-en'] } = {}) {
  const gone = [
    ...variants.filter((v) => !hasWasm(v)).map((v) => `${path.relative(ROOT, WASM_DIR) || '.'}/tunesmith-${v}.{mjs,wasm} (npm run build:wasm)`),
    ...models.filter((m) => !hasModel(m)).map((m) => `${path.relative(ROOT, MODELS_DIR) || '.'}/${m}.{json,onnx}`),
  ];
  if (!gone.length) return false;
  const why = `missing ${gone.join(', ')}`;
  if (process.env.CI) throw new Error(why);
  return why;
}

export const engineOptions = (extra = {}) => ({ wasmBaseUrl: WASM_DIR, modelBaseUrl: MODELS_DIR, ...extra });

/** Deterministic PRNG for test inputs (mulberry32, shared with the melody evaluation). */
export { rng } from '../../tools/melody/metrics.mjs';

export const HAN = /\p{Script=Han}/u;
