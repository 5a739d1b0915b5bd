// Renaming a file against the real binaries: `satload rename ID NEWNAME` and PATCH
// /api/v1/files/<id> {"meta"}. Pins down that the link page's metadata then decrypts to the new
// name with the same size and type, that `satload ls` on a fresh machine and `satload get` (no
// -o) use the new name while the link stays the same, that another account's rename looks like
// a missing file (404), that malformed, oversized and unauthenticated replacements are
// refused as problem+json with nothing changed, and that the old sealed name is kept nowhere
// (the upload record's Upload-Metadata, answered by tus HEAD, is rewritten too).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, runCli, tempDir, lastLine, parseLink } from '../lib/server.mjs';
import { apiUser, ece, openMetadata, ownedUpload } from '../lib/owned.mjs';
import { deriveKeys } from '../lib/secrets.mjs';

const PASSWORD = 'rename password 3';
const PROBLEM = 'https://satload.dev/problems/';
// The largest metadata an upload can carry (files/file_meta.h max_meta_chars: a tus value of
// at most 8 KiB, bounded by its base64 length in whole groups).
const MAX_META_CHARS = 8193;

const server = await new Server().start();
after(() => server.stop());
const work = tempDir('satload-rename-');

async function cli(home, args, env = {}) {
  return runCli(args, { env: { SATLOAD_HOME: home, SATLOAD_PASSWORD: PASSWORD, ...env } });
}

async function register(user) {
  const home = tempDir('satload-home-');
  const r = await cli(home, ['account', 'register', user, '--server', server.url]);
  assert.equal(r.code, 0, r.stderr);
  return home;
}

const token = (home) => JSON.parse(readFileSync(path.join(home, 'session.json'), 'utf8')).token;

async function put(home, name, content) {
  const file = path.join(work, name);
  writeFileSync(file, content);
  const r = await cli(home, ['put', file]);
  assert.equal(r.code, 0, r.stderr);
  const link = lastLine(r.stdout);
  return { link, ...parseLink(link) };
}

async function state(id) {
  const res = await fetch(`${server.url}/api/v1/files/${id}`);
  assert.equal(res.status, 200);
  return res.json();
}

function patch(id, body, home) {
  return fetch(`${server.url}/api/v1/files/${id}`, {
    method: 'PATCH',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...(home ? { Authorization: `Bearer ${token(home)}` } : {}) },
  });
}

// Base64url text of `bytes` bytes shaped like an RFC 8188 body (header, then filler).
function shapedMeta(bytes) {
  const body = Buffer.alloc(bytes, 0x5a);
  randomBytes(16).copy(body, 0);
  body.writeUInt32BE(8192, 16);
  body[20] = 0;
  return body.toString('base64url');
}

