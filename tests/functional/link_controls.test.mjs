// Link controls against the real binaries: `satload put --max-downloads/--expire/--price`,
// `satload set`, and PATCH /api/v1/files/<id>. Pins down that the (N+1)th download is 410 while
// N succeed, that a download under way when the limit is reached still completes, that a
// download made of parallel ranges (by hand and by `satload get`) counts once, expiry, revoke and
// unrevoke, and that another account can neither see nor change the controls (404).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, runCli, tempDir, lastLine, parseLink } from '../lib/server.mjs';

const PASSWORD = 'link controls password 7';
const PROBLEM = 'https://satload.dev/problems/';

const server = await new Server().start();
after(() => server.stop());
const work = tempDir('satload-links-');

async function register(user) {
  const home = tempDir('satload-home-');
  const r = await runCli(['account', 'register', user, '--server', server.url], { env: { SATLOAD_HOME: home, SATLOAD_PASSWORD: PASSWORD } });
  assert.equal(r.code, 0, r.stderr);
  return home;
}

const token = (home) => JSON.parse(readFileSync(path.join(home, 'session.json'), 'utf8')).token;

// `satload put` with extra flags as the user of `home`; returns the link's parts.
async function put(home, content, flags = []) {
  const file = path.join(work, `f-${randomBytes(4).toString('hex')}.bin`);
  writeFileSync(file, content);
  const r = await runCli(['put', file, ...flags], { env: { SATLOAD_HOME: home } });
  assert.equal(r.code, 0, r.stderr);
  const link = lastLine(r.stdout);
  return { link, ...parseLink(link) };
}

