#!/usr/bin/env node
// Static server for the repo root (so /web/, /dist/wasm/ and /models/ resolve), bound to 127.0.0.1.
// Sends COOP/COEP/CORP on every response so the page is cross-origin isolated (SharedArrayBuffer
// -> the threaded wasm build); --no-isolation leaves them off to exercise the single-thread path.
//   node tools/serve.mjs [--port N] [--root DIR] [--no-isolation] [--quiet]   (PORT env works too)
// Prints "listening on http://127.0.0.1:PORT/" once ready (tests wait for that line; --port 0
// picks a free port).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.webmanifest': 'application/manifest+json; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.md': 'text/markdown; charset=utf-8',
  '.map': 'application/json; charset=utf-8', '.ts': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = /^(text\/|application\/(json|manifest\+json|wasm|octet-stream)|image\/svg)/;

function parseArgs(argv) {
  const o = { port: Number(process.env.PORT ?? 8080), isolation: true, quiet: false,
    root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a.startsWith('--port=')) o.port = Number(a.slice(7));
    else if (a === '--root') o.root = path.resolve(argv[++i]);
    else if (a === '--no-isolation') o.isolation = false;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node tools/serve.mjs [--port N] [--root DIR] [--no-isolation] [--quiet]');
      process.exit(0);
    } else { console.error(`serve: unknown argument ${a}`); process.exit(2); }
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) { console.error('serve: bad port'); process.exit(2); }
  return o;
}

export function createServer({ root, isolation = true, quiet = true }) {
  const rootReal = fs.realpathSync(root);
  return http.createServer((req, res) => {
    const headers = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' };
    if (isolation) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    const send = (status, body, type = 'text/plain; charset=utf-8', extra = {}) => {
      res.writeHead(status, { ...headers, 'Content-Type': type, ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (!quiet) console.log(status, req.method, req.url);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', undefined, { Allow: 'GET, HEAD' });
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch { return send(400, 'bad request\n'); }
    if (rel === '/') return send(302, '', undefined, { Location: '/web/' });
    if (rel.split(/[/\\]/).some((seg) => seg.startsWith('.'))) return send(404, 'not found\n'); // .git, .env, ...
    // Resolve inside the root and refuse anything that escapes it (also through symlinks).
    let file = path.join(rootReal, path.normalize(rel).replace(/^([/\\])+/, ''));
    if (rel.includes('\0') || !(file === rootReal || file.startsWith(rootReal + path.sep))) return send(403, 'forbidden\n');
    let st;
    try {
      file = fs.realpathSync(file);
      if (!file.startsWith(rootReal + path.sep) && file !== rootReal) return send(403, 'forbidden\n');
      st = fs.statSync(file);
      if (st.isDirectory()) {
        if (!rel.endsWith('/')) return send(301, '', undefined, { Location: `${rel}/` });
        file = path.join(file, 'index.html');
        st = fs.statSync(file);
      }
    } catch { return send(404, 'not found\n'); }
    const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
    const gzip = COMPRESSIBLE.test(type) && st.size > 1024 && /\bgzip\b/.test(req.headers['accept-encoding'] || '');
    const h = { ...headers, 'Content-Type': type, 'Last-Modified': st.mtime.toUTCString(), Vary: 'Accept-Encoding' };
    if (gzip) h['Content-Encoding'] = 'gzip'; else h['Content-Length'] = st.size;
    res.writeHead(200, h);
    if (!quiet) console.log(200, req.method, req.url, gzip ? '(gzip)' : '');
    if (req.method === 'HEAD') return res.end();
    const stream = fs.createReadStream(file);
    stream.on('error', () => res.destroy());
    (gzip ? stream.pipe(zlib.createGzip({ level: 6 })) : stream).pipe(res);
  });
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const server = createServer(o);
  server.listen(o.port, '127.0.0.1', () => {
    const { port } = server.address();
    console.log(`listening on http://127.0.0.1:${port}/ (root ${o.root}, ${o.isolation ? 'cross-origin isolated' : 'no isolation'})`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
