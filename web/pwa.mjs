// The offline app: registers the service worker (sw.js: it saves the app, both wasm builds and the
// default models, and serves them offline) and shows what it is doing in the header: download
// progress on the first visit, then "available offline". Every later visit asks it to check for a
// new build (a new model version replaces the old one). document.documentElement.dataset.offline
// says where it stands: saving | ready | error | unsupported.
import { $ } from './dom.mjs';

const box = $('pwa'), text = $('pwa-status'), bar = $('pwa-progress');
const root = document.documentElement;
const mb = (n) => (n / 1e6).toFixed(1);

function show(state, message) {
  root.dataset.offline = state;
  box.hidden = false;
  if (text.textContent !== message) text.textContent = message;
}

function onMessage(e) {
  const m = e.data;
  if (!m || m.source !== 'tunesmith-sw') return;
  if (m.type === 'progress') {
    bar.hidden = false;
    bar.max = Math.max(1, m.total);
    bar.value = Math.min(m.loaded, m.total);
    const what = m.unit === 'files'
      ? `${m.loaded} / ${m.total} 个文件 files`
      : `${mb(m.loaded)} / ${mb(m.total)} MB`;
    bar.setAttribute('aria-valuetext', what);
    // The status line changes by phase (screen readers hear it), the numbers sit beside it.
    show('saving', m.phase === 'app' ? '正在保存应用以便离线使用 Saving the app for offline use…' : '正在下载模型以便离线使用 Downloading the models for offline use…');
    $('pwa-detail').textContent = what;
  } else if (m.type === 'ready') {
    // Saved; "available offline" once the worker is active too (it finishes installing first).
    navigator.serviceWorker.ready.then(() => ready(m));
  } else if (m.type === 'error') {
    bar.hidden = true;
    if (navigator.serviceWorker.controller) show('ready', m.offline ? '✓ 离线：使用已保存的版本 Offline: using the saved copy' : '✓ 可离线使用 Available offline (update check failed)');
    else show('error', `无法离线保存 Could not save for offline use: ${m.message}`);
  }
}

function ready(m) {
  bar.hidden = true;
  $('pwa-detail').textContent = `${(m.bytes / 1e6).toFixed(1)} MB`;
  const threads = globalThis.crossOriginIsolated ? '' : ' · 重新载入后可用多线程 reload for the threaded build';
  show('ready', `✓ 可离线使用 Available offline${threads}`);
}

async function start() {
  if (!('serviceWorker' in navigator)) {
    show('unsupported', '此浏览器不能离线使用 Offline use is not available in this browser');
    return;
  }
  navigator.serviceWorker.addEventListener('message', onMessage);
  const hadController = !!navigator.serviceWorker.controller;
  try {
    await navigator.serviceWorker.register('sw.js', { scope: './' });
  } catch (err) {
    show('error', `无法离线保存 Could not save for offline use: ${err?.message || err}`);
    return;
  }
  // The line appears with the worker's first report (nothing when service workers are blocked).
  if (hadController) navigator.serviceWorker.controller.postMessage({ type: 'check' });
}

start();
