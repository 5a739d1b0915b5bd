// API tokens and the account endpoints' request bodies against the real binary: `satload account
// token create|ls|rm`, scripts authenticating with SATLOAD_TOKEN (and SATLOAD_SERVER), and the
// body limit (16 KiB), malformed JSON and wrong methods on every account endpoint that reads a
// body, answered as problem+json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, runCli, tempDir, lastLine } from '../lib/server.mjs';

const PASSWORD = 'token horse battery staple 5';
const BODY_BYTES_MAX = 16 * 1024; // kAccountBodyBytesMax in src/server/account_api.cpp
const PROBLEM = 'application/problem+json';
const b64url = (buf) => Buffer.from(buf).toString('base64url');

function session(home) {
  return JSON.parse(readFileSync(path.join(home, 'session.json'), 'utf8'));
}

async function register(url, user) {
  const home = tempDir('satload-home-');
  const r = await runCli(['account', 'register', user, '--server', url], { env: { SATLOAD_HOME: home, SATLOAD_PASSWORD: PASSWORD } });
  assert.equal(r.code, 0, r.stderr);
  return home;
}

async function put(home, name, content) {
  const file = path.join(tempDir('satload-src-'), name);
  writeFileSync(file, content);
  const r = await runCli(['put', file], { env: { SATLOAD_HOME: home } });
  assert.equal(r.code, 0, r.stderr);
  const link = lastLine(r.stdout);
  return { name, link, id: new URL(link).pathname.split('/').pop() };
}

async function status(url, route, token, method = 'GET') {
  const res = await fetch(`${url}${route}`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  await res.arrayBuffer();
  return res.status;
}

// One request with full control over framing: `chunked` sends the body without Content-Length.
function raw(url, method, route, body, { token, chunked = false } = {}) {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (!chunked && body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
    const req = http.request({ host: '127.0.0.1', port, method, path: route, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: text }));
    });
    req.on('error', reject);
    if (body === undefined) return req.end();
    if (!chunked) return req.end(body);
    // Several chunks, so the server sees the size only as it reads.
    const step = 4096;
    for (let i = 0; i < body.length; i += step) req.write(body.slice(i, i + step));
    req.end();
  });
}

