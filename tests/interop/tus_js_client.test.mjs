// The npm tus-js-client (a tus implementation we did not write) uploads to a real satload
// server in chunks, is cut off mid-chunk, resumes from the server's offset, and the stored
// bytes are exactly what it sent. Concatenation (parallel parts) is exercised too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import * as tus from 'tus-js-client';
import { Server } from '../lib/server.mjs';

const server = await new Server().start();
after(() => server.stop());

function upload(data, options) {
  return new Promise((resolve, reject) => {
    let fileId = null;
    const up = new tus.Upload(data, {
      endpoint: `${server.url}/files`,
      retryDelays: [],
      onAfterResponse: (_req, res) => {
        const id = res.getHeader('Satload-File-Id');
        if (id) fileId = id;
      },
      onError: reject,
      onSuccess: () => resolve({ url: up.url, fileId }),
      ...options,
    });
    up.start();
  });
}

async function storedBytes(fileId) {
  const res = await fetch(`${server.url}/d/${fileId}`);
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

test('tus-js-client uploads in chunks, is cut off, resumes, and the bytes are exact', async () => {
  const data = randomBytes(5 * 1024 * 1024 + 12345);
  const chunkSize = 1024 * 1024;
  const before = await server.metric('satload_upload_bytes_received_total');

  // First attempt: abort (a real cut of the in-flight PATCH) after two chunks completed.
  let uploadUrl = null;
  let aborting = false;
  await new Promise((resolve, reject) => {
    const up = new tus.Upload(data, {
      endpoint: `${server.url}/files`,
      chunkSize,
      retryDelays: [],
      // The cut itself surfaces as a request error; only errors before it fail the test.
      onError: (err) => { if (!aborting) reject(err); },
      onChunkComplete: (_size, accepted) => {
        if (accepted >= 2 * chunkSize && uploadUrl === null) {
          uploadUrl = up.url;
          // Let the third PATCH start, then cut it off mid-body.
          setTimeout(() => {
            aborting = true;
            up.abort().then(resolve, reject);
          }, 5);
        }
      },
      onSuccess: () => reject(new Error('the upload should have been cut off')),
    });
    up.start();
  });
  assert.ok(uploadUrl, 'the first attempt created an upload');
  const head = await fetch(uploadUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  const offset = Number(head.headers.get('upload-offset'));
  assert.ok(offset >= 2 * chunkSize && offset < data.length, `offset after the cut: ${offset}`);

  // Second attempt resumes at the server's offset.
  let resumedFrom = null;
  // Like any real client it retries (after a HEAD) when the server is still busy with the
  // cut request, or has kept part of it.
  const { fileId } = await upload(data, {
    uploadUrl,
    chunkSize,
    retryDelays: [50, 100, 200, 500, 1000],
    onProgress: (sent) => { if (resumedFrom === null) resumedFrom = sent; },
  });
  assert.ok(fileId, 'the completing PATCH names the file');
  assert.ok(resumedFrom === null || resumedFrom >= offset, 'resumed where the server was');
  const stored = await storedBytes(fileId);
  assert.equal(stored.length, data.length);
  assert.equal(createHash('sha256').update(stored).digest('hex'), createHash('sha256').update(data).digest('hex'));
  // The server received the file once plus at most the cut-off part of one chunk.
  const received = (await server.metric('satload_upload_bytes_received_total')) - before;
  assert.ok(received >= data.length && received <= data.length + chunkSize, `received ${received}`);
});

test('tus-js-client parallel uploads use concatenation and join the parts in order', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 7);
  const { fileId } = await upload(data, { parallelUploads: 3, chunkSize: 512 * 1024 });
  assert.ok(fileId, 'the final concatenation names the file');
  assert.deepEqual(await storedBytes(fileId), data);
});

test('tus-js-client metadata reaches the file record unchanged', async () => {
  const data = randomBytes(1000);
  const meta = 'c2F0bG9hZC1tZXRhZGF0YQ';
  const { fileId } = await upload(data, { metadata: { meta } });
  const info = await (await fetch(`${server.url}/api/v1/files/${fileId}`)).json();
  assert.equal(info.meta, meta);
  assert.equal(info.size_bytes, data.length);
});
