// The lyrics page: reads the form, sends one generate_lyrics request through the engine (which
// runs in a Web Worker), and shows each line as its `line` event arrives. No song logic here:
// values go to C++ as typed and C++ answers errors that are shown as they come.
import { createEngine } from './src/index.mjs';

const $ = (id) => document.getElementById(id);
const form = $('form'), out = $('output'), statusEl = $('status'), errorEl = $('error');
const progressEl = $('progress'), generateBtn = $('generate'), copyBtn = $('copy');

let engine = null, buildText = '', lastLyrics = '';

const setStatus = (text) => { statusEl.textContent = text; };
const showError = (err) => {
  const code = err?.code ? `[${err.code}] ` : '';
  errorEl.textContent = `出错了 Error: ${code}${err?.message || err}`;
  errorEl.hidden = false;
};
const clearError = () => { errorEl.hidden = true; errorEl.textContent = ''; };

function describeBuild(info) {
  return info.variant === 'mt'
    ? `threads + SIMD (cross-origin isolated) · 多线程 ×${info.threads}`
    : 'single thread + SIMD (page not cross-origin isolated) · 单线程';
}

const mb = (n) => (n / 1e6).toFixed(1);
function onProgress({ model, loaded, total }) {
  progressEl.hidden = false;
  if (total > 0) { progressEl.max = total; progressEl.value = Math.min(loaded, total); } else progressEl.removeAttribute('value');
  const pct = total > 0 ? ` (${Math.floor((100 * loaded) / total)}%)` : '';
  setStatus(`下载模型 Downloading model ${model}: ${mb(loaded)}${total ? ` / ${mb(total)}` : ''} MB${pct} · ${buildText}`);
  if (total > 0 && loaded >= total) progressEl.hidden = true;
}

// Form -> request options. Empty fields are left out so C++ applies its defaults (random seed,
// language detected from the title); numbers are sent as typed and C++ checks their ranges.
function readForm() {
  const num = (id) => ($(id).value.trim() === '' ? undefined : Number($(id).value));
  const style = $('style').value || $('style-other').value;
  return {
    title: $('title').value,
    style: style || undefined,
    lines: num('lines'),
    lang: $('lang').value || undefined,
    seed: num('seed'),
    temperature: num('temperature'),
  };
}

function addLine(text) {
  const li = document.createElement('li');
  li.textContent = text;
  out.append(li);
}

async function generate(event) {
  event.preventDefault();
  if (!engine || generateBtn.disabled) return;
  clearError();
  out.replaceChildren();
  lastLyrics = '';
  copyBtn.disabled = true;
  generateBtn.disabled = true;
  out.setAttribute('aria-busy', 'true');
  const opts = readForm();
  $('song-title').textContent = opts.title || '歌词';
  $('song-meta').textContent = '';
  const t0 = performance.now();
  setStatus(`正在写… Writing… · ${buildText}`);
  try {
    const res = await engine.generateLyrics(opts, { onLine: (ev) => addLine(ev.text) });
    // The final response is the source of truth; redraw only if the stream disagreed with it.
    const shown = [...out.children].map((li) => li.textContent);
    if (shown.join('\n') !== res.lines.map((l) => l.text).join('\n')) {
      out.replaceChildren();
      for (const line of res.lines) addLine(line.text);
    }
    lastLyrics = res.lyrics;
    copyBtn.disabled = false;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    $('song-meta').textContent = `· ${res.language} · seed ${res.seed}`;
    setStatus(`完成 Done: ${res.lines.length} 行 lines in ${secs} s · ${buildText}`);
  } catch (err) {
    showError(err);
    setStatus(`失败 Failed · ${buildText}`);
  } finally {
    out.setAttribute('aria-busy', 'false');
    generateBtn.disabled = false;
  }
}

async function copy() {
  try {
    await navigator.clipboard.writeText(lastLyrics);
    setStatus(`已复制 Copied · ${buildText}`);
  } catch {
    // Clipboard API refused (permissions): fall back to selecting the lines for Ctrl+C.
    const range = document.createRange();
    range.selectNodeContents(out);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    setStatus(`请按 Ctrl+C 复制 Press Ctrl+C to copy · ${buildText}`);
  }
}

$('style').addEventListener('change', () => {
  const other = $('style').value === '';
  $('style-other-field').hidden = !other;
  if (other) $('style-other').focus();
});
form.addEventListener('submit', generate);
copyBtn.addEventListener('click', copy);

try {
  engine = await createEngine({ onProgress });
  buildText = describeBuild(engine.info);
  document.body.dataset.variant = engine.info.variant;
  $('build').textContent = buildText;
  setStatus(`就绪 Ready · ${buildText}`);
  generateBtn.disabled = false;
} catch (err) {
  setStatus('引擎启动失败 Engine failed to start');
  showError(err);
}
