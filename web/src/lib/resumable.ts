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

  let reader: ReadableStreamDefaultReader<Uint8Array> = first.body.getReader();
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
    reader = res.body.getReader();
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let step: ReadableStreamReadResult<Uint8Array>;
        try {
          step = await reader.read();
        } catch (e) {
          await reopen(e);
          continue;
        }
        if (step.done) {
          // A body that ends early without an error is a cut too (a proxy closing cleanly).
          if (Number.isSafeInteger(total) && received < total) {
            await reopen(new ResumeError(`the download ended after ${received} of ${total} bytes`));
            continue;
          }
          controller.close();
          return;
        }
        received += step.value.length;
        controller.enqueue(step.value);
        return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: 200, headers: first.headers });
}
