// Shared by the Chromium tests: the page's server root, tools/serve.mjs on a free port, and a
// headless Chromium that can reach nothing but 127.0.0.1 and records every request it makes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { ROOT, WASM_DIR, MODELS_DIR } from '../node/helpers.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = path.join(ROOT, 'build', 'screenshots');

/** The server serves one root; when the build or models live elsewhere (TUNESMITH_WASM_DIR /
 * TUNESMITH_MODELS), a temporary root is laid out with copies (web/, abcjs, the wasm, the models). */
export function serveRoot() {
  if (WASM_DIR === path.join(ROOT, 'dist', 'wasm') && MODELS_DIR === path.join(ROOT, 'models')) return ROOT;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-root-'));
  fs.cpSync(path.join(ROOT, 'web'), path.join(tmp, 'web'), { recursive: true });
  const abcjs = path.join(ROOT, 'node_modules', 'abcjs');
  if (fs.existsSync(abcjs)) fs.cpSync(abcjs, path.join(tmp, 'node_modules', 'abcjs'), { recursive: true });
  fs.cpSync(WASM_DIR, path.join(tmp, 'dist', 'wasm'), { recursive: true });
  fs.cpSync(MODELS_DIR, path.join(tmp, 'models'), { recursive: true });
  return tmp;
}

/** Starts tools/serve.mjs on a free port; resolves {url, stop}. */
export function serve(root, extra = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'tools', 'serve.mjs'), '--port', '0', '--root', root, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => { p.kill(); reject(new Error('server did not start in 15 s')); }, 15_000);
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: m[1], stop: () => p.kill() }); }
    });
    p.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code})`)); });
  });
}

/**
 * A fresh headless Chromium profile; resolves {context, requests (every URL asked for), close}.
 * Service workers are blocked unless options.serviceWorkers is 'allow' (tests/browser/pwa.test.mjs):
 * the other tests check what the page itself downloads, which the offline app's precaching would blur.
 */
export async function launch(options = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      // Belt and braces: any host other than 127.0.0.1 fails to resolve.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    viewport: { width: 1000, height: 900 },
    serviceWorkers: 'block',
    ...options,
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  return { context, requests, close: async () => { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); } };
}

/**
 * Opens the app at url in a new tab of context and waits until the engine is ready (or has shown
 * an error); resolves {page, problems}: problems collects page errors and console errors.
 */
export async function openPage(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.setDefaultTimeout(60_000);
  await page.goto(url);
  await page.waitForFunction(() => !document.getElementById('generate').disabled || !document.getElementById('error').hidden);
  return { page, problems };
}
