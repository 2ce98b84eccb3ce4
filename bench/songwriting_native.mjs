// Node side of bench/songwriting_native.cpp: builds it on demand and talks to it. Used by
// tools/bench.mjs (songwriting section) and tools/lyrics/eval.mjs (--engine native).
//
//   import { buildRunner, NativeRunner } from '../bench/songwriting_native.mjs';
//   const r = new NativeRunner(buildRunner());          // one warm native Engine in a child process
//   const { ms, ms_first_line, ms_first_token, response } = await r.request({ task: 'generate_lyrics', ... });
//   r.close();
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RUNNER_SRC = path.join(ROOT, 'bench/songwriting_native.cpp');
export const RUNNER_BIN = path.join(ROOT, 'build/bench/tunesmith_songwriting');
const LIB = path.join(ROOT, 'build/native/libtunesmith_core.a');

/** Compiles the runner when it is missing or older than its source or the core library; returns its path. */
export function buildRunner() {
  if (!fs.existsSync(LIB)) throw new Error('build/native/libtunesmith_core.a is missing (npm run build:native)');
  const newest = Math.max(fs.statSync(LIB).mtimeMs, fs.statSync(RUNNER_SRC).mtimeMs);
  if (fs.existsSync(RUNNER_BIN) && fs.statSync(RUNNER_BIN).mtimeMs >= newest) return RUNNER_BIN;
  fs.mkdirSync(path.dirname(RUNNER_BIN), { recursive: true });
  const tmp = `${RUNNER_BIN}.${process.pid}.tmp`;
  // Same flags that matter as the CMake build (no FMA contraction: results equal the CLI's).
  const p = spawnSync('g++', ['-std=c++17', '-O3', '-DNDEBUG', '-DTS_THREADS=1', '-ffp-contract=off', '-fno-fast-math',
    `-I${path.join(ROOT, 'engine/include')}`, RUNNER_SRC, LIB, '-lpthread', '-o', tmp], { encoding: 'utf8' });
  if (p.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`g++ failed: ${(p.stderr || p.error?.message || '').trim().split('\n').slice(0, 3).join(' ')}`);
  }
  fs.renameSync(tmp, RUNNER_BIN);
  return RUNNER_BIN;
}

/** One warm native engine in a child process; request(obj) resolves {ms, ms_first_token, ms_first_line, lines, response}. */
export class NativeRunner {
  constructor(bin = RUNNER_BIN, { models = path.join(ROOT, 'models'), threads = 1 } = {}) {
    this.p = spawn(bin, ['--models', models, '--threads', String(threads)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.queue = [];
    this.dead = null;
    createInterface({ input: this.p.stdout }).on('line', (l) => {
      const q = this.queue.shift();
      if (!q) return;
      try { q.resolve(JSON.parse(l)); } catch (e) { q.reject(e); }
    });
    this.p.on('exit', (code) => {
      this.dead = `native runner exited (${code})`;
      for (const q of this.queue.splice(0)) q.reject(new Error(this.dead));
    });
    this.p.on('error', (e) => { this.dead = `native runner: ${e.message}`; for (const q of this.queue.splice(0)) q.reject(e); });
  }
  request(obj) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.p.stdin.write(`${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n`);
    });
  }
  close() { this.p.stdin.end(); }
}
