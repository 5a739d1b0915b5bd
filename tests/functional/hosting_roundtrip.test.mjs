// The hosting core end to end with the real binaries: `satload put` a file with a marker
// every 4 KiB, `satload get` it back, compare; then prove that neither the marker nor the
// file secret nor any key derived from it (raw, hex, base64, base64url) is anywhere in the
// server's data directory or its log.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, openSync, writeSync, closeSync, readFileSync, writeFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Server, runCli, tempDir, lastLine, parseLink } from '../lib/server.mjs';
import { deriveKeys, recordKeys, forms, scanForNeedles } from '../lib/secrets.mjs';

const SMALL = process.env.SATLOAD_SMALL_TESTS === '1';
const SIZE = SMALL ? 64 * 1024 * 1024 : 1024 * 1024 * 1024; // 1 GiB in the full run
const MARKER = 'SATLOAD-PLAINTEXT-MARKER-7f3a9c';

const server = await new Server().start();
after(() => server.stop());
const work = tempDir('satload-roundtrip-');
const home = tempDir('satload-home-');
const env = { SATLOAD_HOME: home };

function makeMarkedFile(file, size) {
  // Every 4 KiB block: the marker, its offset, then pseudo-random filler.
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  let x = 0x12345678;
  for (let off = 0; off < size; off += chunk.length) {
    for (let i = 0; i < chunk.length; i += 4096) {
      chunk.write(`${MARKER}@${off + i};`, i);
      for (let j = i + 64; j < i + 4096; j += 4) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        chunk.writeUInt32LE(x, j);
      }
    }
    writeSync(fd, chunk, 0, Math.min(chunk.length, size - off));
  }
  closeSync(fd);
}

async function sha256File(file) {
  const h = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 8 * 1024 * 1024 })) h.update(piece);
  return h.digest('hex');
}

test(`a ${SIZE >> 20} MiB file round-trips through put/get and the server holds no readable byte`, async () => {
  const src = path.join(work, 'big input.bin');
  makeMarkedFile(src, SIZE);
  const put = await runCli(['put', src, '--server', server.url], { env });
  assert.equal(put.code, 0, put.stderr);
  const link = lastLine(put.stdout);
  const { id, secret } = parseLink(link);

  const outDir = tempDir('satload-out-');
  const out = path.join(outDir, 'copy.bin');
  const get = await runCli(['get', link, '-o', out], { env });
  assert.equal(get.code, 0, get.stderr);
  assert.equal(statSync(out).size, SIZE);
  assert.equal(await sha256File(out), await sha256File(src));

  // Every key the link implies, in every textual form.
  const keys = deriveKeys(secret);
  const blob = Buffer.from(await (await fetch(`${server.url}/d/${id}`, { headers: { Range: 'bytes=0-20' } })).arrayBuffer());
  const rk = recordKeys(keys.content, blob);
  const needles = [{ name: 'marker', bytes: Buffer.from(MARKER) }];
  for (const [name, bytes] of Object.entries({ ...keys, cek: rk.cek, nonce: rk.nonce })) {
    forms(bytes).forEach((f, i) => needles.push({ name: `${name}#form${i}`, bytes: f }));
  }
  needles.push({ name: 'secret text', bytes: Buffer.from(secret) });
  writeFileSync(path.join(work, 'server.log'), server.log);
  const stored = server.storedPaths();
  const hits = scanForNeedles([...stored, path.join(work, 'server.log')], needles);
  assert.deepEqual(hits, [], 'secrets or plaintext found on the server side');
  // The scan covers where the ciphertext really is (the data directory, or the bucket).
  assert.ok(scanForNeedles(stored, [{ name: 'ciphertext head', bytes: blob }]).length > 0);
  // And the check itself can fail: the plaintext file does contain the marker.
  assert.ok(scanForNeedles([src], needles.slice(0, 1)).length === 1);
});

test('get refuses to overwrite without --force and writes the decrypted name by default', async () => {
  const src = path.join(work, 'report (final).txt');
  writeFileSync(src, 'hello satload\n');
  const put = await runCli(['put', src, '--server', server.url], { env });
  assert.equal(put.code, 0, put.stderr);
  const link = lastLine(put.stdout);
  const dir = tempDir('satload-cwd-');
  const first = await runCli(['get', link], { env, cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const written = lastLine(first.stdout);
  assert.ok(existsSync(path.isAbsolute(written) ? written : path.join(dir, written)) || existsSync(path.join(dir, 'report (final).txt')));
  const again = await runCli(['get', link, '-o', path.join(dir, 'report (final).txt')], { env });
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /exists|overwrite|--force/i);
  const forced = await runCli(['get', link, '-o', path.join(dir, 'report (final).txt'), '--force'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(readFileSync(path.join(dir, 'report (final).txt'), 'utf8'), 'hello satload\n');
});

test('a tampered link (wrong secret) fails to decrypt and leaves no file', async () => {
  const src = path.join(work, 'small.txt');
  writeFileSync(src, 'x'.repeat(100000));
  const put = await runCli(['put', src, '--server', server.url], { env });
  const link = lastLine(put.stdout);
  const bad = link.replace(/#(.)/, (_m, c) => `#${c === 'A' ? 'B' : 'A'}`);
  const out = path.join(tempDir('satload-bad-'), 'x.txt');
  const get = await runCli(['get', bad, '-o', out], { env });
  assert.notEqual(get.code, 0);
  assert.equal(get.stderr.trim().split('\n').filter((l) => l.trim()).length >= 1, true);
  assert.equal(existsSync(out), false);
});
