// Durability of uploads across a server crash. SIGKILL alone proves little (the page cache
// survives it), so one test reads the server's own syscalls with strace and checks that every
// PATCH acknowledgment is preceded by the fdatasync of its bytes and the sync of the recorded
// offset; another kills the server with SIGKILL mid-upload and checks, after a restart, that
// completed files are intact and the partial upload resumes from its last acknowledged offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, tempDir } from '../lib/server.mjs';

const TUS = { 'Tus-Resumable': '1.0.0' };

async function create(url, length) {
  const res = await fetch(`${url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(length) } });
  assert.equal(res.status, 201);
  return res.headers.get('location');
}

async function patch(location, offset, body) {
  return fetch(location, {
    method: 'PATCH',
    headers: { ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
    body,
  });
}

async function headOffset(location) {
  const res = await fetch(location, { method: 'HEAD', headers: TUS });
  assert.equal(res.status, 200);
  return Number(res.headers.get('upload-offset'));
}

test('every acknowledged PATCH was synced (data and offset) before the reply (strace)', async () => {
  const dir = tempDir('satload-strace-');
  const trace = path.join(dir, 'trace.txt');
  const server = await new Server({
    wrap: ['strace', '-f', '-y', '-s', '120', '-o', trace, '-e', 'trace=fdatasync,fsync,sendmsg,sendto,write,writev'],
  }).start(30000);
  const chunk = 256 * 1024;
  const chunks = 6;
  const location = await create(server.url, chunk * chunks);
  const uploadId = location.split('/').pop();
  for (let i = 0; i < chunks; i++) {
    const res = await patch(location, i * chunk, randomBytes(chunk));
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('upload-offset'), String((i + 1) * chunk));
  }
  await server.stop();
  const lines = readFileSync(trace, 'utf8').split('\n');
  // Walk the trace in order: remember the last completed data sync of this upload's file and
  // of the metadata database, and check each acknowledgment comes after both.
  let dataSynced = -1;
  let metaSynced = -1;
  let acks = 0;
  let violations = [];
  lines.forEach((line, n) => {
    const sync = line.match(/(fdatasync|fsync)\(\d+<([^>]+)>(?:\)| <unfinished)/);
    const resumed = line.match(/<\.\.\. (fdatasync|fsync) resumed>\)\s+=\s+0/);
    if (sync && / = 0$/.test(line)) {
      if (sync[2].includes(uploadId) || sync[2].includes('/blobs/')) dataSynced = n;
      if (sync[2].includes('meta.sqlite')) metaSynced = n;
    } else if (resumed) {
      // The path is on the matching "unfinished" line of the same pid: find it backwards.
      const pid = line.split(' ')[0];
      for (let k = n - 1; k >= 0; k--) {
        if (lines[k].startsWith(pid + ' ') && lines[k].includes(`${resumed[1]}(`)) {
          if (lines[k].includes(uploadId) || lines[k].includes('/blobs/')) dataSynced = n;
          if (lines[k].includes('meta.sqlite')) metaSynced = n;
          break;
        }
      }
    }
    // Asio sends the header as an iovec of pieces; the status and the offset are on one line.
    const ack = line.match(/HTTP\/1\.1 204 .*Upload-Offset: (\d+)/);
    if (ack && /(sendmsg|sendto|write|writev)\(/.test(line)) {
      acks++;
      if (!(dataSynced >= 0 && metaSynced >= 0 && dataSynced < n && metaSynced < n && metaSynced > dataSynced)) {
        violations.push(`ack of offset ${ack[1]} at trace line ${n} (data sync ${dataSynced}, offset sync ${metaSynced})`);
      }
      dataSynced = -1; // each acknowledgment needs its own syncs
      metaSynced = -1;
    }
  });
  assert.equal(acks, chunks, 'every acknowledgment was seen in the trace');
  assert.deepEqual(violations, []);
});

test('SIGKILL mid-upload: completed files intact, partial upload resumes from its last ack', async () => {
  const dataDir = tempDir('satload-kill-');
  let server = await new Server({ dataDir }).start();
  // A completed file first.
  const done = randomBytes(3 * 1024 * 1024 + 5);
  const doneLoc = await create(server.url, done.length);
  const doneRes = await patch(doneLoc, 0, done);
  assert.equal(doneRes.status, 204);
  const doneId = doneRes.headers.get('satload-file-id');

  // A large upload in 1 MiB chunks; kill the server while a chunk is in flight.
  const chunk = 1024 * 1024;
  const total = 64 * chunk;
  const data = randomBytes(total);
  const location = await create(server.url, total);
  let acked = 0;
  for (let i = 0; i < 10; i++) {
    const res = await patch(location, acked, data.subarray(acked, acked + chunk));
    assert.equal(res.status, 204);
    acked = Number(res.headers.get('upload-offset'));
  }
  const inflight = patch(location, acked, data.subarray(acked, acked + 8 * chunk)).catch(() => null);
  await new Promise((r) => setTimeout(r, 30));
  await server.kill();
  await inflight;

  server = await new Server({ dataDir }).start();
  try {
    const offset = await headOffset(location.replace(/^https?:\/\/[^/]+/, server.url));
    assert.ok(offset >= acked, `offset ${offset} is at least the last acknowledged ${acked}`);
    assert.ok(offset <= total);
    let at = offset;
    const loc = location.replace(/^https?:\/\/[^/]+/, server.url);
    let fileId = null;
    while (at < total) {
      const res = await patch(loc, at, data.subarray(at, Math.min(total, at + 8 * chunk)));
      assert.equal(res.status, 204);
      at = Number(res.headers.get('upload-offset'));
      fileId = res.headers.get('satload-file-id') ?? fileId;
    }
    const sha = (b) => createHash('sha256').update(b).digest('hex');
    const got = Buffer.from(await (await fetch(`${server.url}/d/${fileId}`)).arrayBuffer());
    assert.equal(sha(got), sha(data), 'the resumed upload stored exactly the original bytes');
    const old = Buffer.from(await (await fetch(`${server.url}/d/${doneId}`)).arrayBuffer());
    assert.equal(sha(old), sha(done), 'the file completed before the crash is intact');
  } finally {
    await server.stop();
  }
});
