// How the server serves the web app (src/server/web.cpp), over plain HTTP: the pages at / and
// /f/<id> with a strict Content-Security-Policy and no inline script, hashed assets cached
// as immutable, everything else revalidated by ETag, one URL per page, and a notice page when
// no app is installed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server, runCli, tempDir } from '../lib/server.mjs';
import { startServer } from './lib.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const FILE_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

// `etag`: false for the built-in notice page, which is not a file.
function assertPageHeaders(res, what, { etag = true } = {}) {
  assert.equal(res.status, 200, what);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8', what);
  assert.equal(res.headers.get('cache-control'), 'no-cache', what);
  if (etag) assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{32}"$/, what);
  const csp = res.headers.get('content-security-policy') ?? '';
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(' ')]));
  assert.equal(directives.get('default-src'), "'self'", csp);
  // The one exception: our own scripts may compile WebAssembly (Argon2id at login); no eval.
  assert.equal(directives.get('script-src'), "'self' 'wasm-unsafe-eval'", csp);
  assert.equal(directives.get('connect-src'), "'self'", csp);
  assert.equal(directives.get('object-src'), "'none'", csp);
  assert.equal(directives.get('frame-ancestors'), "'none'", csp);
  assert.doesNotMatch(csp.replace(" 'wasm-unsafe-eval'", ''), /unsafe|\*|http:|https:|data:|blob:/, csp);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
  assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
}

// No inline script or style, no event-handler attributes, no javascript: URLs: nothing the
// policy would have to allow. Every script and stylesheet is a same-origin path.
function assertNoInlineCode(html, what) {
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  assert.ok(scripts.length > 0, `${what}: no script at all`);
  for (const [, attrs, body] of scripts) {
    assert.match(attrs, /\bsrc="\/assets\/[^"]+\.js"/, `${what}: script without src: ${attrs}`);
    assert.equal(body.trim(), '', `${what}: inline script`);
  }
  assert.doesNotMatch(html, /<style\b/i, `${what}: inline style element`);
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${what}: event handler attribute`);
  assert.doesNotMatch(html, /\sstyle\s*=/i, `${what}: style attribute`);
  assert.doesNotMatch(html, /javascript:/i, `${what}: javascript: URL`);
  for (const [, url] of html.matchAll(/\s(?:src|href)="([^"]+)"/g)) {
    assert.ok(url.startsWith('/') && !url.startsWith('//'), `${what}: not a same-origin path: ${url}`);
  }
}

// The pages, each at its one URL.
const PAGES = ['/', `/f/${FILE_ID}`, '/login', '/my-files', '/wallet'];

test('every page: headers and no inline code', async () => {
  for (const url of [...PAGES, `/f/${FILE_ID}?r=abcdefghijkl`]) {
    const res = await fetch(server.url + url);
    assertPageHeaders(res, url);
    assertNoInlineCode(await res.text(), url);
  }
  assert.notEqual((await fetch(`${server.url}/`)).headers.get('etag'), (await fetch(`${server.url}/f/${FILE_ID}`)).headers.get('etag'));
});

// Every file the pages load: hashed assets immutable for a year, the rest revalidated; the
// right types; conditional requests answer 304; HEAD carries the headers without the body.
test('assets: types, caching, ETags, 304 and HEAD', async () => {
  const urls = new Set(['/sw.js', '/favicon.svg']);
  for (const page of PAGES) {
    const html = await (await fetch(server.url + page)).text();
    // Links to pages (no extension) are pages, checked above.
    for (const [, url] of html.matchAll(/\s(?:src|href)="([^"]+)"/g)) if (path.extname(url)) urls.add(url);
  }
  const types = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
  let hashed = 0;
  for (const url of urls) {
    const res = await fetch(server.url + url);
    assert.equal(res.status, 200, url);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get('content-type'), types[path.extname(url)], url);
    assert.equal(Number(res.headers.get('content-length')), body.length, url);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url);
    const etag = res.headers.get('etag');
    assert.match(etag ?? '', /^"[0-9a-f]{32}"$/, url);
    if (url.startsWith('/assets/')) {
      hashed++;
      assert.match(url, /-[A-Za-z0-9_-]{8,}\.(js|css)$/, `${url} carries a content hash`);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', url);
    } else {
      assert.equal(res.headers.get('cache-control'), 'no-cache', url);
    }
    const again = await fetch(server.url + url, { headers: { 'If-None-Match': `"other", W/${etag}` } });
    assert.equal(again.status, 304, url);
    assert.equal(again.headers.get('etag'), etag);
    assert.equal((await again.arrayBuffer()).byteLength, 0);
    const changed = await fetch(server.url + url, { headers: { 'If-None-Match': '"0000"' } });
    assert.equal(changed.status, 200, url);
    const head = await fetch(server.url + url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), body.length, url);
    assert.equal(head.headers.get('etag'), etag);
  }
  assert.ok(hashed >= 2, `hashed assets: ${hashed}`);
  // The service worker is a classic script (no import statements) at its fixed URL.
  assert.doesNotMatch(await (await fetch(`${server.url}/sw.js`)).text(), /^\s*import\s/m);
});

// One URL per page, nothing outside the app's files, ids checked, methods refused.
test('what is not served', async () => {
  for (const [url, status, init] of [
    ['/index.html', 404],
    ['/link.html', 404],
    ['/assets/nope-12345678.js', 404],
    ['/assets/../index.html', 404],
    ['/assets/%2e%2e/index.html', 404],
    ['/.vite/manifest.json', 404],
    ['/f/not-a-file-id', 404],
    ['/f/', 404],
    ['/_save/0123', 404],
    ['/', 405, { method: 'POST' }],
    ['/sw.js', 405, { method: 'DELETE' }],
    [`/f/${FILE_ID}`, 405, { method: 'PUT' }],
  ]) {
    const res = await fetch(server.url + url, init);
    assert.equal(res.status, status, `${init?.method ?? 'GET'} ${url}`);
    await res.arrayBuffer();
  }
});

// Without the app (an empty web root) the pages are a notice that still explains the link;
// a --web-root that does not exist stops `satload serve` at once.
test('no app installed: a notice page; a missing --web-root is refused', async () => {
  const empty = tempDir('satload-webroot-');
  mkdirSync(path.join(empty, 'assets'));
  const bare = new Server({ args: ['--web-root', empty] });
  await bare.start();
  try {
    for (const url of ['/', `/f/${FILE_ID}`]) {
      const res = await fetch(bare.url + url);
      assertPageHeaders(res, url, { etag: false });
      const html = await res.text();
      assert.match(html, /web app is not installed/);
      assert.match(html, /satload get/);
      assert.doesNotMatch(html, /<script/i);
    }
    assert.match(bare.log, /lacks index\.html or link\.html/);
  } finally {
    await bare.stop();
  }
  const r = await runCli(['serve', '--listen', '127.0.0.1:0', '--data', tempDir(), '--web-root', path.join(empty, 'missing')], { timeoutMs: 10000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--web-root .* is not a directory/);
});
