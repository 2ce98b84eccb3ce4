// The engine's worker: a browser module Web Worker (started by index.mjs), or a Node
// worker_threads Worker (createEngine({worker: true}) in Node). Heavy wasm calls block this thread,
// never the page's. Protocol (every message carries the caller's id):
//   in:  {id, type:'init', options:{variant, wasmBaseUrl, modelBaseUrl, threads}}
//        {id, type:'request', request: object|string, events: boolean, data?: Uint8Array}
//        (data: the bytes a task reads beside its JSON, e.g. analyze_audio's WAV file; the page
//        usually transfers its ArrayBuffer, so it arrives here without a copy)
//   out: {id, type:'ready', info} | {id, type:'event', event} | {id, type:'result', response}
//        {id, type:'error', error:{code, message}} | {type:'progress', progress:{model, loaded, total}}
// A request that crashes is answered with an error response and the worker keeps serving.
import { EngineHost, errorResponse, isNode } from './core.mjs';

// No top-level await: bundlers build browser workers as classic scripts (Vite's default worker
// format is 'iife'), which cannot hold one. Node's port queues messages until a listener is attached.
let post, listen;
if (!isNode) {
  post = (m) => self.postMessage(m);
  listen = (fn) => self.addEventListener('message', (e) => fn(e.data));
}

let hostPromise = null;

async function handle(msg) {
  const { id, type } = msg || {};
  if (type === 'init') {
    if (hostPromise) return post({ id, type: 'error', error: { code: 'bad_request', message: 'already initialized' } });
    hostPromise = EngineHost.create({ ...msg.options, onProgress: (progress) => post({ type: 'progress', progress }) });
    try {
      post({ id, type: 'ready', info: (await hostPromise).info });
    } catch (err) {
      post({ id, type: 'error', error: { code: 'init_failed', message: `cannot start the engine: ${err?.message || err}` } });
    }
  } else if (type === 'request') {
    let response;
    try {
      if (!hostPromise) throw new Error('worker not initialized');
      const host = await hostPromise;
      response = await host.request(msg.request, msg.events ? (event) => post({ id, type: 'event', event }) : null, msg.data ?? null);
    } catch (err) {
      response = errorResponse('internal', String(err?.message || err));
    }
    post({ id, type: 'result', response });
  } else if (type === 'close') {
    (await hostPromise?.catch(() => null))?.close();
    if (!isNode) self.close();
    else process.exit(0);
  }
}

if (isNode) {
  import('node:worker_threads').then(({ parentPort }) => {
    post = (m) => parentPort.postMessage(m);
    parentPort.on('message', (msg) => { handle(msg); });
  });
} else {
  listen((msg) => { handle(msg); });
}