// Tokens are shown once at creation (last line), listed by id, name and date but never shown
// again, revoked by id (401 afterwards, a second revocation is 404), and only by their owner.
// With SATLOAD_TOKEN a script lists ids and sizes (no names or links: the token holds no key,
// and stderr says so) and deletes files; it cannot create tokens or log out.
test('API tokens: create, list, revoke; SATLOAD_TOKEN works for ls and rm', async () => {
  const server = await new Server().start();
  try {
    const home = await register(server.url, 'erin');
    const files = [await put(home, 'one.txt', Buffer.from('first')), await put(home, 'two.bin', randomBytes(5000))];

    const created = [];
    for (const name of ['backup job', 'deploy']) {
      const r = await runCli(['account', 'token', 'create', name], { env: { SATLOAD_HOME: home } });
      assert.equal(r.code, 0, r.stderr);
      const token = lastLine(r.stdout);
      assert.match(token, /^sla_[A-Za-z0-9_-]{43}$/);
      const id = Number(r.stdout.match(/API token (\d+)/)[1]);
      created.push({ name, token, id });
    }
    assert.notEqual(created[0].token, created[1].token);
    const ls = await runCli(['account', 'token', 'ls', '--json'], { env: { SATLOAD_HOME: home } });
    assert.equal(ls.code, 0, ls.stderr);
    const listed = JSON.parse(ls.stdout);
    assert.deepEqual(listed.map((t) => [t.id, t.name]), created.map((t) => [t.id, t.name]));
    for (const t of listed) assert.match(t.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const plain = await runCli(['account', 'token', 'ls'], { env: { SATLOAD_HOME: home } });
    assert.match(plain.stdout, new RegExp(`^${created[0].id}\\t\\S+\\tbackup job$`, 'm'));
    const api = await (await fetch(`${server.url}/api/v1/account/tokens`, { headers: { Authorization: `Bearer ${session(home).token}` } })).text();
    for (const t of created) assert.ok(!api.includes(t.token.slice(4)), 'a token is shown once only');

    // A script: a fresh home, the token and the server from the environment.
    const script = { SATLOAD_HOME: tempDir('satload-home-'), SATLOAD_TOKEN: created[0].token, SATLOAD_SERVER: server.url };
    const scriptLs = await runCli(['ls', '--json'], { env: script });
    assert.equal(scriptLs.code, 0, scriptLs.stderr);
    const seen = JSON.parse(scriptLs.stdout);
    assert.deepEqual(seen.map((f) => f.id).sort(), files.map((f) => f.id).sort());
    for (const f of seen) {
      assert.equal(f.name, '');
      assert.equal(f.link, '');
      assert.ok(f.size_bytes > 0);
    }
    assert.match(scriptLs.stderr, /API token.*cannot decrypt file names or links/);
    const usage = await runCli(['account', '--json'], { env: script });
    assert.equal(usage.code, 0, usage.stderr);
    assert.equal(JSON.parse(usage.stdout).username, 'erin');
    const extra = await put(home, 'three.txt', Buffer.from('removed by a script'));
    const rm = await runCli(['rm', extra.id], { env: script });
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(await status(server.url, `/d/${extra.id}`), 404);
    // A script's put is the account's file (listed, deletable), but with no master key its secret
    // is wrapped for nobody: a login lists it by id without name or link (saying so on stderr),
    // and lists the other files as before; the link put printed still works.
    const scripted = path.join(tempDir('satload-src-'), 'from script.txt');
    writeFileSync(scripted, 'uploaded by a script');
    const scriptPut = await runCli(['put', scripted], { env: script });
    assert.equal(scriptPut.code, 0, scriptPut.stderr);
    const scriptId = new URL(lastLine(scriptPut.stdout)).pathname.split('/').pop();
    const ownerRun = await runCli(['ls', '--json'], { env: { SATLOAD_HOME: home } });
    assert.equal(ownerRun.code, 0, ownerRun.stderr);
    const ownerLs = JSON.parse(ownerRun.stdout);
    assert.deepEqual(ownerLs.filter((f) => f.id !== scriptId).map((f) => f.name).sort(), ['one.txt', 'two.bin']);
    assert.deepEqual(ownerLs.filter((f) => f.id === scriptId).map((f) => [f.name, f.link]), [['', '']]);
    assert.match(ownerRun.stderr, /1 file\(s\) have a key this account's master key does not open/);
    const fetched = path.join(tempDir('satload-get-'), 'out');
    assert.equal((await runCli(['get', lastLine(scriptPut.stdout), '-o', fetched], { env: script })).code, 0);
    assert.equal(readFileSync(fetched, 'utf8'), 'uploaded by a script');
    assert.equal((await runCli(['rm', scriptId], { env: script })).code, 0);

    // Without a server to talk to, a token alone is refused with a clear line.
    const nowhere = await runCli(['ls'], { env: { SATLOAD_HOME: tempDir('satload-home-'), SATLOAD_TOKEN: created[0].token, SATLOAD_SERVER: '' } });
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /SATLOAD_SERVER/);
    // A token cannot mint tokens (it would outlive its revocation) nor log out a session file.
    const mint = await runCli(['account', 'token', 'create', 'child'], { env: script });
    assert.equal(mint.code, 2);
    const mintApi = await raw(server.url, 'POST', '/api/v1/account/tokens', JSON.stringify({ name: 'child' }), { token: created[0].token });
    assert.equal(mintApi.status, 403);
    assert.equal(mintApi.type, PROBLEM);
    const logout = await runCli(['account', 'logout'], { env: { ...script, SATLOAD_HOME: home } });
    assert.equal(logout.code, 2);
    assert.equal(await status(server.url, '/api/v1/files', session(home).token), 200, 'the session file survives');

    // Another account cannot revoke erin's token: the same 404 as a token that does not exist.
    const other = await register(server.url, 'frank');
    const foreign = await raw(server.url, 'DELETE', `/api/v1/account/tokens/${created[1].id}`, undefined, { token: session(other).token });
    const absent = await raw(server.url, 'DELETE', '/api/v1/account/tokens/999999', undefined, { token: session(other).token });
    assert.equal(foreign.status, 404);
    assert.deepEqual(foreign, absent);
    assert.equal(await status(server.url, '/api/v1/files', created[1].token), 200);
    const frankList = await runCli(['account', 'token', 'ls', '--json'], { env: { SATLOAD_HOME: other } });
    assert.deepEqual(JSON.parse(frankList.stdout), []);

    const revoke = await runCli(['account', 'token', 'rm', String(created[0].id)], { env: { SATLOAD_HOME: home } });
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.equal(await status(server.url, '/api/v1/files', created[0].token), 401, 'a revoked token is refused');
    const revokedLs = await runCli(['ls'], { env: script });
    assert.equal(revokedLs.code, 1);
    assert.match(revokedLs.stderr, /401/);
    assert.equal(await status(server.url, '/api/v1/files', created[1].token), 200, 'the other token still works');
    const again = await runCli(['account', 'token', 'rm', String(created[0].id)], { env: { SATLOAD_HOME: home } });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no such API token/);
    const badId = await runCli(['account', 'token', 'rm', 'abc'], { env: { SATLOAD_HOME: home } });
    assert.equal(badId.code, 2);
    const left = JSON.parse((await runCli(['account', 'token', 'ls', '--json'], { env: { SATLOAD_HOME: home } })).stdout);
    assert.deepEqual(left.map((t) => t.name), ['deploy']);
    // Names are bounded printable text.
    const long = await runCli(['account', 'token', 'create', 'x'.repeat(65)], { env: { SATLOAD_HOME: home } });
    assert.equal(long.code, 1);
    assert.match(long.stderr, /1 to 64 printable/);
  } finally {
    await server.stop();
  }
});

