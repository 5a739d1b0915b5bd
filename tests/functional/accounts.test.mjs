// Accounts against the real binary: `satload account register|login`, `ls`, `rm` and
// `account`, and the HTTP account API behind them. Owned uploads are made here with a small tus
// client (the file secret wrapped by the master key from session.json, metadata and content
// encrypted per RFC 8188), because `satload put` does not send the session yet; the links they
// give are then fetched with `satload get`, so the test also checks that the client and the
// browser-repeatable formats agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, runCli, tempDir, lastLine, storedBlobCount } from '../lib/server.mjs';
import { deriveKeys, forms, scanForNeedles, b64urlDecode } from '../lib/secrets.mjs';
import { ece, wrap } from '../lib/owned.mjs';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const PASSWORD = 'correct horse battery staple 4';

function session(home) {
  return JSON.parse(readFileSync(path.join(home, 'session.json'), 'utf8'));
}

// Uploads `content` named `name` with the session of `home`: returns {id, link, secret}.
async function ownedUpload(url, home, name, content, { length } = {}) {
  const s = session(home);
  const secretText = b64url(randomBytes(16));
  const keys = deriveKeys(secretText);
  const meta = ece(keys.metadata, Buffer.from(JSON.stringify({ name, size: content.length, type: 'text/plain' })), 8192);
  const body = ece(keys.content, content, 65536);
  const ownerSecret = wrap(b64urlDecode(s.master_key), 'satload/v1 file-secret', keys.secret);
  const tusValue = (text) => Buffer.from(text).toString('base64');
  const res = await fetch(`${url}/files`, {
    method: 'POST',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(length ?? body.length),
      'Upload-Metadata': `meta ${tusValue(b64url(meta))},owner_secret ${tusValue(b64url(ownerSecret))}`,
      'Content-Type': 'application/offset+octet-stream',
      Authorization: `Bearer ${s.token}`,
    },
    body: length === undefined ? body : undefined,
  });
  const text = await res.text();
  return { res, text, id: res.headers.get('satload-file-id'), link: `${url}/f/${res.headers.get('satload-file-id')}#${secretText}`, secret: keys.secret };
}

