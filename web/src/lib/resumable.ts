// A download body that survives a cut connection: when the body fails mid-way, it asks again
// for the rest (Range from the byte it reached, If-Range with the first answer's ETag, so a
// changed file is never spliced onto the old one) and carries on, a bounded number of times.

export const MAX_RESUMES = 5;
export const RESUME_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

export interface ResumableOptions {
  fetch?: typeof fetch;
  init?: RequestInit;
  maxResumes?: number;
  delaysMs?: number[];
}

// The chunk size for readers of the body that bring no buffer of their own.
export const AUTO_CHUNK_BYTES = 64 * 1024;

export class ResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeError';
  }
}

// Fetches `url`. A response other than 200 is returned as it is (the caller reads its
// problem); a 200's body is replaced by one that resumes after a cut.
export async function fetchResumable(url: string, options: ResumableOptions = {}): Promise<Response> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const init = options.init ?? {};
  const maxResumes = options.maxResumes ?? MAX_RESUMES;
  const delays = options.delaysMs ?? RESUME_DELAYS_MS;
  const first = await doFetch(url, init);
  if (first.status !== 200 || !first.body) return first;
  const etag = first.headers.get('ETag');
  const total = Number(first.headers.get('Content-Length') ?? NaN);

  let source = new ByteSource(first.body);
  let received = 0;
  let resumes = 0;

  const reopen = async (cause: unknown): Promise<void> => {
    // Without a validator or a known length, resuming could splice two different bodies.
    if (!etag || !Number.isSafeInteger(total) || resumes >= maxResumes) throw cause;
    await new Promise((r) => setTimeout(r, delays[Math.min(resumes, delays.length - 1)] ?? 0));
    resumes++;
    const headers = new Headers(init.headers);
    headers.set('Range', `bytes=${received}-`);
    headers.set('If-Range', etag);
    let res: Response;
    try {
      res = await doFetch(url, { ...init, headers });
    } catch (e) {
      return reopen(e);
    }
    const range = res.headers.get('Content-Range') ?? '';
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
    if (res.status !== 206 || !res.body || !m || Number(m[1]) !== received || Number(m[3]) !== total) {
      await res.body?.cancel();
      throw new ResumeError(
        res.status === 200 ? 'the file changed on the server during the download' : `the download could not be resumed (HTTP ${res.status})`,
      );
    }
    source = new ByteSource(res.body);
  };

  // A byte stream: a reader in BYOB mode gets the bytes in its own buffer, so a download
  // allocates no buffer per network chunk (garbage that made the service worker's memory
  // climb until the next collection). Default readers get chunks of AUTO_CHUNK_BYTES.
  const body = new ReadableStream({
    type: 'bytes',
    autoAllocateChunkSize: AUTO_CHUNK_BYTES,
    async pull(controller) {
      const request = controller.byobRequest!; // always there: autoAllocateChunkSize
      const asked = request.view!;
      const bufferBytes = asked.buffer.byteLength;
      const offset = asked.byteOffset;
      const length = asked.byteLength;
      let target = new Uint8Array(asked.buffer as ArrayBuffer, offset, length);
      for (;;) {
        let step: { done: boolean; value: Uint8Array<ArrayBuffer> | undefined };
        try {
          step = await source.read(target);
        } catch (e) {
          // A BYOB read that failed took the buffer with it: answer with a new one.
          if (target.buffer.byteLength === 0) target = new Uint8Array(new ArrayBuffer(bufferBytes), offset, length);
          await reopen(e);
          continue;
        }
        const filled = step.value ?? new Uint8Array(new ArrayBuffer(bufferBytes), offset, 0);
        if (step.done) {
          // A body that ends early without an error is a cut too (a proxy closing cleanly).
          if (Number.isSafeInteger(total) && received < total) {
            target = new Uint8Array(filled.buffer, offset, length);
            await reopen(new ResumeError(`the download ended after ${received} of ${total} bytes`));
            continue;
          }
          controller.close();
          request.respondWithNewView(new Uint8Array(filled.buffer, offset, 0));
          return;
        }
        received += filled.length;
        request.respondWithNewView(filled);
        return;
      }
    },
    cancel(reason) {
      return source.cancel(reason);
    },
  });
  return new Response(body, { status: 200, headers: first.headers });
}

// Reads a network body into buffers the caller provides: with a BYOB reader where the body is
// a byte stream (browsers' fetch bodies are), so no buffer is allocated per chunk; otherwise
// by copying its chunks. Like a BYOB read, read() may hand back the bytes in a new view of
// the target's (transferred) buffer, at the same offset.
class ByteSource {
  private byob: ReadableStreamBYOBReader | null = null;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private rest: Uint8Array | null = null; // what a copied chunk had beyond the last target

  constructor(body: ReadableStream<Uint8Array>) {
    try {
      this.byob = body.getReader({ mode: 'byob' });
    } catch {
      this.reader = body.getReader();
    }
  }

  async read(target: Uint8Array<ArrayBuffer>): Promise<{ done: boolean; value: Uint8Array<ArrayBuffer> | undefined }> {
    if (this.byob) return this.byob.read(target);
    if (!this.rest || this.rest.length === 0) {
      const step = await this.reader!.read();
      if (step.done) return { done: true, value: target.subarray(0, 0) };
      this.rest = step.value;
    }
    const n = Math.min(this.rest.length, target.length);
    target.set(this.rest.subarray(0, n));
    this.rest = this.rest.subarray(n);
    return { done: false, value: target.subarray(0, n) };
  }

  cancel(reason: unknown): Promise<void> {
    return this.byob ? this.byob.cancel(reason) : this.reader!.cancel(reason);
  }
}
