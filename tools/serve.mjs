#!/usr/bin/env node
// Static server for the repo root (so /web/, /dist/wasm/ and /models/ resolve), bound to 127.0.0.1.
// Sends COOP/COEP/CORP on every response so the page is cross-origin isolated (SharedArrayBuffer
// -> the threaded wasm build); --no-isolation leaves them off to exercise the single-thread path.
//   node tools/serve.mjs [--port N] [--root DIR] [--no-isolation] [--quiet]   (PORT env works too)
// Prints "listening on http://127.0.0.1:PORT/" once ready (tests wait for that line; --port 0
// picks a free port).
// Caching: every file answer has Cache-Control: no-cache (always revalidate) and a strong ETag (a
// hash of the file's bytes, computed once per file version: size, mtime and inode), so a browser or
// the service worker revalidating a file it has gets a 304 with no body (If-None-Match, or
// If-Modified-Since without one). Compressible types go gzip (level 6) when Accept-Encoding allows it,
// with Vary: Accept-Encoding and their own ETag ("...-gz": a strong validator names one encoding).
import http from 'node:http';
import crypto from 'node:crypto';
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

/** Whether an Accept-Encoding header value allows gzip (a q=0 entry refuses it). */
export function acceptsGzip(header) {
  let gzip = null, star = null;
  for (const part of String(header || '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';').map((x) => x.trim());
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (name === 'gzip' || name === 'x-gzip') gzip = q > 0;
    else if (name === '*') star = q > 0;
  }
  return gzip ?? star ?? false;
}

/** If-None-Match (a list of entity tags, or *) against an ETag, by the weak comparison RFC 9110 asks for. */
function noneMatch(header, etag) {
  if (header.trim() === '*') return true;
  const bare = (t) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => bare(t) === bare(etag));
}

export function createServer({ root, isolation = true, quiet = true }) {
  const rootReal = fs.realpathSync(root);
  // file -> {key (size, mtime, inode), tag}: each version of a file is hashed once.
  const tags = new Map();
  const etagOf = (file, st) => {
    const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    const have = tags.get(file);
    if (have?.key === key) return have.tag;
    const tag = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('base64url').slice(0, 27);
    tags.set(file, { key, tag });
    return tag;
  };
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
    const compressible = COMPRESSIBLE.test(type) && st.size > 1024;
    const gzip = compressible && acceptsGzip(req.headers['accept-encoding']);
    let tag;
    try { tag = etagOf(file, st); } catch { return send(404, 'not found\n'); }
    const etag = `"${tag}${gzip ? '-gz' : ''}"`;
    const h = { ...headers, 'Content-Type': type, 'Last-Modified': st.mtime.toUTCString(), ETag: etag };
    if (compressible) h.Vary = 'Accept-Encoding';
    // Conditional GET/HEAD: If-None-Match wins; If-Modified-Since only without it (HTTP dates have
    // whole seconds).
    const inm = req.headers['if-none-match'], ims = req.headers['if-modified-since'];
    const fresh = inm != null ? noneMatch(inm, etag)
      : ims != null && !Number.isNaN(Date.parse(ims)) && Math.floor(st.mtimeMs / 1000) * 1000 <= Date.parse(ims);
    if (fresh) {
      delete h['Content-Type'];
      res.writeHead(304, h);
      if (!quiet) console.log(304, req.method, req.url);
      return res.end();
    }
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