async function register(url, user, home) {
  const r = await runCli(['account', 'register', user, '--server', url], { env: { SATLOAD_HOME: home, SATLOAD_PASSWORD: PASSWORD } });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

// Register on one home, log in on a fresh one: `ls` there shows the names and working links of
// the files uploaded with the first; `rm` makes the link 404 at once and frees the quota; the
// data directory and the log hold no password, master key, file secret or session token.
test('register, login elsewhere, ls shows names and working links, rm kills the link', async () => {
  const server = await new Server().start();
  try {
    const home1 = tempDir('satload-home-');
    const reg = await register(server.url, 'alice', home1);
    const recovery = reg.stdout.match(/^([0-9A-Z]{8}(?:-[0-9A-Z]{8}){6})$/m);
    assert.ok(recovery, `recovery key on stdout:\n${reg.stdout}`);
    assert.equal(statSync(path.join(home1, 'session.json')).mode & 0o777, 0o600);

    const names = ['report one.txt', 'zeta.bin'];
    const contents = [Buffer.from('first file, owned\n'), randomBytes(3000)];
    const uploads = [];
    for (let i = 0; i < names.length; i++) {
      const u = await ownedUpload(server.url, home1, names[i], contents[i]);
      assert.equal(u.res.status, 201, u.text);
      uploads.push(u);
    }

    const home2 = tempDir('satload-home-');
    const login = await runCli(['account', 'login', 'alice', '--server', server.url], { env: { SATLOAD_HOME: home2, SATLOAD_PASSWORD: PASSWORD } });
    assert.equal(login.code, 0, login.stderr);
    const ls = await runCli(['ls', '--json'], { env: { SATLOAD_HOME: home2 } });
    assert.equal(ls.code, 0, ls.stderr);
    const listed = JSON.parse(ls.stdout);
    assert.deepEqual(listed.map((f) => f.name).sort(), [...names].sort());
    for (const f of listed) {
      const i = names.indexOf(f.name);
      assert.equal(f.id, uploads[i].id);
      assert.equal(f.size_bytes, contents[i].length);
      assert.equal(f.link, uploads[i].link);
      const out = path.join(tempDir('satload-get-'), 'out');
      const got = await runCli(['get', f.link, '-o', out], { env: { SATLOAD_HOME: home2 } });
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(readFileSync(out), contents[i]);
    }
    const plain = await runCli(['ls'], { env: { SATLOAD_HOME: home2 } });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /\treport one\.txt\t/);

    const usage = JSON.parse((await runCli(['account', '--json'], { env: { SATLOAD_HOME: home2 } })).stdout);
    assert.equal(usage.username, 'alice');
    assert.ok(usage.used_bytes > 3000, JSON.stringify(usage));

    const rm = await runCli(['rm', '--', uploads[0].id], { env: { SATLOAD_HOME: home2 } });
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await fetch(`${server.url}/d/${uploads[0].id}`)).status, 404);
    assert.equal((await fetch(`${server.url}/api/v1/files/${uploads[0].id}`)).status, 404);
    const got = await runCli(['get', uploads[0].link, '-o', path.join(tempDir('satload-get-'), 'x')], { env: { SATLOAD_HOME: home2 } });
    assert.notEqual(got.code, 0);
    const after = JSON.parse((await runCli(['ls', '--json'], { env: { SATLOAD_HOME: home1 } })).stdout);
    assert.deepEqual(after.map((f) => f.name), [names[1]]);
    const usage2 = JSON.parse((await runCli(['account', '--json'], { env: { SATLOAD_HOME: home1 } })).stdout);
    assert.ok(usage2.used_bytes < usage.used_bytes, 'deleting frees quota');

    // Secrets: what the client holds must not be on the server in any encoding.
    const needles = [];
    const add = (name, bytes) => forms(Buffer.from(bytes)).forEach((b, k) => needles.push({ name: `${name}#${k}`, bytes: b }));
    add('password', Buffer.from(PASSWORD));
    for (const home of [home1, home2]) {
      const s = session(home);
      add('master key', b64urlDecode(s.master_key));
      add('session token', Buffer.from(s.token));
    }
    uploads.forEach((u, i) => add(`file secret ${i}`, u.secret));
    await server.stop();
    const { writeFileSync } = await import('node:fs');
    const logFile = path.join(tempDir('satload-log-'), 'server.log');
    writeFileSync(logFile, server.log);
    assert.deepEqual(scanForNeedles([...server.storedPaths(), logFile], needles), []);
    // The needles are right: the client's own session file does hold the master key and token.
    assert.ok(scanForNeedles([home2], needles).some((hit) => hit.includes('master key')));
  } finally {
    await server.stop();
  }
});

// The auth key the server receives is stored only hashed: registered here over HTTP with a
// known auth key and recovery auth key, then searched for in every form.
test('the server keeps no auth key in any encoding', async () => {
  const server = await new Server().start();
  const authKey = randomBytes(32);
  const recoveryAuth = randomBytes(32);
  try {
    const reg = await fetch(`${server.url}/api/v1/account/register`, {
      method: 'POST',
      body: JSON.stringify({
        username: 'carol', salt: b64url(randomBytes(16)), auth_key: b64url(authKey),
        master_by_password: b64url(randomBytes(60)), recovery_auth_key: b64url(recoveryAuth),
        master_by_recovery: b64url(randomBytes(60)),
      }),
    });
    assert.equal(reg.status, 201, await reg.text());
    const login = await fetch(`${server.url}/api/v1/account/login`, { method: 'POST', body: JSON.stringify({ username: 'carol', auth_key: b64url(authKey) }) });
    assert.equal(login.status, 200);
    const { token } = await login.json();
    const me = await fetch(`${server.url}/api/v1/account`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200);
    await server.stop();
    const needles = [];
    forms(authKey).forEach((b, k) => needles.push({ name: `auth key#${k}`, bytes: b }));
    forms(recoveryAuth).forEach((b, k) => needles.push({ name: `recovery auth key#${k}`, bytes: b }));
    forms(Buffer.from(token)).forEach((b, k) => needles.push({ name: `token#${k}`, bytes: b }));
    const { writeFileSync } = await import('node:fs');
    const logFile = path.join(tempDir('satload-log-'), 'server.log');
    writeFileSync(logFile, server.log);
    assert.deepEqual(scanForNeedles([...server.storedPaths(), logFile], needles), []);
    // The hash is what is kept (raw in SQLite, hex in a PostgreSQL dump): proves the scan
    // looks at the right database.
    const hash = createHash('sha256').update(authKey).digest();
    assert.notDeepEqual(scanForNeedles(server.storedPaths(), forms(hash).map((b) => ({ name: 'hash', bytes: b }))), []);
  } finally {
    await server.stop();
  }
});

