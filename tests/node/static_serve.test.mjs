// The dev server (tools/serve.mjs, `npm start`): strong ETags and conditional requests (304 with no
// body), gzip negotiation with Vary, COOP/COEP/CORP and Cache-Control: no-cache on every answer,
// HEAD, and nothing outside its root.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import { createServer, acceptsGzip } from '../../tools/serve.mjs';

/** One request on loopback; resolves {status, headers, body: Buffer} (the raw bytes, not decoded). */
function request(port, pathname, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    // A raw path (no URL normalisation by the client): the server must refuse ../ itself.
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method, headers, agent: false }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tools/serve.mjs', () => {
  let dir, root, secret, server, port;
  const text = 'console.log("tunesmith");\n'.repeat(200); // > 1 KiB: compressible
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tunesmith-static-'));
    root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'web'), { recursive: true });
    fs.writeFileSync(path.join(root, 'web', 'index.html'), '<!doctype html><title>t</title>\n');
    fs.writeFileSync(path.join(root, 'web', 'app.mjs'), text);
    fs.writeFileSync(path.join(root, 'web', 'icon.png'), Buffer.alloc(4000, 7)); // not compressible
    secret = path.join(dir, 'secret.txt');
    fs.writeFileSync(secret, 'do not serve\n');
    fs.writeFileSync(path.join(root, '.env'), 'TOKEN=x\n');
    fs.symlinkSync(secret, path.join(root, 'web', 'link.txt'));
    server = createServer({ root });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = server.address().port;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('200 with a strong ETag, Cache-Control: no-cache and cross-origin isolation headers', async () => {
    const r = await request(port, '/web/app.mjs');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), text);
    assert.match(r.headers.etag, /^"[A-Za-z0-9_-]+"$/, 'a strong entity tag');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.equal(r.headers['cross-origin-resource-policy'], 'same-origin');
    assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(text));
    assert.ok(r.headers['last-modified']);
    assert.equal((await request(port, '/web/app.mjs')).headers.etag, r.headers.etag, 'the same file gives the same tag');
  });

  test('304 with no body on a matching If-None-Match (also in a list, weak form or *)', async () => {
    const { headers: { etag } } = await request(port, '/web/app.mjs');
    for (const inm of [etag, `"other", ${etag}`, `W/${etag}`, '*']) {
      const r = await request(port, '/web/app.mjs', { headers: { 'If-None-Match': inm } });
      assert.equal(r.status, 304, inm);
      assert.equal(r.body.length, 0);
      assert.equal(r.headers.etag, etag);
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp');
      assert.equal(r.headers['content-encoding'], undefined);
    }
    const miss = await request(port, '/web/app.mjs', { headers: { 'If-None-Match': '"nope"' } });
    assert.equal(miss.status, 200);
    assert.equal(miss.body.toString(), text);
    // If-Modified-Since applies only without If-None-Match.
    const later = new Date(Date.now() + 60_000).toUTCString();
    assert.equal((await request(port, '/web/app.mjs', { headers: { 'If-Modified-Since': later } })).status, 304);
    assert.equal((await request(port, '/web/app.mjs', { headers: { 'If-Modified-Since': later, 'If-None-Match': '"nope"' } })).status, 200);
    assert.equal((await request(port, '/web/app.mjs', { headers: { 'If-Modified-Since': new Date(0).toUTCString() } })).status, 200);
  });

  test('a changed file gets a new ETag and a 200 for the old one', async () => {
    const file = path.join(root, 'web', 'changing.json');
    fs.writeFileSync(file, '{"version": 1}\n');
    const first = await request(port, '/web/changing.json');
    // Same size, same second: only the bytes (and the sub-second mtime) differ.
    fs.writeFileSync(file, '{"version": 2}\n');
    const r = await request(port, '/web/changing.json', { headers: { 'If-None-Match': first.headers.etag } });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '{"version": 2}\n');
    assert.notEqual(r.headers.etag, first.headers.etag);
    assert.equal((await request(port, '/web/changing.json', { headers: { 'If-None-Match': r.headers.etag } })).status, 304);
  });

  test('gzip when Accept-Encoding allows it, with Vary and its own ETag', async () => {
    const plain = await request(port, '/web/app.mjs');
    const gz = await request(port, '/web/app.mjs', { headers: { 'Accept-Encoding': 'br, gzip, deflate' } });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    assert.ok(gz.body.length < Buffer.byteLength(text) / 5, `compressed to ${gz.body.length} bytes`);
    assert.equal(zlib.gunzipSync(gz.body).toString(), text);
    assert.notEqual(gz.headers.etag, plain.headers.etag, 'each encoding has its own strong tag');
    const again = await request(port, '/web/app.mjs', { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': gz.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers['content-encoding'], undefined);
    // gzip;q=0 refuses it; small and incompressible files go as they are.
    assert.equal((await request(port, '/web/app.mjs', { headers: { 'Accept-Encoding': 'gzip;q=0, identity' } })).headers['content-encoding'], undefined);
    const png = await request(port, '/web/icon.png', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(png.headers['content-encoding'], undefined);
    assert.equal(png.body.length, 4000);
    const small = await request(port, '/web/index.html', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip('deflate, gzip;q=0'), false);
    assert.equal(acceptsGzip(''), false);
  });

  test('HEAD: the GET headers with no body', async () => {
    const get = await request(port, '/web/app.mjs');
    const head = await request(port, '/web/app.mjs', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers.etag, get.headers.etag);
    assert.equal(head.headers['content-length'], get.headers['content-length']);
    assert.equal((await request(port, '/web/app.mjs', { method: 'HEAD', headers: { 'If-None-Match': get.headers.etag } })).status, 304);
    assert.equal((await request(port, '/web/app.mjs', { method: 'POST' })).status, 405);
  });

  test('nothing outside the root: traversal, encoded traversal, dot files and symlinks out are refused', async () => {
    for (const p of ['/../secret.txt', '/web/../../secret.txt', '/%2e%2e/secret.txt', '/web/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/web/..%5c..%5csecret.txt', '/.env', '/web/link.txt', '/web/%00']) {
      const r = await request(port, p);
      assert.ok([400, 403, 404].includes(r.status), `${p} -> ${r.status}`);
      assert.ok(!r.body.toString().includes('do not serve') && !r.body.toString().includes('TOKEN'), p);
    }
    assert.equal((await request(port, '/')).status, 302);
    assert.equal((await request(port, '/web')).status, 301);
    const index = await request(port, '/web/');
    assert.equal(index.status, 200);
    assert.match(index.body.toString(), /<title>t<\/title>/);
    assert.equal((await request(port, '/web/missing.js')).status, 404);
  });

  test('--no-isolation leaves COOP/COEP off', async () => {
    const plain = createServer({ root, isolation: false });
    await new Promise((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const r = await request(plain.address().port, '/web/app.mjs');
      assert.equal(r.status, 200);
      assert.equal(r.headers['cross-origin-embedder-policy'], undefined);
      assert.ok(r.headers.etag);
    } finally { await new Promise((r) => plain.close(r)); }
  });
});
