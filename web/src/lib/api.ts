// Requests to the JSON API from the pages. The session travels in the HttpOnly cookie the
// server set at login (page scripts never see the token); every state-changing request carries
// the CSRF header the server requires with that cookie (docs/DESIGN.md "sessions").
import { readProblem, type Problem } from './problem.js';

export const CSRF_HEADER = 'X-Satload-Csrf';

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
  }
}

export interface ApiOptions {
  method?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

export function csrfHeaders(): Record<string, string> {
  return { [CSRF_HEADER]: '1' };
}

export async function api(path: string, { method = 'GET', json, headers: extra }: ApiOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...extra };
  if (method !== 'GET' && method !== 'HEAD') Object.assign(headers, csrfHeaders());
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(path, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
    credentials: 'same-origin',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
  });
}

// The answer's JSON object (null for 204), or an ApiError with the problem.
export async function apiJson<T = Record<string, unknown>>(path: string, options: ApiOptions = {}): Promise<T> {
  let res: Response;
  try {
    res = await api(path, options);
  } catch {
    throw new ApiError({ status: 0, slug: 'network', title: '', detail: 'the server cannot be reached' });
  }
  if (!res.ok) throw new ApiError(await readProblem(res));
  if (res.status === 204) return null as T;
  return (await res.json()) as T;
}

// One sentence for an error of the account, wallet and file APIs.
export function apiMessage(e: unknown): string {
  if (!(e instanceof ApiError)) return `Something went wrong: ${(e as Error).message}.`;
  const p = e.problem;
  const detail = p.detail ? ` (${p.detail})` : '';
  if (p.status === 0) return 'The server cannot be reached; check your connection and try again.';
  if (p.status === 401) return 'You are not logged in (or your session expired): log in again.';
  if (p.status === 403) return `This is not allowed${detail}.`;
  if (p.status === 404) return `Not found${detail}.`;
  if (p.status === 429) return `Too many attempts; try again later${detail}.`;
  if (p.status >= 500) return `The server could not do this${detail}; try again later.`;
  return `The server refused this${detail}.`;
}