test('satload rename: the link page, ls on a fresh machine and get see the new name; size, type and link stay', async () => {
  const home = await register('renamer');
  const content = randomBytes(70_000);
  const f = await put(home, 'old name.txt', content);
  const before = await state(f.id);
  const oldMeta = openMetadata(before.meta, f.secret);
  assert.deepEqual(oldMeta, { name: 'old name.txt', size: content.length, type: oldMeta.type });

  const newName = 'new näme 🌴.txt';
  const r = await cli(home, ['rename', '--', f.id, newName]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `renamed ${f.id} to ${newName}\n`);

  // What the link page reads: new name, same size and type; only the metadata changed.
  const afterState = await state(f.id);
  assert.notEqual(afterState.meta, before.meta);
  assert.deepEqual(openMetadata(afterState.meta, f.secret), { name: newName, size: content.length, type: oldMeta.type });
  assert.deepEqual({ ...afterState, meta: before.meta }, before, 'nothing but the metadata changed');
  // Sealed under the file's metadata key: the server's copy does not hold the name in any form.
  assert.equal(Buffer.from(afterState.meta, 'base64url').includes(Buffer.from('näme')), false);
  assert.equal(afterState.meta.includes(Buffer.from(newName).toString('base64url').slice(0, 8)), false);

  // A fresh machine: log in, list: the new name, the same link.
  const fresh = tempDir('satload-home-fresh-');
  const login = await cli(fresh, ['account', 'login', 'renamer', '--server', server.url]);
  assert.equal(login.code, 0, login.stderr);
  const ls = await cli(fresh, ['ls', '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  const listed = JSON.parse(ls.stdout);
  assert.equal(listed.length, 1);
  assert.equal(listed[0].name, newName);
  assert.equal(listed[0].size_bytes, content.length);
  assert.equal(listed[0].link, f.link);

  // get without -o writes the new name.
  const into = tempDir('satload-get-');
  const got = await runCli(['get', f.link], { cwd: into });
  assert.equal(got.code, 0, got.stderr);
  assert.ok(existsSync(path.join(into, newName)), `saved as the new name: ${got.stderr}`);
  assert.ok(!existsSync(path.join(into, 'old name.txt')));
  assert.ok(readFileSync(path.join(into, newName)).equals(content));

  // Renamed again by the PATCH alone (as the web page does): the latest name wins.
  const keys = deriveKeys(f.secret);
  const third = ece(keys.metadata, Buffer.from(JSON.stringify({ name: 'third.txt', size: content.length, type: oldMeta.type })), 8192);
  const res = await patch(f.id, { meta: third.toString('base64url') }, home);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(openMetadata((await res.json()).meta, f.secret).name, 'third.txt');
  const again = JSON.parse((await cli(fresh, ['ls', '--json'])).stdout);
  assert.equal(again[0].name, 'third.txt');
});

test('rename: another account gets 404 like a missing file; bad names, bad metadata and no login are refused and nothing changes', async () => {
  const homeA = await register('owner-r');
  const homeB = await register('other-r');
  const f = await put(homeA, 'keep.bin', randomBytes(3000));
  const before = await state(f.id);
  const keys = deriveKeys(f.secret);
  const valid = ece(keys.metadata, Buffer.from(JSON.stringify({ name: 'stolen.bin', size: 3000, type: 'application/octet-stream' })), 8192).toString('base64url');

  const byB = await patch(f.id, { meta: valid }, homeB);
  assert.equal(byB.status, 404);
  assert.equal(byB.headers.get('content-type'), 'application/problem+json');
  const missing = await patch('A'.repeat(22), { meta: valid }, homeB);
  assert.equal(missing.status, 404);
  assert.equal(await byB.text(), await missing.text(), 'another account’s file looks missing');
  const cliB = await cli(homeB, ['rename', '--', f.id, 'stolen.bin']);
  assert.equal(cliB.code, 1);
  assert.match(cliB.stderr, /no file .* in your files/);
  assert.equal((await patch(f.id, { meta: valid })).status, 401);

  const bad = [
    { meta: 'not base64url!' },
    { meta: `${shapedMeta(60)}=` },
    { meta: shapedMeta(21 + 16) },        // a header and less than one record
    { meta: Buffer.alloc(60).toString('base64url') },  // record size 0
    { meta: '' },
    { meta: 42 },
    { meta: null },
    { meta: shapedMeta(6145) },           // 8194 characters: one more than an upload carries
  ];
  assert.equal(bad.at(-1).meta.length, MAX_META_CHARS + 1);
  for (const body of bad) {
    const res = await patch(f.id, body, homeA);
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const problem = await res.json();
    assert.equal(problem.type, `${PROBLEM}bad-request`);
    assert.match(problem.detail, /meta/);
  }
  const huge = await patch(f.id, JSON.stringify({ meta: 'A'.repeat(40_000) }), homeA);
  assert.equal(huge.status, 413);
  assert.deepEqual(await state(f.id), before, 'nothing changed');

  // The CLI checks a name before it asks the server: empty, too long, control characters.
  for (const name of ['', 'x'.repeat(256), 'two\nlines']) {
    const r = await cli(homeA, ['rename', '--', f.id, name]);
    assert.equal(r.code, 2, `${JSON.stringify(name)}: ${r.stderr}`);
    assert.match(r.stderr, /file name/);
  }
  // An API token holds no master key: it cannot re-encrypt the name.
  const created = await cli(homeA, ['account', 'token', 'create', 'script']);
  assert.equal(created.code, 0, created.stderr);
  const withToken = await cli(homeA, ['rename', '--', f.id, 'x.bin'], { SATLOAD_TOKEN: lastLine(created.stdout) });
  assert.equal(withToken.code, 2);
  assert.match(withToken.stderr, /login session/);
  assert.deepEqual(await state(f.id), before, 'nothing changed');
  const ls = JSON.parse((await cli(homeA, ['ls', '--json'])).stdout);
  assert.equal(ls[0].name, 'keep.bin');

  // The largest metadata an upload could carry is accepted (the server checks only shape).
  const g = await put(homeA, 'big.bin', randomBytes(10));
  const largest = shapedMeta(6144);  // 8192 characters: the longest base64url within the limit
  assert.ok(largest.length <= MAX_META_CHARS && largest.length + 2 > MAX_META_CHARS);
  const ok = await patch(g.id, { meta: largest }, homeA);
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.equal((await state(g.id)).meta, largest);
});

test('rename: the upload record answers tus HEAD with the new metadata, its other pairs unchanged', async () => {
  const user = await apiUser(server.url, 'tus-renamer');
  const up = await ownedUpload(server.url, user, 'secret plans.txt', randomBytes(500), { meta: { max_downloads: '9' } });
  assert.equal(up.res.status, 201, up.text);
  const uploadUrl = up.res.headers.get('location');
  const pairs = async () => {
    const res = await fetch(uploadUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(res.status, 200);
    return Object.fromEntries(res.headers.get('upload-metadata').split(',').map((p) => {
      const [k, v = ''] = p.split(' ');
      return [k, Buffer.from(v, 'base64').toString()];
    }));
  };
  const before = await pairs();
  assert.equal(openMetadata(before.meta, parseLink(up.link).secret).name, 'secret plans.txt');

  const keys = deriveKeys(parseLink(up.link).secret);
  const meta = ece(keys.metadata, Buffer.from(JSON.stringify({ name: 'harmless.txt', size: 500, type: 'text/plain' })), 8192).toString('base64url');
  const res = await fetch(`${server.url}/api/v1/files/${up.id}`, {
    method: 'PATCH', body: JSON.stringify({ meta }), headers: { Authorization: `Bearer ${user.token}` },
  });
  assert.equal(res.status, 200, await res.text());
  const after = await pairs();
  assert.equal(after.meta, meta);
  assert.deepEqual({ ...after, meta: before.meta }, before, 'the other pairs are as they were');
  assert.equal((await state(up.id)).meta, meta);
});
