// The npm package as a consumer gets it: `npm pack`, the tarball installed into a fresh project
// (offline, from npm's cache: abcjs comes from the repo's `npm ci`), then
//   (a) Node: import 'tunesmith' and write lyrics;
//   (b) `tsc --noEmit` (strict) over a typed consumer, and a wrong call that must fail to type-check;
//   (c) Vite: a page importing 'tunesmith', built by the repo's vite with no config at all, served
//       statically and run in Chromium (single-thread build, then cross-origin isolated: threaded);
//       the bundle holds no Node-only module and the wasm builds and models were emitted with it.
// Vite and TypeScript are the repo's devDependencies (npm ci).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CHROMIUM, serve, launch } from './browser.mjs';
import { ROOT, WASM_DIR, MODELS_DIR, missing } from '../node/helpers.mjs';

const run = promisify(execFile);
const BIN = (name) => path.join(ROOT, 'node_modules', '.bin', name);

function skipReason() {
  const gone = missing({ models: ['lyrics-en'] });
  if (gone) return gone;
  if (WASM_DIR !== path.join(ROOT, 'dist', 'wasm') || MODELS_DIR !== path.join(ROOT, 'models')) return 'TUNESMITH_WASM_DIR/TUNESMITH_MODELS point elsewhere (the tarball holds the repo\'s own)';
  const tools = [['vite', BIN('vite')], ['tsc', BIN('tsc')], ['Chromium', CHROMIUM]].filter(([, p]) => !fs.existsSync(p));
  if (!tools.length) return false;
  const why = `missing ${tools.map(([n, p]) => `${n} (${p})`).join(', ')}: npm ci / apt-get install chromium`;
  if (process.env.CI) throw new Error(why);
  return why;
}
const skip = skipReason();

const MAIN_JS = `import { createEngine, TunesmithError } from 'tunesmith';
const out = document.getElementById('out');
try {
  const engine = await createEngine();
  const song = await engine.generateLyrics({ song_title: 'Summer Rain', song_style: 'folk', lyrics_length: 4, seed: 1 });
  out.textContent = song.lyrics;
  out.dataset.variant = engine.info.variant;
  out.dataset.done = 'ok';
} catch (err) {
  out.textContent = (err instanceof TunesmithError ? err.code + ': ' : '') + (err && err.message);
  out.dataset.done = 'error';
}
`;

const CONSUMER_TS = `import { createEngine, TunesmithError } from 'tunesmith';
import type { Engine, LyricsResponse, MelodyResponse, AnalyzeAudioResponse, ProgressInfo } from 'tunesmith';

export async function main(wav: Uint8Array): Promise<string> {
  const engine: Engine = await createEngine({ onProgress: (p: ProgressInfo) => console.log(p.model, p.loaded, p.total) });
  const ac = new AbortController();
  try {
    const song: LyricsResponse = await engine.generateLyrics(
      { song_title: 'Summer Rain', song_style: 'folk', lyrics_length: 4, seed: 1 },
      { onLine: (line) => console.log(line.index, line.text), signal: ac.signal });
    const again: LyricsResponse = await engine.generateLyrics({ title: 'Summer Rain', style: 'folk', lines: 4, signal: ac.signal });
    const tune: MelodyResponse = await engine.generateMelody({ lyrics: song.lines, key: 'G', seed: 3, signal: ac.signal });
    const heard: AnalyzeAudioResponse = await engine.analyzeAudio(wav, { onProgress: (ev) => console.log(ev.fraction), signal: ac.signal });
    return [song.lyrics, again.lyrics, String(tune.notes.length), JSON.stringify(heard.key)].join('\\n');
  } catch (err) {
    if (err instanceof TunesmithError) {
      const code: string = err.code;
      return code === 'aborted' ? 'cancelled' : err.error.message;
    }
    throw err;
  } finally {
    await engine.close();
  }
}
`;

