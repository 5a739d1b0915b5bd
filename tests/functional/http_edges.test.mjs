// The HTTP surface at its edges, against the real binary: requests a hostile or unlucky client
// sends (a HEAD followed by another request on one connection, a Transfer-Encoding that is not
// chunked, a chunked body on a final concatenation, a refused creation-with-upload, a refused
// deferred length, a part named twice, metadata that is not base64url) and an owner deleting
// an upload that is still under way. Each answer is checked on the wire, and so is what is kept.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Server } from '../lib/server.mjs';
import { apiUser, b64url, ece, wrap } from '../lib/owned.mjs';
import { deriveKeys } from '../lib/secrets.mjs';

const server = await new Server({ args: ['--quota', '1MiB'] }).start();
after(() => server.stop());
const tusValue = (text) => Buffer.from(text).toString('base64');
const TUS = { 'Tus-Resumable': '1.0.0' };
const OCTETS = { 'Content-Type': 'application/offset+octet-stream' };

// Sends `text` on a fresh connection and returns every byte the server sent until it closed
// the connection or `quietMs` passed without a byte.
function exchange(text, quietMs = 500) {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    let timer = setTimeout(() => socket.end(), quietMs);
    socket.on('data', (d) => {
      chunks.push(d);
      clearTimeout(timer);
      timer = setTimeout(() => socket.end(), quietMs);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

const statusLines = (wire) => wire.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];

// An owned upload created without a body: {location, fileId}.
async function createOwned(user, length, extraHeaders = {}, body = undefined) {
  const secretText = b64url(randomBytes(16));
  const keys = deriveKeys(secretText);
  const meta = ece(keys.metadata, Buffer.from(JSON.stringify({ name: 'x', size: length, type: 'text/plain' })), 8192);
  const ownerSecret = wrap(user.masterKey, 'satload/v1 file-secret', keys.secret);
  const res = await fetch(`${server.url}/files`, {
    method: 'POST',
    headers: {
      ...TUS,
      'Upload-Length': String(length),
      'Upload-Metadata': `meta ${tusValue(b64url(meta))},owner_secret ${tusValue(b64url(ownerSecret))}`,
      Authorization: `Bearer ${user.token}`,
      ...extraHeaders,
    },
    body,
  });
  return res;
}

async function usedBytes(user) {
  const res = await fetch(`${server.url}/api/v1/account`, { headers: { Authorization: `Bearer ${user.token}` } });
  assert.equal(res.status, 200);
  return (await res.json()).used_bytes;
}

async function ownedFiles(user) {
  const res = await fetch(`${server.url}/api/v1/files`, { headers: { Authorization: `Bearer ${user.token}` } });
  assert.equal(res.status, 200);
  return (await res.json()).files;
}

async function anonymousUpload(length, headers = {}) {
  const res = await fetch(`${server.url}/files`, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(length), ...headers },
  });
  assert.equal(res.status, 201, await res.text());
  return new URL(res.headers.get('location')).pathname;
}

async function patch(path, offset, body, headers = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'PATCH',
    headers: { ...TUS, ...OCTETS, 'Upload-Offset': String(offset), ...headers },
    body,
  });
}

test('an owner deleting an upload still under way ends it: the quota is freed and it can never complete', async () => {
  const user = await apiUser(server.url, 'edge-deleter');
  const res = await createOwned(user, 1000);
  assert.equal(res.status, 201, await res.text());
  const location = new URL(res.headers.get('location')).pathname;
  assert.equal(await usedBytes(user), 1000);
  const [listed] = await ownedFiles(user);
  assert.equal(listed.complete, false);

  const del = await fetch(`${server.url}/api/v1/files/${listed.id}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${user.token}` },
  });
  assert.equal(del.status, 204);
  assert.equal(await usedBytes(user), 0);
  assert.deepEqual(await ownedFiles(user), []);
  // The upload is gone with it: the bytes cannot make a file that no quota counts.
  const late = await patch(location, 0, randomBytes(1000));
  assert.equal(late.status, 404, await late.text());
  assert.equal((await fetch(`${server.url}/d/${listed.id}`)).status, 404);
});

