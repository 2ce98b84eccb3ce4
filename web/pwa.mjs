// The offline app: registers the service worker (sw.js: it saves the app, both wasm builds and the
// default models, and serves them offline) and shows what it is doing in the header: download
// progress on the first visit, then "available offline". Every later visit asks it to check for a
// new build (a new model version replaces the old one). document.documentElement.dataset.offline
// says where it stands: saving | ready | error | unsupported.
import { $ } from './dom.mjs';
import { setText } from './i18n.mjs';

const box = $('pwa'), text = $('pwa-status'), bar = $('pwa-progress');
const root = document.documentElement;
const mb = (n) => (n / 1e6).toFixed(1);

/** The status line: a message key of web/i18n.mjs and its parameters (it follows the language switch). */
function show(state, key, params) {
  root.dataset.offline = state;
  box.hidden = false;
  setText(text, key, params); // (the same words are not written again: screen readers hear nothing new)
}

function onMessage(e) {
  const m = e.data;
  if (!m || m.source !== 'tunesmith-sw') return;
  if (m.type === 'progress') {
    bar.hidden = false;
    bar.max = Math.max(1, m.total);
    bar.value = Math.min(m.loaded, m.total);
    const [key, params] = m.unit === 'files'
      ? ['nFiles', { loaded: m.loaded, total: m.total }]
      : ['nMegabytes', { loaded: mb(m.loaded), total: mb(m.total) }];
    setText(bar, key, params, 'aria-valuetext');
    // The status line changes by phase (screen readers hear it), the numbers sit beside it.
    show('saving', m.phase === 'app' ? 'savingApp' : 'savingModels');
    setText($('pwa-detail'), key, params);
  } else if (m.type === 'ready') {
    // Saved; "available offline" once the worker is active too (it finishes installing first).
    navigator.serviceWorker.ready.then(() => ready(m));
  } else if (m.type === 'error') {
    bar.hidden = true;
    if (navigator.serviceWorker.controller) show('ready', m.offline ? 'offlineSavedCopy' : 'offlineCheckFailed');
    else show('error', 'offlineFailed', { message: String(m.message) });
  }
}

function ready(m) {
  bar.hidden = true;
  $('pwa-detail').textContent = `${(m.bytes / 1e6).toFixed(1)} MB`;
  show('ready', globalThis.crossOriginIsolated ? 'offlineReady' : 'offlineReadyReload');
}

async function start() {
  if (!('serviceWorker' in navigator)) {
    show('unsupported', 'offlineUnsupported');
    return;
  }
  navigator.serviceWorker.addEventListener('message', onMessage);
  const hadController = !!navigator.serviceWorker.controller;
  try {
    await navigator.serviceWorker.register('sw.js', { scope: './' });
  } catch (err) {
    show('error', 'offlineFailed', { message: String(err?.message || err) });
    return;
  }
  // The line appears with the worker's first report (nothing when service workers are blocked).
  if (hadController) navigator.serviceWorker.controller.postMessage({ type: 'check' });
}

start();