// A wrong password and an unknown user answer alike (status and body), the salt lookup gives an
// unknown user a stable salt of the same shape, and repeated failures are throttled (429 with
// Retry-After).
test('wrong password and unknown user look the same; failures are throttled', async () => {
  const server = await new Server().start();
  try {
    await register(server.url, 'dave', tempDir('satload-home-'));
    const wrong = await runCli(['account', 'login', 'dave', '--server', server.url], { env: { SATLOAD_HOME: tempDir('satload-home-'), SATLOAD_PASSWORD: 'not it' } });
    const unknown = await runCli(['account', 'login', 'nobody', '--server', server.url], { env: { SATLOAD_HOME: tempDir('satload-home-'), SATLOAD_PASSWORD: 'not it' } });
    assert.equal(wrong.code, 1);
    assert.equal(unknown.code, 1);
    assert.equal(wrong.stderr, unknown.stderr);

    const attempt = async (username) => {
      const r = await fetch(`${server.url}/api/v1/account/login`, { method: 'POST', body: JSON.stringify({ username, auth_key: b64url(randomBytes(32)) }) });
      return { status: r.status, body: await r.text(), retry: r.headers.get('retry-after') };
    };
    const a = await attempt('dave');
    const b = await attempt('nobody2');
    assert.equal(a.status, 401);
    assert.deepEqual(a, b);
    const salt = async (username) => (await (await fetch(`${server.url}/api/v1/account/salt`, { method: 'POST', body: JSON.stringify({ username }) })).json()).salt;
    const fake1 = await salt('nobody3');
    assert.equal(fake1, await salt('nobody3'), 'deterministic fake salt');
    assert.equal(b64urlDecode(fake1).length, b64urlDecode(await salt('dave')).length);
    assert.notEqual(fake1, await salt('nobody4'));

    let last;
    for (let i = 0; i < 10 && (!last || last.status !== 429); i++) last = await attempt('dave');
    assert.equal(last.status, 429, last.body);
    assert.match(last.retry, /^\d+$/);
    assert.equal(JSON.parse(last.body).type, 'https://satload.dev/problems/too-many-requests');
    // Throttling hides nothing either: an unknown name is throttled alike.
    let lastUnknown;
    for (let i = 0; i < 10 && (!lastUnknown || lastUnknown.status !== 429); i++) lastUnknown = await attempt('nobody5');
    assert.equal(lastUnknown.status, 429);
  } finally {
    await server.stop();
  }
});