test('a refused creation-with-upload keeps nothing: no upload, no quota used', async () => {
  const user = await apiUser(server.url, 'edge-checksum');
  // Several times: the refusal is answered only once nothing of it is left, so the first read
  // after it (on another connection) may never see the quota still taken.
  for (let i = 0; i < 40; i++) {
    const body = randomBytes(1000);
    const res = await createOwned(user, body.length, { ...OCTETS, 'Upload-Checksum': `sha256 ${Buffer.alloc(32).toString('base64')}` }, body);
    assert.equal(res.status, 460, await res.text());
    assert.equal(res.headers.get('location'), null);
    assert.equal(await usedBytes(user), 0, `after refusal ${i}`);
    assert.deepEqual(await ownedFiles(user), []);
  }
  // The whole quota is still there for the next upload.
  const next = await createOwned(user, 1024 * 1024);
  assert.equal(next.status, 201, await next.text());
});

// A part of a parallel upload made with `user`'s session: its upload path.
async function ownedPart(user, length) {
  const res = await fetch(`${server.url}/files`, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(length), 'Upload-Concat': 'partial', Authorization: `Bearer ${user.token}` },
  });
  return res;
}

// The final upload of `parts`, owned by `user` (or anonymous without one).
async function ownedFinal(user, parts) {
  const headers = { ...TUS, 'Upload-Concat': `final;${parts.join(' ')}` };
  if (user) {
    const keys = deriveKeys(b64url(randomBytes(16)));
    const meta = ece(keys.metadata, Buffer.from(JSON.stringify({ name: 'p', size: 1, type: 'text/plain' })), 8192);
    const ownerSecret = wrap(user.masterKey, 'satload/v1 file-secret', keys.secret);
    headers['Upload-Metadata'] = `meta ${tusValue(b64url(meta))},owner_secret ${tusValue(b64url(ownerSecret))}`;
    headers.Authorization = `Bearer ${user.token}`;
  }
  return fetch(`${server.url}/files`, { method: 'POST', headers });
}

test('parts of a parallel upload count against the quota from their creation, once, until used, deleted or claimed', async () => {
  const user = await apiUser(server.url, 'edge-parts');
  const KiB = 1024;
  const first = await ownedPart(user, 700 * KiB);
  assert.equal(first.status, 201, await first.text());
  const firstPath = new URL(first.headers.get('location')).pathname;
  assert.equal(await usedBytes(user), 700 * KiB);
  // The quota (1 MiB) has 324 KiB left: a part of 400 KiB does not fit, and leaves nothing.
  const refused = await ownedPart(user, 400 * KiB);
  assert.equal(refused.status, 413, await refused.text());
  assert.equal(await usedBytes(user), 700 * KiB);
  const second = await ownedPart(user, 300 * KiB);
  assert.equal(second.status, 201, await second.text());
  const secondPath = new URL(second.headers.get('location')).pathname;
  assert.equal(await usedBytes(user), 1000 * KiB);
  assert.equal((await patch(firstPath, 0, randomBytes(700 * KiB))).status, 204);
  assert.equal((await patch(secondPath, 0, randomBytes(300 * KiB))).status, 204);

  // The file takes the parts' place: 1000 KiB, counted once, in a quota they fill nearly whole.
  const final = await ownedFinal(user, [firstPath, secondPath]);
  assert.equal(final.status, 201, await final.text());
  assert.equal(await usedBytes(user), 1000 * KiB);
  const [file] = await ownedFiles(user);
  assert.equal(file.size_bytes, 1000 * KiB);
  const del = await fetch(`${server.url}/api/v1/files/${file.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${user.token}` } });
  assert.equal(del.status, 204);
  assert.equal(await usedBytes(user), 0);

  // A part terminated (tus DELETE) frees its place at once.
  const third = await ownedPart(user, 10 * KiB);
  assert.equal(third.status, 201);
  const thirdPath = new URL(third.headers.get('location')).pathname;
  assert.equal(await usedBytes(user), 10 * KiB);
  assert.equal((await fetch(`${server.url}${thirdPath}`, { method: 'DELETE', headers: TUS })).status, 204);
  assert.equal(await usedBytes(user), 0);

  // A part used by a final upload without a session no longer counts for its maker.
  const fourth = await ownedPart(user, 5 * KiB);
  const fourthPath = new URL(fourth.headers.get('location')).pathname;
  assert.equal((await patch(fourthPath, 0, randomBytes(5 * KiB))).status, 204);
  assert.equal(await usedBytes(user), 5 * KiB);
  const anonymous = await ownedFinal(null, [fourthPath]);
  assert.equal(anonymous.status, 201, await anonymous.text());
  assert.equal(await usedBytes(user), 0);
});

