// The service worker: streams a decrypted download to the browser's download manager, so a
// file of any size is saved with memory that does not grow with it. It answers only its own
// /_save/<token> requests; every other request goes to the network untouched.
/// <reference lib="webworker" />
import { EceError, decryptStream } from '../crypto/ece.js';
import { contentDisposition } from '../lib/filename.js';
import { problemFromBody } from '../lib/problem.js';
import { fetchResumable } from '../lib/resumable.js';
import { SAVE_PATH_PREFIX, type SaveEvent, type SaveJob } from '../lib/save-protocol.js';

declare const self: ServiceWorkerGlobalScope;

// A job not claimed by its request within this time is dropped (its key with it).
const JOB_TTL_MS = 60_000;
const PROGRESS_INTERVAL_MS = 200;

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

  let plainBytes = 0;
  let lastReport = 0;
  const count = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      plainBytes += chunk.length;
      // More bytes than the metadata promised: the download manager would fail on its own
      // (Content-Length), but say why.
      if (plainBytes > job.size) throw new Error('the file is longer than its metadata says');
      controller.enqueue(chunk);
      const now = Date.now();
      if (now - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = now;
        send(port, { type: 'progress', plainBytes });
      }
    },
    flush() {
      if (plainBytes !== job.size) throw new Error('the file is shorter than its metadata says');
      send(port, { type: 'done', plainBytes });
    },
  });
  const plain = res.body.pipeThrough(decryptStream(job.contentKey)).pipeThrough(count);
  // Errors end the stream (the browser marks the download failed) and reach the page.
  send(port, { type: 'started' });
  return new Response(withErrorReport(plain, port), {
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

// Passes the stream through, telling the page when it fails and why.
function withErrorReport(stream: ReadableStream<Uint8Array>, port: MessagePort): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (e) {
        const message =
          e instanceof EceError
            ? `the file did not decrypt: ${e.message}; the saved part is incomplete`
            : `the download failed: ${(e as Error).message}`;
        send(port, { type: 'error', message });
        controller.error(e);
      }
    },
    cancel(reason) {
      send(port, { type: 'error', message: 'the download was cancelled' });
      return reader.cancel(reason);
    },
  });
}
