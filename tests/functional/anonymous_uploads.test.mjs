// The anonymous-upload policy against the real binary: `serve --no-anonymous` refuses uploads
// without a session (401) but takes a logged-in one; the anonymous size limit is 413 with the
// limit stated and nothing stored; anonymous creations are rate limited per address (429 with
// Retry-After); anonymous files expire after the anonymous lifetime and housekeeping removes
// their record and blob.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, runCli, tempDir, lastLine, parseLink, storedBlobCount } from '../lib/server.mjs';

const PASSWORD = 'anonymous policy password 3';
const PROBLEM = 'https://satload.dev/problems/';
// files/rate_limiter.h: kAnonymousCreationsPerWindow, kAnonymousCreationWindowS.
const CREATIONS_PER_WINDOW = 120;
const WINDOW_S = 600;

async function register(url, user) {
  const home = tempDir('satload-home-');
  const r = await runCli(['account', 'register', user, '--server', url], { env: { SATLOAD_HOME: home, SATLOAD_PASSWORD: PASSWORD } });
  assert.equal(r.code, 0, r.stderr);
  return home;
}

function file(content) {
  const f = path.join(tempDir('satload-anon-'), 'upload.bin');
  writeFileSync(f, content);
  return f;
}

// POST /files from a chosen local address (127.0.0.x), optionally with a session.
function create(url, { localAddress = '127.0.0.1', length = 1, headers = {} } = {}) {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, localAddress, method: 'POST', path: '/files',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(length), 'Content-Length': 0, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('--no-anonymous refuses uploads without a session (401) and takes a logged-in one', async () => {
  const server = await new Server({ args: ['--no-anonymous'] }).start();
  try {
    const before = storedBlobCount(server.dataDir);
    for (const headers of [{}, { 'Upload-Concat': 'partial' }]) {
      const r = await create(server.url, { headers });
      assert.equal(r.status, 401, r.body);
      assert.equal(JSON.parse(r.body).type, `${PROBLEM}account-required`);
    }
    const src = file(randomBytes(5000));
    const anonymous = await runCli(['put', src, '--server', server.url], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
    assert.equal(anonymous.code, 1);
    assert.equal(anonymous.stderr.trim().split('\n').length, 1, anonymous.stderr);
    assert.match(anonymous.stderr, /accounts only/);
    assert.equal(storedBlobCount(server.dataDir), before, 'nothing stored');

    const home = await register(server.url, 'member');
    const put = await runCli(['put', src], { env: { SATLOAD_HOME: home } });
    assert.equal(put.code, 0, put.stderr);
    const out = path.join(tempDir('satload-get-'), 'copy');
    const get = await runCli(['get', lastLine(put.stdout), '-o', out], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
    assert.equal(get.code, 0, get.stderr);
  } finally {
    await server.stop();
  }
});

test('anonymous size limit: 413 with the limit stated, nothing stored; an account may upload more', async () => {
  const limit = 64 * 1024;
  const server = await new Server({ args: ['--anonymous-max-upload', '64KiB'] }).start();
  try {
    const before = storedBlobCount(server.dataDir);
    for (const headers of [{}, { 'Upload-Concat': 'partial' }]) {
      const r = await create(server.url, { length: limit + 1, headers });
      assert.equal(r.status, 413, r.body);
      const problem = JSON.parse(r.body);
      assert.equal(problem.type, `${PROBLEM}upload-too-large`);
      assert.match(problem.detail, new RegExp(`at most ${limit} bytes`));
    }
    assert.equal(storedBlobCount(server.dataDir), before, 'nothing stored');
    assert.equal((await create(server.url, { length: limit })).status, 201, 'at the limit is fine');

    const big = file(randomBytes(100 * 1024));
    const anonymous = await runCli(['put', big, '--server', server.url], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /at most 65536 bytes/);
    const home = await register(server.url, 'bigger');
    const owned = await runCli(['put', big], { env: { SATLOAD_HOME: home } });
    assert.equal(owned.code, 0, owned.stderr);
  } finally {
    await server.stop();
  }
});

test('anonymous creations are rate limited per address: 429 with Retry-After', async () => {
  const server = await new Server().start();
  try {
    for (let i = 0; i < CREATIONS_PER_WINDOW; i++) {
      const r = await create(server.url, { localAddress: '127.0.0.7' });
      assert.equal(r.status, 201, `creation ${i + 1}: ${r.body}`);
    }
    const before = storedBlobCount(server.dataDir);
    const limited = await create(server.url, { localAddress: '127.0.0.7' });
    assert.equal(limited.status, 429, limited.body);
    assert.equal(JSON.parse(limited.body).type, `${PROBLEM}too-many-requests`);
    const retry = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= WINDOW_S, limited.headers['retry-after']);
    assert.equal(storedBlobCount(server.dataDir), before, 'nothing stored');
    assert.equal((await create(server.url, { localAddress: '127.0.0.8' })).status, 201, 'another address is not limited');
    // A logged-in user from the limited address is not anonymous, so not limited.
    const home = await register(server.url, 'ratefree');
    const { token } = JSON.parse((await import('node:fs')).readFileSync(path.join(home, 'session.json'), 'utf8'));
    const owned = await create(server.url, { localAddress: '127.0.0.7', headers: { Authorization: `Bearer ${token}`, 'Upload-Concat': 'partial' } });
    assert.equal(owned.status, 201, owned.body);
  } finally {
    await server.stop();
  }
});

test('anonymous files expire after the anonymous lifetime; housekeeping removes record and blob', async () => {
  const server = await new Server({ args: ['--anonymous-expiry', '2s'] }).start();
  let restarted;
  try {
    const put = await runCli(['put', file(randomBytes(20000)), '--server', server.url], { env: { SATLOAD_HOME: tempDir('satload-home-') } });
    assert.equal(put.code, 0, put.stderr);
    const { id } = parseLink(lastLine(put.stdout));
    const info = await (await fetch(`${server.url}/api/v1/files/${id}`)).json();
    assert.equal(info.expires - info.created, 2, JSON.stringify(info));
    const stored = storedBlobCount(server.dataDir);
    await new Promise((r) => setTimeout(r, 2500));
    const gone = await fetch(`${server.url}/d/${id}`);
    assert.equal(gone.status, 410);
    assert.equal((await gone.json()).type, `${PROBLEM}link-expired`);

    // Housekeeping runs at start-up and then every minute: a restart shows it at once.
    await server.stop();
    restarted = await new Server({ dataDir: server.dataDir, args: ['--anonymous-expiry', '2s'] }).start();
    const removed = /removed 1 expired anonymous file/;
    for (let i = 0; i < 100 && !removed.test(restarted.log); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(restarted.log, removed);
    assert.equal((await fetch(`${restarted.url}/d/${id}`)).status, 404, 'the record is gone');
    assert.equal(storedBlobCount(server.dataDir), stored - 1, 'the blob is gone');
  } finally {
    await server.stop();
    if (restarted) await restarted.stop();
  }
});
