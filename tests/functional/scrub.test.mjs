// The background scrub of a running server re-hashes stored blobs on its own schedule and
// reports a blob changed on disk (through /metrics and its log), without any request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openSync, writeSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Server } from '../lib/server.mjs';

const TUS = { 'Tus-Resumable': '1.0.0' };

function findBlob(dir, id) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      const found = findBlob(p, id);
      if (found) return found;
    } else if (name === id) return p;
  }
  return null;
}

async function waitFor(fn, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test('the background scrub checks blobs and reports one corrupted on disk', async () => {
  const server = await new Server({ args: ['--scrub-interval', '1s'] }).start();
  try {
    const data = randomBytes(200000);
    const created = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(data.length) } });
    const res = await fetch(created.headers.get('location'), {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: data,
    });
    const id = res.headers.get('satload-file-id');
    assert.ok(await waitFor(async () => (await server.metric('satload_scrub_checked_total')) >= 1), 'the scrub ran');
    assert.equal(await server.metric('satload_blob_corrupt_total'), 0);
    // Flip one byte of the stored blob behind the server's back.
    const blob = findBlob(path.join(server.dataDir, 'blobs', 'blobs'), id);
    assert.ok(blob, 'blob found on disk');
    const fd = openSync(blob, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 1000);
    b[0] ^= 0x40;
    writeSync(fd, b, 0, 1, 1000);
    closeSync(fd);
    assert.ok(await waitFor(async () => (await server.metric('satload_blob_corrupt_total')) >= 1), 'the scrub found it');
    assert.match(server.log, new RegExp(`scrub: blob of file ${id} does not match`));
  } finally {
    await server.stop();
  }
});