// `satload set ID ... --json` as the user of `home`.
async function setState(home, id, flags = []) {
  // An id may start with '-': after `--` it is never taken for an option.
  const r = await runCli(['set', ...flags, '--json', '--', id], { env: { SATLOAD_HOME: home } });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function download(id, headers = {}) {
  const res = await fetch(`${server.url}/d/${id}`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body: Buffer.from(await res.arrayBuffer()) };
}

function problemType(r) {
  assert.equal(r.type, 'application/problem+json');
  return JSON.parse(r.body.toString()).type;
}

// A download that reads its first piece and then stops reading (the server blocks on a full
// socket) until resume() is called.
function slowDownload(url) {
  let res;
  const chunks = [];
  const started = new Promise((resolve, reject) => {
    const req = http.get(url, (r) => {
      res = r;
      r.once('data', (c) => { chunks.push(c); r.pause(); resolve(r.statusCode); });
    });
    req.on('error', reject);
  });
  const done = started.then(() => new Promise((resolve, reject) => {
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    res.on('error', reject);
  }));
  return { started, done, resume: () => res.resume() };
}

test('max downloads: N succeed, the next is 410; a download under way at the limit completes', async () => {
  const home = await register('lim');
  // Far larger than the socket buffers, so the slow download really is held mid-body.
  const f = await put(home, randomBytes(32 * 1024 * 1024), ['--max-downloads', '3']);
  const slow = slowDownload(`${server.url}/d/${f.id}`);
  assert.equal(await slow.started, 200);

  const full = [];
  for (let i = 0; i < 3; i++) {
    const r = await download(f.id);
    assert.equal(r.status, 200, `download ${i + 1}`);
    assert.equal(r.cache, 'private, no-cache');
    full.push(r.body);
  }
  // The limit is reached while the slow download is still under way (not counted yet).
  const state = await setState(home, f.id);
  assert.equal(state.downloads, 3);
  assert.equal(state.max_downloads, 3);
  assert.equal(state.link, 'download limit reached');
  const refused = await download(f.id);
  assert.equal(refused.status, 410);
  assert.equal(problemType(refused), `${PROBLEM}download-limit-reached`);
  assert.match(JSON.parse(refused.body.toString()).detail, /limit of 3 downloads/);
  assert.equal((await fetch(`${server.url}/d/${f.id}`, { method: 'HEAD' })).status, 410);
  const get = await runCli(['get', f.link, '-o', path.join(tempDir('satload-get-'), 'x')], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
  assert.equal(get.code, 1);
  assert.match(get.stderr, /download limit/);

  slow.resume();
  const finished = await slow.done;
  assert.equal(finished.status, 200);
  assert.ok(finished.body.equals(full[0]), 'the download under way got the whole file');
  assert.equal((await setState(home, f.id)).downloads, 4);

  // The owner lifts the limit: the link works again.
  const lifted = await setState(home, f.id, ['--max-downloads', 'none']);
  assert.equal(lifted.max_downloads, null);
  assert.equal((await download(f.id)).status, 200);
});

test('a download in parallel ranges counts once, by hand and through satload get', async () => {
  const home = await register('ranges');
  const content = randomBytes(3 * 1024 * 1024 + 5);
  const f = await put(home, content);
  const size = Number((await fetch(`${server.url}/d/${f.id}`, { method: 'HEAD' })).headers.get('content-length'));
  assert.equal((await setState(home, f.id)).downloads, 0, 'HEAD does not count');
  const mid = Math.floor(size / 2);
  const [a, b] = await Promise.all([
    download(f.id, { Range: `bytes=0-${mid - 1}` }),
    download(f.id, { Range: `bytes=${mid}-${size - 1}` }),
  ]);
  assert.equal(a.status, 206);
  assert.equal(b.status, 206);
  assert.equal(a.body.length + b.body.length, size);
  assert.equal((await setState(home, f.id)).downloads, 1);

  const out = path.join(tempDir('satload-get-'), 'copy');
  const got = await runCli(['get', f.link, '-o', out, '--parallel', '4'], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
  assert.equal(got.code, 0, got.stderr);
  assert.ok(readFileSync(out).equals(content));
  assert.equal((await setState(home, f.id)).downloads, 2, 'satload get counted once');
});

test('expiry: a link past its expiry is 410; the owner can extend or remove it', async () => {
  const home = await register('expiry');
  const f = await put(home, randomBytes(10000), ['--expire', '1s']);
  const state = await setState(home, f.id);
  assert.ok(Number.isInteger(state.expires), JSON.stringify(state));
  await new Promise((r) => setTimeout(r, 1500));
  const r = await download(f.id);
  assert.equal(r.status, 410);
  assert.equal(problemType(r), `${PROBLEM}link-expired`);
  assert.match(JSON.parse(r.body.toString()).detail, /expired on/);
  const api = await fetch(`${server.url}/api/v1/files/${f.id}`);
  assert.equal(api.status, 410, 'the file API is closed with the link');
  const owner = await fetch(`${server.url}/api/v1/files/${f.id}`, { headers: { Authorization: `Bearer ${token(home)}` } });
  assert.equal(owner.status, 200, 'its owner still sees the state');
  assert.equal((await owner.json()).expires, state.expires);

  const extended = await setState(home, f.id, ['--expire', '1h']);
  assert.ok(extended.expires > Date.now() / 1000 + 3500, JSON.stringify(extended));
  assert.equal((await download(f.id)).status, 200);
  const never = await setState(home, f.id, ['--expire', 'never']);
  assert.equal(never.expires, null);
  assert.equal(never.link, 'active');
});

test('revoke is 410, unrevoke serves again; price and controls are stored and shown', async () => {
  const home = await register('revoker');
  const f = await put(home, randomBytes(5000), ['--price', '2.5sat', '--max-downloads', '10', '--expire', '7d']);
  const info = await (await fetch(`${server.url}/api/v1/files/${f.id}`)).json();
  assert.equal(info.price_msat, 2500);
  assert.equal(info.max_downloads, 10);
  assert.equal(info.downloads, 0);
  assert.equal(info.revoked, false);
  assert.ok(info.expires >= info.created + 7 * 86400, JSON.stringify(info));

  const revoked = await setState(home, f.id, ['--revoke']);
  assert.equal(revoked.revoked, true);
  const r = await download(f.id);
  assert.equal(r.status, 410);
  assert.equal(problemType(r), `${PROBLEM}link-revoked`);
  const back = await setState(home, f.id, ['--unrevoke', '--price', '0msat']);
  assert.equal(back.revoked, false);
  assert.equal(back.price_msat, 0);
  assert.equal((await download(f.id)).status, 200);

  // Text output, and the one-line errors of bad values (usage errors exit 2).
  const text = await runCli(['set', f.link], { env: { SATLOAD_HOME: home } });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^downloads\t1 of 10$/m);
  assert.match(text.stdout, /^price\tfree$/m);
  for (const flags of [['--price', '5'], ['--expire', 'soon'], ['--max-downloads', '0'], ['--revoke', '--unrevoke']]) {
    const bad = await runCli(['set', f.link, ...flags], { env: { SATLOAD_HOME: home } });
    assert.equal(bad.code, 2, flags.join(' '));
    assert.equal(bad.stderr.trim().split('\n').length <= 2, true, bad.stderr);
  }
  // A price needs an account; put refuses it before uploading anything.
  writeFileSync(path.join(work, 'priced.bin'), 'for sale');
  const anonymous = await runCli(['put', path.join(work, 'priced.bin'), '--server', server.url, '--price', '1sat'], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
  assert.equal(anonymous.code, 1);
  assert.match(anonymous.stderr, /--price needs an account/);
});

test('PATCH /api/v1/files/<id>: only the owner; bad bodies are 400/413 problem+json', async () => {
  const homeA = await register('owner-a');
  const homeB = await register('other-b');
  const f = await put(homeA, randomBytes(4000), ['--max-downloads', '5']);
  const before = await (await fetch(`${server.url}/api/v1/files/${f.id}`)).json();
  const patch = (home, body, extra = {}) => fetch(`${server.url}/api/v1/files/${f.id}`, {
    method: 'PATCH', body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...(home ? { Authorization: `Bearer ${token(home)}` } : {}), ...extra },
  });

  for (const body of [{ revoked: true }, { price_msat: 1000000 }, { max_downloads: null }, { expires_in_s: 1 }]) {
    const res = await patch(homeB, body);
    assert.equal(res.status, 404, JSON.stringify(body));
    const missing = await fetch(`${server.url}/api/v1/files/${'A'.repeat(22)}`, { method: 'PATCH', body: JSON.stringify(body), headers: { Authorization: `Bearer ${token(homeB)}` } });
    assert.equal(missing.status, 404);
    assert.equal(await res.text(), await missing.text(), 'another account’s file looks missing');
  }
  const setB = await runCli(['set', '--revoke', '--', f.id], { env: { SATLOAD_HOME: homeB } });
  assert.equal(setB.code, 1);
  assert.equal((await patch(null, { revoked: true })).status, 401);
  assert.deepEqual(await (await fetch(`${server.url}/api/v1/files/${f.id}`)).json(), before, 'A’s file is unchanged');
  assert.equal((await download(f.id)).status, 200);

  for (const body of ['{not json', '[1,2]', JSON.stringify({ price_msat: -1 }), JSON.stringify({ price_msat: 1.5 }),
    JSON.stringify({ max_downloads: 0 }), JSON.stringify({ expires: 5 }), JSON.stringify({ expires_in_s: 10, expires: null }),
    JSON.stringify({ revoked: 'yes' }), JSON.stringify({ colour: 'red' })]) {
    const res = await patch(homeA, body);
    assert.equal(res.status, 400, body);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.ok((await res.json()).detail, body);
  }
  // Past 4 KiB and the largest encrypted metadata a rename may carry (16 KiB).
  const huge = await patch(homeA, JSON.stringify({ revoked: false, pad: 'x'.repeat(32768) }));
  assert.equal(huge.status, 413);
  const ok = await patch(homeA, { max_downloads: 7, price_msat: 42 });
  assert.equal(ok.status, 200);
  const state = await ok.json();
  assert.equal(state.max_downloads, 7);
  assert.equal(state.price_msat, 42);
  assert.equal(state.downloads, 1);
});

// A file so small that the client's first range request (the RFC 8188 header) would reach its
// last byte: `satload get` still counts once, so a one-download link works once.
test('satload get of a tiny file counts once', async () => {
  const home = await register('tiny');
  const content = Buffer.from('tiny\n');
  const f = await put(home, content, ['--max-downloads', '1']);
  const out = path.join(tempDir('satload-get-'), 'tiny');
  const got = await runCli(['get', f.link, '-o', out], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
  assert.equal(got.code, 0, got.stderr);
  assert.ok(readFileSync(out).equals(content));
  assert.equal((await setState(home, f.id)).downloads, 1);
  const again = await runCli(['get', f.link, '-o', `${out}.2`], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /limit|410|gone/i);
});
