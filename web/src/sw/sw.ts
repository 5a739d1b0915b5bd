// The service worker: streams a decrypted download to the browser's download manager, so a
// file of any size is saved with memory that does not grow with it. It answers only its own
// /_save/<token> requests; every other request goes to the network untouched.
/// <reference lib="webworker" />
import { BodyDecoder, EceError, HEADER_BASE_BYTES } from '../crypto/ece.js';
import { contentDisposition } from '../lib/filename.js';
import { problemFromBody } from '../lib/problem.js';
import { fetchResumable } from '../lib/resumable.js';
import { SAVE_PATH_PREFIX, type SaveEvent, type SaveJob } from '../lib/save-protocol.js';

declare const self: ServiceWorkerGlobalScope;

// A job not claimed by its request within this time is dropped (its key with it).
const JOB_TTL_MS = 60_000;
const PROGRESS_INTERVAL_MS = 200;
// The most the worker reads from the network at once (into one reused buffer).
const READ_BYTES = 256 * 1024;
// Decrypted records handed to the download manager and not yet collected: past this the
// worker asks for a collection and waits for it before decrypting more (CollectionPacer).
const UNCOLLECTED_BUDGET_BYTES = 40 * 1024 * 1024;
// The size of the untouched buffer that tells the engine memory is short (see nudgeCollection).
const COLLECTION_NUDGE_BYTES = 128 * 1024 * 1024;
// How long one wait for a collection lasts, and how many in a row before decrypting anyway
// (until the next collection): one that does not come slows the download by at most this.
const COLLECTION_WAIT_MS = 50;
const COLLECTION_MAX_WAITS = 8;

interface Pending {
  job: SaveJob;
  port: MessagePort;
  timer: ReturnType<typeof setTimeout>;
}
const pending = new Map<string, Pending>();

self.addEventListener('install', () => {
  void self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('message', (event) => {
  const data = event.data as { type?: string } | null;
  if (!data || data.type !== 'save') return; // 'ping' only keeps the worker alive
  const job = data as SaveJob;
  const port = event.ports[0];
  if (!port || typeof job.token !== 'string' || !(job.contentKey instanceof CryptoKey)) return;
  const timer = setTimeout(() => pending.delete(job.token), JOB_TTL_MS);
  pending.set(job.token, { job, port, timer });
  send(port, { type: 'ready' });
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(SAVE_PATH_PREFIX)) return;
  const token = url.pathname.slice(SAVE_PATH_PREFIX.length);
  const entry = pending.get(token);
  if (!entry) {
    event.respondWith(new Response('This download link has expired; start the download again from its page.\n', {
      status: 404,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    }));
    return;
  }
  pending.delete(token);
  clearTimeout(entry.timer);
  event.respondWith(save(entry.job, entry.port));
});

function send(port: MessagePort, message: SaveEvent): void {
  port.postMessage(message);
}

async function save(job: SaveJob, port: MessagePort): Promise<Response> {
  let res: Response;
  try {
    res = await fetchResumable(`/d/${encodeURIComponent(job.fileId)}`, {
      init: { cache: 'no-store', referrerPolicy: 'no-referrer', credentials: 'same-origin' },
    });
  } catch (e) {
    send(port, { type: 'error', message: `the download failed: ${(e as Error).message}` });
    return new Response(null, { status: 204 });
  }
  if (res.status !== 200 || !res.body) {
    let body: Record<string, unknown> = {};
    try {
      body = (await res.json()) as Record<string, unknown>;
    } catch {
      // not a problem document
    }
    send(port, { type: 'refused', problem: problemFromBody(res.status, body) });
    // 204 on a navigation leaves the (hidden) frame as it is: nothing is saved.
    return new Response(null, { status: 204 });
  }

  const plain = plaintextBody(res.body, job, port);
  // Errors end the stream (the browser marks the download failed) and reach the page.
  send(port, { type: 'started' });
  return new Response(plain, {
    status: 200,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(job.size),
      'Content-Disposition': contentDisposition(job.name),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    },
  });
}

// Feeds the decoder whole units, the header's two parts and then one record at a time, from
// buffers of our own that are reused: the decoder copies what it keeps of the header, and
// WebCrypto copies a record when decryption is requested, so once push() returns nothing
// refers to them. A record that straddles network chunks then costs no extra buffer, and no
// network chunk is kept alive by a view of its tail.
class RecordFeeder {
  private unit = new Uint8Array(HEADER_BASE_BYTES);
  private filled = 0;
  private stage: 'header' | 'key-id' | 'records' = 'header';

  constructor(private readonly decoder: BodyDecoder) {}

  async push(chunk: Uint8Array, out: Uint8Array[]): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.unit.length - this.filled, chunk.length - offset);
      this.unit.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.unit.length) await this.flushUnit(out);
    }
  }

  async finish(out: Uint8Array[]): Promise<void> {
    if (this.filled > 0) await this.decoder.push(this.unit.subarray(0, this.filled), out);
    this.filled = 0;
    await this.decoder.finish(out);
  }

  private async flushUnit(out: Uint8Array[]): Promise<void> {
    const unit = this.unit;
    this.filled = 0;
    await this.decoder.push(unit, out);
    if (this.stage === 'header') {
      const keyIdBytes = unit[HEADER_BASE_BYTES - 1]!;
      if (keyIdBytes > 0) {
        this.stage = 'key-id';
        this.unit = new Uint8Array(keyIdBytes);
        return;
      }
    }
    if (this.stage !== 'records') {
      this.stage = 'records';
      // The decoder has the header now (it checked the record size).
      this.unit = new Uint8Array(this.decoder.header!.recordSize);
    }
  }
}

