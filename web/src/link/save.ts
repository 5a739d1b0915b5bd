// Saving a decrypted download. First choice: the service worker streams it to the browser's
// download manager (memory independent of the file size). Without a worker (blocked, private
// mode, an old browser): the page decrypts into Blob parts and saves the Blob, which browsers
// may hold in memory (docs/WEB.md says what that limits).
import { EceError, decryptStream } from '../crypto/ece.js';
import { readProblem, type Problem } from '../lib/problem.js';
import { fetchResumable } from '../lib/resumable.js';
import { SAVE_PATH_PREFIX, type SaveEvent, type SaveJob } from '../lib/save-protocol.js';

const WORKER_READY_TIMEOUT_MS = 5000;
// The worker must take the frame's request within this time, or we fall back to a Blob.
const WORKER_START_TIMEOUT_MS = 10_000;
// Messages to the worker while it streams, so the browser does not stop it as idle.
const KEEPALIVE_INTERVAL_MS = 10_000;
// Plaintext gathered before it becomes one Blob part.
const BLOB_PART_BYTES = 4 * 1024 * 1024;

export type SaveOutcome =
  | { kind: 'done' }
  | { kind: 'refused'; problem: Problem }
  | { kind: 'error'; message: string }
  | { kind: 'no-worker' };

export interface SaveRequest {
  fileId: string;
  contentKey: CryptoKey;
  name: string; // safe name
  size: number; // plaintext bytes
  onProgress: (plainBytes: number) => void;
}

let workerPromise: Promise<ServiceWorker | null> | null = null;

function timeout<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

// Registers the worker (once) and resolves to the active one, or null where there is none.
export function prepareWorker(): Promise<ServiceWorker | null> {
  if (workerPromise) return workerPromise;
  workerPromise = (async () => {
    if (!('serviceWorker' in navigator) || !window.isSecureContext) return null;
    try {
      const registered = (await navigator.serviceWorker.register('/sw.js', { scope: '/' })) as
        | ServiceWorkerRegistration
        | undefined;
      // Some environments (a blocked worker) answer without a registration: no worker then.
      if (!registered) return null;
      if (registered.active) return registered.active;
      const reg = await Promise.race([navigator.serviceWorker.ready, timeout(WORKER_READY_TIMEOUT_MS, null)]);
      return reg?.active ?? null;
    } catch {
      return null;
    }
  })();
  return workerPromise;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function saveViaWorker(req: SaveRequest): Promise<SaveOutcome> {
  const worker = await prepareWorker();
  if (!worker) return { kind: 'no-worker' };
  const channel = new MessageChannel();
  const job: SaveJob = {
    type: 'save',
    token: randomToken(),
    fileId: req.fileId,
    contentKey: req.contentKey,
    name: req.name,
    size: req.size,
  };
  const events: SaveEvent[] = [];
  let wake: (() => void) | null = null;
  channel.port1.onmessage = (e: MessageEvent<SaveEvent>) => {
    events.push(e.data);
    wake?.();
  };
  const next = async (ms: number): Promise<SaveEvent | null> => {
    if (events.length === 0) {
      await Promise.race([new Promise<void>((r) => (wake = r)), timeout(ms, undefined)]);
      wake = null;
    }
    return events.shift() ?? null;
  };

  worker.postMessage(job, [channel.port2]);
  const ready = await next(WORKER_READY_TIMEOUT_MS);
  if (ready?.type !== 'ready') return { kind: 'no-worker' };

  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.title = 'download';
  frame.src = SAVE_PATH_PREFIX + job.token;
  document.body.append(frame);
  const keepalive = setInterval(() => worker.postMessage({ type: 'ping' }), KEEPALIVE_INTERVAL_MS);
  try {
    let started = false;
    for (;;) {
      const ev = await next(started ? KEEPALIVE_INTERVAL_MS * 6 : WORKER_START_TIMEOUT_MS);
      if (!ev) {
        if (!started) return { kind: 'no-worker' };
        continue; // a slow network: keep waiting while the worker lives
      }
      switch (ev.type) {
        case 'started':
          started = true;
          break;
        case 'progress':
          started = true;
          req.onProgress(ev.plainBytes);
          break;
        case 'done':
          req.onProgress(ev.plainBytes);
          return { kind: 'done' };
        case 'refused':
          return { kind: 'refused', problem: ev.problem };
        case 'error':
          return { kind: 'error', message: ev.message };
        case 'ready':
          break;
      }
    }
  } finally {
    clearInterval(keepalive);
    channel.port1.close();
    // Give the download manager a moment before the frame that started it goes.
    setTimeout(() => frame.remove(), 5000);
  }
}

export async function saveViaBlob(req: SaveRequest): Promise<SaveOutcome> {
  let res: Response;
  try {
    res = await fetchResumable(`/d/${encodeURIComponent(req.fileId)}`, {
      init: { cache: 'no-store', referrerPolicy: 'no-referrer', credentials: 'same-origin' },
    });
  } catch (e) {
    return { kind: 'error', message: `the download failed: ${(e as Error).message}` };
  }
  if (res.status !== 200 || !res.body) return { kind: 'refused', problem: await readProblem(res) };
  const parts: Blob[] = [];
  let buffer = new Uint8Array(BLOB_PART_BYTES);
  let filled = 0;
  let total = 0;
  const reader = res.body.pipeThrough(decryptStream(req.contentKey)).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > req.size) return { kind: 'error', message: 'the file is longer than its metadata says' };
      let v = value;
      while (v.length > 0) {
        const n = Math.min(v.length, buffer.length - filled);
        buffer.set(v.subarray(0, n), filled);
        filled += n;
        v = v.subarray(n);
        if (filled === buffer.length) {
          parts.push(new Blob([buffer]));
          buffer = new Uint8Array(BLOB_PART_BYTES);
          filled = 0;
        }
      }
      req.onProgress(total);
    }
  } catch (e) {
    const message =
      e instanceof EceError ? `the file did not decrypt: ${e.message}` : `the download failed: ${(e as Error).message}`;
    return { kind: 'error', message };
  }
  if (total !== req.size) return { kind: 'error', message: 'the file is shorter than its metadata says' };
  if (filled > 0) parts.push(new Blob([buffer.subarray(0, filled)]));
  const url = URL.createObjectURL(new Blob(parts, { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = req.name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // The download manager has the Blob by then; the page need not keep it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { kind: 'done' };
}
