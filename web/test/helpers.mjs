// Shared helpers of the web app's node tests: the compiled modules (tsconfig.test.json writes
// them under node_modules/.test-build, which git ignores) and small byte utilities.
import { createRequire } from 'node:module';

const built = new URL('../node_modules/.test-build/', import.meta.url);
export const ece = await import(new URL('crypto/ece.js', built));
export const keys = await import(new URL('crypto/keys.js', built));
export const account = await import(new URL('crypto/account.js', built));
export const metadata = await import(new URL('crypto/metadata.js', built));
export const source = await import(new URL('crypto/source.js', built));
export const resumable = await import(new URL('lib/resumable.js', built));
export const filename = await import(new URL('lib/filename.js', built));
export const format = await import(new URL('lib/format.js', built));
export const problem = await import(new URL('lib/problem.js', built));

export const httpEce = createRequire(import.meta.url)('http_ece');

export const b64u = (text) => new Uint8Array(Buffer.from(text, 'base64url'));
export const toB64u = (bytes) => Buffer.from(bytes).toString('base64url');
export const hex = (bytes) => Buffer.from(bytes).toString('hex');

// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
export function pseudoRandom(n, seed = 1) {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function fixedSalt(seed = 0xa0) {
  return Uint8Array.from({ length: 16 }, (_, i) => (seed + i) & 0xff);
}

// Splits `bytes` into chunks of pseudo-random sizes between 1 and max.
export function randomChunks(bytes, max, seed = 7) {
  const sizes = pseudoRandom(bytes.length, seed);
  const out = [];
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = 1 + ((sizes[k++] * 257 + sizes[k++ % sizes.length]) % max);
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

export async function collect(stream) {
  const parts = [];
  for await (const p of stream) parts.push(p);
  return ece.concat(parts);
}

export function streamOf(chunks) {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}