test('a final upload with a session naming a part whose length is still deferred is refused before anything is made', async () => {
  const user = await apiUser(server.url, 'edge-deferred-part');
  // A part of deferred length (no Upload-Length yet): its size could still be declared after
  // the quota was checked, so it is refused as not complete, and stays usable.
  const deferred = await fetch(`${server.url}/files`, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Defer-Length': '1', 'Upload-Concat': 'partial' },
  });
  assert.equal(deferred.status, 201, await deferred.text());
  const deferredPath = new URL(deferred.headers.get('location')).pathname;
  const refused = await ownedFinal(user, [deferredPath]);
  assert.equal(refused.status, 409, await refused.text());
  assert.equal(await usedBytes(user), 0);
  assert.deepEqual(await ownedFiles(user), []);
  assert.equal((await patch(deferredPath, 0, randomBytes(64), { 'Upload-Length': '64' })).status, 204);
  const final = await ownedFinal(user, [deferredPath]);
  assert.equal(final.status, 201, await final.text());
  assert.equal(await usedBytes(user), 64);
});

test('a final concatenation with a chunked body is refused before its parts are used', async () => {
  const part = await anonymousUpload(10, { 'Upload-Concat': 'partial' });
  assert.equal((await patch(part, 0, randomBytes(10))).status, 204);
  const wire = await exchange(
    `POST /files HTTP/1.1\r\nHost: test\r\nTus-Resumable: 1.0.0\r\nUpload-Concat: final;${part}\r\n` +
      'Content-Type: application/offset+octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  );
  assert.deepEqual(statusLines(wire), ['HTTP/1.1 400'], wire);
  // The part is untouched: a concatenation without a body still makes the file.
  const head = await fetch(`${server.url}${part}`, { method: 'HEAD', headers: TUS });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('upload-offset'), '10');
  const final = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Concat': `final;${part}` } });
  assert.equal(final.status, 201, await final.text());
  assert.ok(final.headers.get('satload-file-id'));
});

test('a part named twice in one concatenation is refused as malformed (400), not as busy (423)', async () => {
  const part = await anonymousUpload(5, { 'Upload-Concat': 'partial' });
  assert.equal((await patch(part, 0, randomBytes(5))).status, 204);
  const res = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Concat': `final;${part} ${part}` } });
  assert.equal(res.status, 400, await res.text());
  // Nothing was left locked.
  const once = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Concat': `final;${part}` } });
  assert.equal(once.status, 201, await once.text());
});

test('a deferred length sent with a refused PATCH is not kept', async () => {
  const res = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Defer-Length': '1' } });
  assert.equal(res.status, 201, await res.text());
  const location = new URL(res.headers.get('location')).pathname;
  const refused = await patch(location, 0, randomBytes(10), { 'Upload-Length': '5' });
  assert.equal(refused.status, 413, await refused.text());
  const head = await fetch(`${server.url}${location}`, { method: 'HEAD', headers: TUS });
  assert.equal(head.headers.get('upload-defer-length'), '1');
  assert.equal(head.headers.get('upload-length'), null);
  const right = await patch(location, 0, randomBytes(10), { 'Upload-Length': '10' });
  assert.equal(right.status, 204, await right.text());
  assert.ok(right.headers.get('satload-file-id'));
});

test('upload metadata whose meta is not base64url text is refused at creation', async () => {
  const bad = Buffer.from([0xff, 0xfe, 0x22, 0x5c]).toString('base64');
  const res = await fetch(`${server.url}/files`, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': '10', 'Upload-Metadata': `meta ${bad}` },
  });
  assert.equal(res.status, 400, await res.text());
  const good = await fetch(`${server.url}/files`, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': '10', 'Upload-Metadata': `meta ${tusValue('c2F0bG9hZA')}` },
  });
  assert.equal(good.status, 201, await good.text());
});

test('HEAD answers carry the header only, so the next response on the connection is read right', async () => {
  const upload = await anonymousUpload(20);
  const done = await patch(upload, 0, randomBytes(20));
  const fileId = done.headers.get('satload-file-id');
  assert.ok(fileId);
  for (const [target, extra] of [['/healthz', ''], [`/d/${fileId}`, 'Range: bytes=50-\r\n'], ['/no/such/thing', '']]) {
    const wire = await exchange(
      `HEAD ${target} HTTP/1.1\r\nHost: test\r\n${extra}\r\nGET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`,
    );
    const firstEnd = wire.indexOf('\r\n\r\n');
    assert.ok(firstEnd > 0, wire);
    const rest = wire.slice(firstEnd + 4);
    assert.ok(rest.startsWith('HTTP/1.1 200'), `after HEAD ${target} came: ${JSON.stringify(rest.slice(0, 80))}`);
    assert.ok(rest.endsWith('ok\n'), rest);
  }
});