// Every account endpoint that reads a body answers a malformed or non-object JSON body with 400
// and one over the limit with 413 (declared by Content-Length or found while reading a chunked
// body), all as problem+json; a body of exactly the limit is read. Wrong methods get 405.
test('account endpoints: malformed JSON 400, oversized 413, limit edge, wrong method 405', async () => {
  const server = await new Server().start();
  try {
    const home = await register(server.url, 'grace');
    const token = session(home).token;
    const endpoints = [
      ['/api/v1/account/register'], ['/api/v1/account/salt'], ['/api/v1/account/login'],
      ['/api/v1/account/recover/begin'], ['/api/v1/account/recover/complete'],
      ['/api/v1/account/password', token], ['/api/v1/account/tokens', token],
    ];
    const oversized = JSON.stringify({ username: 'grace', pad: 'x'.repeat(BODY_BYTES_MAX) });
    for (const [route, auth] of endpoints) {
      for (const body of ['{"username": ', 'not json', '[1, 2]', '"text"', '']) {
        const r = await raw(server.url, 'POST', route, body, { token: auth });
        assert.equal(r.status, 400, `${route} with ${JSON.stringify(body)}: ${r.body}`);
        assert.equal(r.type, PROBLEM);
        assert.equal(JSON.parse(r.body).type, 'https://satload.dev/problems/bad-request');
      }
      for (const chunked of [false, true]) {
        const r = await raw(server.url, 'POST', route, oversized, { token: auth, chunked });
        assert.equal(r.status, 413, `${route} oversized (chunked ${chunked}): ${r.body}`);
        assert.equal(r.type, PROBLEM);
        assert.equal(JSON.parse(r.body).type, 'https://satload.dev/problems/payload-too-large');
      }
      const get = await raw(server.url, 'PUT', route, undefined, { token: auth });
      assert.equal(get.status, 405, route);
    }
    // Exactly at the limit: read and answered (the salt lookup of a padded, valid object).
    const prefix = JSON.stringify({ username: 'grace' });
    const atLimit = prefix.slice(0, -1) + ' '.repeat(BODY_BYTES_MAX - prefix.length) + '}';
    assert.equal(atLimit.length, BODY_BYTES_MAX);
    const edge = await raw(server.url, 'POST', '/api/v1/account/salt', atLimit);
    assert.equal(edge.status, 200, edge.body);
    assert.equal(Buffer.from(JSON.parse(edge.body).salt, 'base64url').length, 16);
    const over = await raw(server.url, 'POST', '/api/v1/account/salt', `${atLimit} `);
    assert.equal(over.status, 413);
    // Well-formed JSON with missing or mistyped members is a 400 naming what to send.
    const missing = await raw(server.url, 'POST', '/api/v1/account/password', JSON.stringify({ current_auth_key: 5 }), { token });
    assert.equal(missing.status, 400);
    assert.match(JSON.parse(missing.body).detail, /current_auth_key/);
    const shortSalt = await raw(server.url, 'POST', '/api/v1/account/recover/complete', JSON.stringify({
      username: 'grace', recovery_auth_key: b64url(randomBytes(32)), salt: b64url(randomBytes(8)), auth_key: b64url(randomBytes(32)), master_by_password: b64url(randomBytes(60)),
    }));
    assert.equal(shortSalt.status, 400);
    // Nothing above got in the way of the account.
    assert.equal(await status(server.url, '/api/v1/files', token), 200);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  } finally {
    await server.stop();
  }
});
