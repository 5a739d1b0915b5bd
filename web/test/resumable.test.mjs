// Pins down the download's resumption (src/lib/resumable.ts) against a scripted fetch: a body
// cut mid-way continues with Range/If-Range from the byte reached, and nothing is ever
// spliced from a different version of the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, pseudoRandom, resumable } from './helpers.mjs';

const FILE = pseudoRandom(100000, 40);
const ETAG = '"v1"';

// A body that delivers `bytes` in pieces and then fails (or ends cleanly) after `cutAt`.
function body(bytes, cutAt, clean = false) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= cutAt) {
        if (clean || cutAt >= bytes.length) controller.close();
        else controller.error(new TypeError('network error'));
        return;
      }
      const end = Math.min(cutAt, at + 7000);
      controller.enqueue(bytes.slice(at, end));
      at = end;
    },
  });
}

function scripted(steps) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const headers = new Headers(init.headers);
    calls.push({ url, range: headers.get('Range'), ifRange: headers.get('If-Range') });
    const step = steps[calls.length - 1];
    if (!step) throw new Error('unexpected request');
    return step(headers);
  };
  return { fetch, calls };
}

const full = (cut, clean) => () =>
  new Response(body(FILE, cut, clean), { status: 200, headers: { ETag: ETAG, 'Content-Length': String(FILE.length) } });
const partial = (from, cut = FILE.length, etag = ETAG) => () =>
  new Response(body(FILE.subarray(from), cut - from), {
    status: 206,
    headers: { ETag: etag, 'Content-Range': `bytes ${from}-${FILE.length - 1}/${FILE.length}`, 'Content-Length': String(FILE.length - from) },
  });

test('a body cut twice is completed with ranges from the bytes reached', async () => {
  const { fetch, calls } = scripted([full(30000), partial(30000, 71000), partial(71000)]);
  const res = await resumable.fetchResumable('/d/x', { fetch, delaysMs: [0] });
  assert.deepEqual(await collect(res.body), FILE);
  assert.deepEqual(calls.map((c) => [c.range, c.ifRange]), [[null, null], ['bytes=30000-', ETAG], ['bytes=71000-', ETAG]]);
});

test('a body that ends early without an error is resumed too', async () => {
  const { fetch, calls } = scripted([full(50000, true), partial(50000)]);
  const res = await resumable.fetchResumable('/d/x', { fetch, delaysMs: [0] });
  assert.deepEqual(await collect(res.body), FILE);
  assert.equal(calls.length, 2);
});

// If-Range failing (the server answers 200: the file changed) ends the download with an error.
test('a changed file is never spliced', async () => {
  const { fetch } = scripted([full(30000), full(FILE.length)]);
  const res = await resumable.fetchResumable('/d/x', { fetch, delaysMs: [0] });
  await assert.rejects(collect(res.body), /changed/);
});

test('a range answer starting elsewhere is refused', async () => {
  const { fetch } = scripted([full(30000), partial(20000)]);
  const res = await resumable.fetchResumable('/d/x', { fetch, delaysMs: [0] });
  await assert.rejects(collect(res.body), /could not be resumed/);
});

test('without an ETag nothing is resumed; the retries are bounded', async () => {
  const noTag = scripted([() => new Response(body(FILE, 30000), { status: 200, headers: { 'Content-Length': String(FILE.length) } })]);
  const res = await resumable.fetchResumable('/d/x', { fetch: noTag.fetch, delaysMs: [0] });
  await assert.rejects(collect(res.body), /network error/);
  assert.equal(noTag.calls.length, 1);

  const failing = scripted([full(1000), ...Array.from({ length: 10 }, () => () => Promise.reject(new TypeError('offline')))]);
  const res2 = await resumable.fetchResumable('/d/x', { fetch: failing.fetch, delaysMs: [0], maxResumes: 3 });
  await assert.rejects(collect(res2.body), /offline/);
  assert.equal(failing.calls.length, 4);
});

// A network body that is a byte stream (as browsers' fetch bodies are), cut at `cutAt`.
function byteBody(bytes, cutAt) {
  let at = 0;
  return new ReadableStream({
    type: 'bytes',
    autoAllocateChunkSize: 7000,
    pull(controller) {
      if (at >= cutAt) {
        if (cutAt >= bytes.length) {
          controller.close();
          controller.byobRequest?.respond(0);
        } else {
          controller.error(new TypeError('network error'));
        }
        return;
      }
      const view = controller.byobRequest.view;
      const n = Math.min(view.byteLength, cutAt - at);
      new Uint8Array(view.buffer, view.byteOffset, n).set(bytes.subarray(at, at + n));
      at += n;
      controller.byobRequest.respond(n);
    },
  });
}

// Reads `stream` as the service worker does: BYOB reads into one buffer, reused.
async function collectByob(stream, bufferBytes) {
  const reader = stream.getReader({ mode: 'byob' });
  let buffer = new Uint8Array(bufferBytes);
  const parts = [];
  for (;;) {
    const { done, value } = await reader.read(buffer);
    if (value) {
      parts.push(value.slice());
      buffer = new Uint8Array(value.buffer);
    }
    if (done) return Buffer.concat(parts);
  }
}

// The body is a byte stream: a BYOB reader gets the file through its own buffer whether the
// network body is a byte stream (read with BYOB, buffers transferred and a failed read's
// buffer replaced) or a plain one (copied), across cuts.
test('a BYOB reader gets the whole file in its own buffer, across cuts, from either kind of body', async () => {
  const bytePartial = (from, cut = FILE.length) => () =>
    new Response(byteBody(FILE.subarray(from), cut - from), {
      status: 206,
      headers: { ETag: ETAG, 'Content-Range': `bytes ${from}-${FILE.length - 1}/${FILE.length}`, 'Content-Length': String(FILE.length - from) },
    });
  const byteFull = (cut) => () =>
    new Response(byteBody(FILE, cut), { status: 200, headers: { ETag: ETAG, 'Content-Length': String(FILE.length) } });
  const a = scripted([byteFull(30000), bytePartial(30000, 71000), bytePartial(71000)]);
  const resA = await resumable.fetchResumable('/d/x', { fetch: a.fetch, delaysMs: [0] });
  assert.deepEqual(new Uint8Array(await collectByob(resA.body, 4096)), FILE);
  assert.deepEqual(a.calls.map((c) => c.range), [null, 'bytes=30000-', 'bytes=71000-']);

  const b = scripted([full(30000), partial(30000)]);
  const resB = await resumable.fetchResumable('/d/x', { fetch: b.fetch, delaysMs: [0] });
  assert.deepEqual(new Uint8Array(await collectByob(resB.body, 65536)), FILE);
  assert.equal(b.calls.length, 2);
});
test('answers other than 200 are returned untouched', async () => {
  const { fetch } = scripted([() => new Response('{"type":"x/link-expired"}', { status: 410 })]);
  const res = await resumable.fetchResumable('/d/x', { fetch });
  assert.equal(res.status, 410);
  assert.equal(await res.text(), '{"type":"x/link-expired"}');
});