// Each record's plaintext is a new buffer from WebCrypto, freed only when the engine next
// collects garbage; the engine schedules that by its own estimate of memory in use, which
// lets ~100-250 MiB of dead plaintext pile up when the download runs fast (a renderer peak
// of 270-370 MiB for 512 MiB). So the worker counts the bytes it handed on that are not yet
// collected (a FinalizationRegistry says when they are) and, past UNCOLLECTED_BUDGET_BYTES,
// waits for a collection before decrypting the next record: the renderer then peaks at
// ~260 MiB in every run, at about the same speed.
class CollectionPacer {
  private uncollected = 0;
  private wake: (() => void) | null = null;
  // Set when a settle() gave up: no more waiting until a collection is seen, so a collection
  // that does not come costs one round of waits, not one per record.
  private gaveUp = false;
  private readonly registry = new FinalizationRegistry<number>((bytes) => {
    this.uncollected -= bytes;
    this.gaveUp = false;
    if (this.wake && this.uncollected <= UNCOLLECTED_BUDGET_BYTES) {
      this.wake();
      this.wake = null;
    }
  });

  // `buffer` has been handed on: counted until it is collected.
  track(buffer: ArrayBuffer): void {
    this.uncollected += buffer.byteLength;
    this.registry.register(buffer, buffer.byteLength);
  }

  // Resolves once the plaintext awaiting collection is within budget, or after
  // COLLECTION_MAX_WAITS waits in any case.
  async settle(): Promise<void> {
    if (this.gaveUp) return;
    for (let waits = 0; this.uncollected > UNCOLLECTED_BUDGET_BYTES; waits++) {
      if (waits === COLLECTION_MAX_WAITS) {
        this.gaveUp = true;
        return;
      }
      nudgeCollection();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = null;
          resolve();
        }, COLLECTION_WAIT_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

// Waiting alone does not bring a collection (measured: the worker idled 250 ms at a time for
// 30 s without one). A page cannot ask for one directly; what it can do is allocate: a large
// ArrayBuffer counts at once towards the engine's external-memory limit, which starts a
// collection. Its pages are never written, so the system gives it no memory (the renderer's
// RSS shows no trace of it), and it is garbage at once. Without the address space for it,
// the wait's timeout still bounds the delay. Half the size is not always enough: with 64 MiB
// one download in ten crawled at 5 MiB/s, its collections not coming.
let nudgedBytes = 0; // uses each buffer, so no compiler drops the allocation
function nudgeCollection(): void {
  try {
    nudgedBytes += new ArrayBuffer(COLLECTION_NUDGE_BYTES).byteLength;
  } catch {
    // no address space for it: the wait times out instead
  }
}

// The plaintext as a pull source: nothing is read from the network or decrypted until the
// download manager asks for more (highWaterMark 0), so what is held is one read buffer, one
// record and the plaintext it gives, however large the file or slow the disk. Checks the
// length against the metadata, reports progress, and tells the page when it fails and why.
function plaintextBody(body: ReadableStream<Uint8Array>, job: SaveJob, port: MessagePort): ReadableStream<Uint8Array> {
  // The resumable body is a byte stream: read into one buffer of ours, reused.
  const reader = body.getReader({ mode: 'byob' });
  let scratch = new Uint8Array(new ArrayBuffer(READ_BYTES));
  const feeder = new RecordFeeder(new BodyDecoder(job.contentKey));
  const pending: Uint8Array[] = [];
  let plainBytes = 0;
  let lastReport = 0;
  let ended = false;
  const pacer = new CollectionPacer();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          await pacer.settle();
          while (pending.length === 0 && !ended) {
            const { done, value } = await reader.read(scratch);
            if (value) scratch = new Uint8Array(value.buffer); // the read transferred it
            if (done) {
              ended = true;
              await feeder.finish(pending);
            } else {
              await feeder.push(value, pending);
            }
          }
          const piece = pending.shift();
          if (piece) {
            plainBytes += piece.length;
            // More bytes than the metadata promised: the download manager would fail on its
            // own (Content-Length), but say why.
            if (plainBytes > job.size) throw new Error('the file is longer than its metadata says');
            pacer.track(piece.buffer as ArrayBuffer);
            controller.enqueue(piece);
          }
          if (ended && pending.length === 0) {
            if (plainBytes !== job.size) throw new Error('the file is shorter than its metadata says');
            send(port, { type: 'done', plainBytes });
            controller.close();
            return;
          }
          const now = Date.now();
          if (now - lastReport >= PROGRESS_INTERVAL_MS) {
            lastReport = now;
            send(port, { type: 'progress', plainBytes });
          }
        } catch (e) {
          const message =
            e instanceof EceError
              ? `the file did not decrypt: ${e.message}; the saved part is incomplete`
              : `the download failed: ${(e as Error).message}`;
          send(port, { type: 'error', message });
          controller.error(e);
          void reader.cancel(e).catch(() => undefined);
        }
      },
      cancel(reason) {
        send(port, { type: 'error', message: 'the download was cancelled' });
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