// Must not type-check: lines is a number, and the engine has no such method.
const WRONG_TS = `import { createEngine } from 'tunesmith';
const engine = await createEngine();
await engine.generateLyrics({ title: 'x', lines: 'eight' });
await engine.writeSymphony();
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler',
    lib: ['es2022', 'dom'], skipLibCheck: false, types: [],
  },
};

describe('npm package: Node, TypeScript and a Vite bundle in Chromium', { skip, timeout: 240_000 }, () => {
  let dir;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-vite-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 1 << 26, timeout: 60_000 });
    const [{ filename }] = JSON.parse(stdout);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    // abcjs (tunesmith's one dependency) comes from npm's cache, filled by the repo's npm ci.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', `./${filename}`], { cwd: dir, timeout: 60_000 });
    assert.ok(fs.existsSync(path.join(dir, 'node_modules', 'abcjs', 'package.json')), 'abcjs installed');
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  test('Node: import "tunesmith" writes lyrics', async () => {
    fs.writeFileSync(path.join(dir, 'lyrics.mjs'), `import { createEngine } from 'tunesmith';
      const engine = await createEngine();
      const song = await engine.generateLyrics({ song_title: 'Summer Rain', song_style: 'folk', lyrics_length: 4, seed: 1 });
      console.log(JSON.stringify(song.lines.map((l) => l.text)));
      await engine.close();`);
    const { stdout } = await run(process.execPath, ['lyrics.mjs'], { cwd: dir, timeout: 60_000 });
    const lines = JSON.parse(stdout);
    assert.equal(lines.length, 4);
    for (const l of lines) assert.ok(l.trim().length > 0, `empty line in ${stdout}`);
  });

  test('tsc --noEmit (strict) accepts a typed consumer and rejects a wrong one', async () => {
    fs.writeFileSync(path.join(dir, 'consumer.ts'), CONSUMER_TS);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...TSCONFIG, files: ['consumer.ts'] }));
    await run(BIN('tsc'), ['-p', 'tsconfig.json'], { cwd: dir, timeout: 60_000 }).catch((err) => {
      assert.fail(`tsc failed:\n${err.stdout}${err.stderr}`);
    });
    fs.writeFileSync(path.join(dir, 'wrong.ts'), WRONG_TS);
    fs.writeFileSync(path.join(dir, 'tsconfig.wrong.json'), JSON.stringify({ ...TSCONFIG, files: ['wrong.ts'] }));
    const err = await run(BIN('tsc'), ['-p', 'tsconfig.wrong.json'], { cwd: dir, timeout: 60_000 }).then(() => null, (e) => e);
    assert.ok(err, 'tsc accepted a wrong consumer: the types are not in effect');
    assert.match(`${err.stdout}`, /wrong\.ts.*lines|wrong\.ts[\s\S]*writeSymphony/, `${err.stdout}`);
  });

  test('Vite (no config) bundles it into a page that writes lyrics in Chromium', async () => {
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'index.html'), '<!doctype html><meta charset="utf-8"><title>tunesmith + vite</title><pre id="out"></pre><script type="module" src="./main.js"></script>\n');
    fs.writeFileSync(path.join(app, 'main.js'), MAIN_JS);
    const site = path.join(dir, 'site');
    // The server sends / to /web/, so the app lives under /app/ (relative base: works anywhere).
    const outDir = path.join(site, 'app');
    const { stdout, stderr } = await run(BIN('vite'), ['build', app, '--base', './', '--outDir', outDir, '--emptyOutDir'],
      { cwd: dir, timeout: 120_000, maxBuffer: 1 << 24 });
    const assets = fs.readdirSync(path.join(outDir, 'assets'));
    // The wasm builds and the models were emitted with the app.
    for (const re of [/^tunesmith-st-.*\.wasm$/, /^tunesmith-mt-.*\.wasm$/, /^tunesmith-st-.*\.mjs$/, /^lyrics-en-.*\.onnx$/, /^lyrics-en-.*\.json$/, /^melody-.*\.onnx$/]) {
      assert.ok(assets.some((f) => re.test(f)), `no ${re} among the emitted assets: ${assets.join(' ')}\n${stdout}${stderr}`);
    }
    // No Node-only module in the bundle (Vite's empty stand-ins for dynamic node: imports are allowed).
    const code = assets.filter((f) => /\.(js|mjs)$/.test(f) && !/^tunesmith-(st|mt)-/.test(f))
      .map((f) => fs.readFileSync(path.join(outDir, 'assets', f), 'utf8')).join('\n');
    for (const bad of ['node:fs', 'node:worker_threads', 'node:child_process', 'node:http', 'node:os', 'node:path', 'serve.mjs', 'cli.mjs', 'createServer']) {
      assert.ok(!code.includes(bad), `the bundle contains ${bad}`);
    }

    for (const isolated of [false, true]) {
      const server = await serve(site, isolated ? [] : ['--no-isolation']);
      const browser = await launch();
      try {
        const page = await browser.context.newPage();
        const problems = [];
        page.on('pageerror', (e) => problems.push(e.message));
        const failed = [];
        page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failed.push(`${r.status()} ${r.url()}`); });
        await page.goto(`${server.url}app/`);
        await page.waitForFunction(() => document.getElementById('out').dataset.done, null, { timeout: 60_000 });
        const { done, text, variant, coi } = await page.evaluate(() => {
          const out = document.getElementById('out');
          return { done: out.dataset.done, text: out.textContent, variant: out.dataset.variant, coi: globalThis.crossOriginIsolated };
        });
        assert.equal(done, 'ok', `${text} ${problems.join('; ')} ${failed.join('; ')}`);
        assert.equal(coi, isolated);
        assert.equal(variant, isolated ? 'mt' : 'st');
        const lines = text.split('\n');
        assert.equal(lines.length, 4, text);
        for (const l of lines) assert.ok(l.trim().length > 0, text);
        assert.deepEqual(problems, []);
        assert.deepEqual(failed, []);
      } finally {
        await browser.close();
        server.stop();
      }
    }
  });
});
