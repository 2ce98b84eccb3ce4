// Emscripten --pre-js: environment glue for Node and browsers (owned by the JS layer, web/src/).
//
// This text is pasted inside the MODULARIZE factory, before Emscripten's own environment setup, so
// the `var`s below are hoisted over the whole factory and shadow the globals of the same name.
// Emscripten 3.1.6 with EXPORT_ES6 emits CommonJS-isms under Node that an ES module lacks:
//   - `require(...)` (fs, path, worker_threads, perf_hooks) and `__dirname`: not defined in an
//     .mjs module, so they are provided here. `import.meta` must not appear in this file (this
//     version's minifier parses pre-js as a script and crashes); the factory's own `_scriptDir`
//     (= import.meta.url, set by Emscripten) gives the module's location instead.
//   - `fetch`: Node 20 has one, so Emscripten tries to fetch a file:// URL for the .wasm and fails
//     with "Failed to parse URL"; under Node it is hidden so the fs path (or `wasmBinary`) is used.
// A pthread worker (tunesmith-mt.worker.js) re-runs this factory with its own `Module`; there the
// worker script has already put `require` on the global object, which is reused.
var TS_IS_NODE = typeof process == 'object' && typeof process.versions == 'object' &&
  typeof process.versions.node == 'string';
var require = !TS_IS_NODE ? undefined
  : Module['nodeRequire'] || globalThis.require ||
    (typeof process.getBuiltinModule == 'function'
      ? function (id) { return process.getBuiltinModule(id); }
      : function (id) { throw new Error('tunesmith: pass moduleArgs.nodeRequire (Node < 20.16): ' + id); });
var __dirname = !TS_IS_NODE ? undefined
  : (typeof _scriptDir == 'string' && _scriptDir.indexOf('file:') == 0)
    ? require('path').dirname(require('url').fileURLToPath(_scriptDir))
    : process.cwd();
var fetch = TS_IS_NODE ? undefined : globalThis.fetch;
// Without locateFile, Emscripten names the .wasm by a file:// URL that Node's fs cannot open, so
// default to the module's own directory (callers such as web/src/index.mjs pass wasmBinary anyway).
if (TS_IS_NODE && !Module['locateFile']) {
  Module['locateFile'] = function (path) { return require('path').join(__dirname, path); };
}
// The threaded build's pthread pool size (-sPTHREAD_POOL_SIZE=Module.tsPthreadPool in CMakeLists.txt):
// web/src/core.mjs passes the number of workers its engine will use (threads - 1, often 0); without
// it, 4 (the build's max_threads). They load beside the module (PTHREAD_POOL_DELAY_LOAD, which allows
// 0); core.mjs waits for them before it calls the engine.
if (!(Module['tsPthreadPool'] >= 0)) Module['tsPthreadPool'] = 4;
