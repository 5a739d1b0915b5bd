// Messages between the link page and the service worker that streams a decrypted download
// to the browser's download manager (src/sw/sw.ts, src/link/save.ts).
import type { Problem } from './problem.js';

// The page navigates a hidden frame to SAVE_PATH_PREFIX + token; the worker answers it. The
// server never sees such a request while the worker is active (if it did: a plain 404).
export const SAVE_PATH_PREFIX = '/_save/';

export interface SaveJob {
  type: 'save';
  token: string; // random, single use
  fileId: string;
  contentKey: CryptoKey; // the content IKM, non-extractable
  name: string; // already reduced to a safe name
  size: number; // plaintext bytes (from the decrypted metadata)
}

export type SaveEvent =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'progress'; plainBytes: number }
  | { type: 'done'; plainBytes: number }
  | { type: 'refused'; problem: Problem }
  | { type: 'error'; message: string };

export interface PingMessage {
  type: 'ping';
}