test('a Transfer-Encoding that does not end with chunked gets 400 and the connection closes', async () => {
  const wire = await exchange(
    'GET /healthz HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\nGET /metrics HTTP/1.1\r\nHost: test\r\n\r\n',
  );
  assert.deepEqual(statusLines(wire), ['HTTP/1.1 400'], wire);
  assert.match(wire, /application\/problem\+json/);
  // A chunked request is still served.
  const ok = await exchange('GET /healthz HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.deepEqual(statusLines(ok), ['HTTP/1.1 200'], ok);
});

test('Expect: 100-continue gets its interim answer once the body is wanted, and never for a request refused from its header', async () => {
  const upload = await anonymousUpload(5);
  const { hostname, port } = new URL(server.url);
  const wire = await new Promise((resolve, reject) => {
    let seen = '';
    let sentBody = false;
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(
        `PATCH ${upload} HTTP/1.1\r\nHost: test\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n` +
          'Content-Type: application/offset+octet-stream\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
      );
    });
    socket.on('data', (d) => {
      seen += d.toString('latin1');
      // The body goes only after the interim answer: without it the PATCH would never finish.
      if (!sentBody && seen.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        sentBody = true;
        socket.write('hello');
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(seen));
  });
  assert.deepEqual(statusLines(wire), ['HTTP/1.1 100', 'HTTP/1.1 204'], wire);
  assert.match(wire, /Satload-File-Id: /i);

  const refused = await exchange(
    `PATCH ${upload} HTTP/1.1\r\nHost: test\r\nUpload-Offset: 5\r\nContent-Type: application/offset+octet-stream\r\n` +
      'Content-Length: 5\r\nExpect: 100-continue\r\n\r\n',
  );
  assert.deepEqual(statusLines(refused), ['HTTP/1.1 412'], refused);
});

test('an HTTP/1.1 request needs exactly one valid Host (400 and close otherwise)', async () => {
  const get = (hostLines, version = '1.1') => exchange(`GET /healthz HTTP/${version}\r\n${hostLines}Connection: close\r\n\r\n`);
  for (const bad of ['', 'Host: evil.example/phish?x=\r\n', 'Host: a\r\nHost: b\r\n', 'Host: a b\r\n', 'Host: host:\r\n',
    'Host: host:123456\r\n', 'Host: [zz]\r\n', 'Host: [::1]x\r\n', 'Host: \r\n']) {
    const wire = await get(bad);
    assert.deepEqual(statusLines(wire), ['HTTP/1.1 400'], `${JSON.stringify(bad)}: ${wire}`);
  }
  for (const good of ['Host: localhost\r\n', 'Host: 127.0.0.1:8080\r\n', 'Host: [::1]:8080\r\n', 'Host: [::1]\r\n',
    'Host: files.example.org\r\n']) {
    const wire = await get(good);
    assert.deepEqual(statusLines(wire), ['HTTP/1.1 200'], `${JSON.stringify(good)}: ${wire}`);
  }
  // HTTP/1.0 predates Host: still served without it.
  assert.match(await get('', '1.0'), /^HTTP\/1\.[01] 200/);
});

test('an answer sent while the request body stays unread says Connection: close', async () => {
  const wire = await exchange('GET /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello');
  assert.deepEqual(statusLines(wire), ['HTTP/1.1 200'], wire);
  assert.match(wire, /\r\nConnection: close\r\n/i);
  // With no body, the connection stays open for the next request.
  const two = await exchange('GET /healthz HTTP/1.1\r\nHost: test\r\n\r\nGET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
  assert.deepEqual(statusLines(two), ['HTTP/1.1 200', 'HTTP/1.1 200'], two);
});

test('an upload complete at creation (length 0) stays owned when a body sent with it is refused', async () => {
  const user = await apiUser(server.url, 'edge-empty');
  const res = await createOwned(user, 0, OCTETS, randomBytes(5));
  assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${await res.text()}`);
  // The file exists (its upload completed at once): it must stay its owner's, listed and
  // deletable, never a file that nothing owns.
  const files = await ownedFiles(user);
  assert.equal(files.length, 1);
  assert.equal(files[0].complete, true);
  assert.equal((await fetch(`${server.url}/d/${files[0].id}`)).status, 200);
  const del = await fetch(`${server.url}/api/v1/files/${files[0].id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${user.token}` } });
  assert.equal(del.status, 204);
  assert.equal((await fetch(`${server.url}/d/${files[0].id}`)).status, 404);
});