// User B sees none of A's files and cannot delete them with a stolen id; a missing, forged or
// logged-out token is refused with 401; `account logout` revokes and forgets the session.
test('authorization: B cannot list or delete A’s files; bad and logged-out tokens get 401; logout', async () => {
  const server = await new Server().start();
  try {
    const homeA = tempDir('satload-home-');
    const homeB = tempDir('satload-home-');
    await register(server.url, 'anna', homeA);
    await register(server.url, 'bert', homeB);
    const u = await ownedUpload(server.url, homeA, 'secret plans.txt', Buffer.from('only anna'));
    assert.equal(u.res.status, 201, u.text);

    const lsB = await runCli(['ls', '--json'], { env: { SATLOAD_HOME: homeB } });
    assert.equal(lsB.code, 0, lsB.stderr);
    assert.deepEqual(JSON.parse(lsB.stdout), []);
    const rmB = await runCli(['rm', '--', u.id], { env: { SATLOAD_HOME: homeB } });
    assert.equal(rmB.code, 1);
    const tokenB = session(homeB).token;
    const del = await fetch(`${server.url}/api/v1/files/${u.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${tokenB}` } });
    assert.equal(del.status, 404);
    const delNone = await fetch(`${server.url}/api/v1/files/${'A'.repeat(22)}`, { method: 'DELETE', headers: { Authorization: `Bearer ${tokenB}` } });
    assert.equal(delNone.status, 404);
    assert.equal(await del.text(), await delNone.text(), 'another\'s file and no file look alike');
    assert.equal((await fetch(`${server.url}/d/${u.id}`)).status, 200, 'A\'s file is still there');

    assert.equal((await fetch(`${server.url}/api/v1/files`)).status, 401);
    assert.equal((await fetch(`${server.url}/api/v1/files/${u.id}`, { method: 'DELETE' })).status, 401);
    assert.equal((await fetch(`${server.url}/api/v1/files`, { headers: { Authorization: 'Bearer sls_forged' } })).status, 401);
    const logout = await fetch(`${server.url}/api/v1/account/logout`, { method: 'POST', headers: { Authorization: `Bearer ${tokenB}` } });
    assert.equal(logout.status, 204);
    assert.equal((await fetch(`${server.url}/api/v1/files`, { headers: { Authorization: `Bearer ${tokenB}` } })).status, 401);
    const lsA = JSON.parse((await runCli(['ls', '--json'], { env: { SATLOAD_HOME: homeA } })).stdout);
    assert.deepEqual(lsA.map((f) => f.name), ['secret plans.txt']);
    // `satload account logout` revokes the token on the server and forgets it locally.
    const tokenA = session(homeA).token;
    const out = await runCli(['account', 'logout'], { env: { SATLOAD_HOME: homeA } });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(existsSync(path.join(homeA, 'session.json')), false);
    assert.equal((await fetch(`${server.url}/api/v1/files`, { headers: { Authorization: `Bearer ${tokenA}` } })).status, 401);
    const lsGone = await runCli(['ls'], { env: { SATLOAD_HOME: homeA } });
    assert.equal(lsGone.code, 1);
    assert.match(lsGone.stderr, /not logged in/);
  } finally {
    await server.stop();
  }
});

// The quota (serve --quota) is enforced at creation from Upload-Length: a refused upload
// answers 413 quota-exceeded and stores nothing; one that fits is accepted.
test('quota: an upload past the quota is refused at creation and nothing is stored', async () => {
  const server = await new Server({ args: ['--quota', '64KiB'] }).start();
  try {
    const home = tempDir('satload-home-');
    await register(server.url, 'erin', home);
    const before = storedBlobCount(server.dataDir);
    const big = await ownedUpload(server.url, home, 'big.bin', Buffer.alloc(0), { length: 64 * 1024 + 1 });
    assert.equal(big.res.status, 413, big.text);
    assert.equal(JSON.parse(big.text).type, 'https://satload.dev/problems/quota-exceeded');
    assert.equal(storedBlobCount(server.dataDir), before, 'nothing stored');
    const usage = JSON.parse((await runCli(['account', '--json'], { env: { SATLOAD_HOME: home } })).stdout);
    assert.equal(usage.quota_bytes, 64 * 1024);
    assert.equal(usage.used_bytes, 0);
    const small = await ownedUpload(server.url, home, 'small.txt', Buffer.from('fits'));
    assert.equal(small.res.status, 201, small.text);
    const text = (await runCli(['account'], { env: { SATLOAD_HOME: home } })).stdout;
    assert.match(text, /of 64\.0 KiB/);
    // An anonymous upload is not an account's: no quota applies to it here.
    const anon = await fetch(`${server.url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(128 * 1024) } });
    assert.equal(anon.status, 201);
    // Creations racing for the rest of the quota never take the account past it.
    const race = await Promise.all(Array.from({ length: 8 }, () => ownedUpload(server.url, home, 'race.bin', Buffer.alloc(0), { length: 16 * 1024 })));
    for (const r of race) assert.ok([201, 413].includes(r.res.status), r.text);
    assert.ok(race.some((r) => r.res.status === 413));
    const final = JSON.parse((await runCli(['account', '--json'], { env: { SATLOAD_HOME: home } })).stdout);
    assert.ok(final.used_bytes <= 64 * 1024, JSON.stringify(final));
    assert.ok(final.used_bytes > 16 * 1024, 'some of the racing uploads were accepted');
  } finally {
    await server.stop();
  }
});

// `satload put` while logged in records the upload as the user's own, for a single upload and
// for a parallel (concatenated) one: `ls` on a fresh home after login lists both with the
// links put printed, and they download.
test('put while logged in: ls elsewhere lists the files with put’s own links', async () => {
  const server = await new Server().start();
  try {
    const home1 = tempDir('satload-home-');
    await register(server.url, 'putter', home1);
    const dir = tempDir('satload-owned-');
    const files = [['small note.txt', Buffer.from('owned through put\n')], ['big.bin', randomBytes(40 * 1024 * 1024)]];
    const links = {};
    for (const [name, content] of files) {
      writeFileSync(path.join(dir, name), content);
      // No --server: put uses the logged-in server.
      const put = await runCli(['put', path.join(dir, name)], { env: { SATLOAD_HOME: home1 } });
      assert.equal(put.code, 0, put.stderr);
      links[name] = put.stdout.trim();
    }
    const home2 = tempDir('satload-home-');
    const login = await runCli(['account', 'login', 'putter', '--server', server.url], { env: { SATLOAD_HOME: home2, SATLOAD_PASSWORD: PASSWORD } });
    assert.equal(login.code, 0, login.stderr);
    const ls = await runCli(['ls', '--json'], { env: { SATLOAD_HOME: home2 } });
    assert.equal(ls.code, 0, ls.stderr);
    const listed = JSON.parse(ls.stdout);
    assert.deepEqual(listed.map((f) => f.name).sort(), files.map(([n]) => n).sort());
    for (const f of listed) {
      assert.equal(f.link, links[f.name]);
      const out = path.join(tempDir('satload-get-'), 'out');
      const got = await runCli(['get', f.link, '-o', out], { env: { SATLOAD_HOME: home2 } });
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(readFileSync(out), files.find(([n]) => n === f.name)[1]);
    }
  } finally {
    await server.stop();
  }
});

// Failed logins are throttled per client address as well as per user: one address trying many
// different user names is slowed down (429), while another address is not affected.
test('login failures are throttled per address across user names', async () => {
  const http = await import('node:http');
  const server = await new Server().start();
  try {
    const { port } = new URL(server.url);
    const attempt = (localAddress, username) => new Promise((resolve, reject) => {
      const body = JSON.stringify({ username, auth_key: randomBytes(32).toString('base64url') });
      const req = http.request({ host: '127.0.0.1', port, localAddress, method: 'POST', path: '/api/v1/account/login',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(body);
    });
    const statuses = [];
    for (let i = 0; i < 30; i++) statuses.push(await attempt('127.0.0.2', `nobody${i}`));
    assert.equal(statuses[0], 401);
    assert.ok(statuses.includes(429), `one address, many names: ${statuses.join(',')}`);
    // Each name failed once only, so only the address counter can have done this.
    assert.equal(await attempt('127.0.0.3', 'somebody-else'), 401, 'another address is not throttled');
  } finally {
    await server.stop();
  }
});
