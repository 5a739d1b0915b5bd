// Errors of the HTTP API (application/problem+json, docs/HTTP.md) and the sentences the pages
// show for them.

export interface Problem {
  status: number;
  slug: string; // the last segment of the problem type, e.g. "link-expired"; "" if none
  title: string;
  detail: string;
  priceMsat?: number;
  reason?: string; // a 410's "reason" (taken-down, account-suspended)
  category?: string; // a take-down's report category
}

// Reads a problem from a response (any status); tolerates bodies that are not JSON.
export async function readProblem(res: Response): Promise<Problem> {
  let body: Record<string, unknown> = {};
  try {
    const text = await res.text();
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: status alone
  }
  return problemFromBody(res.status, body);
}

export function problemFromBody(status: number, body: Record<string, unknown>): Problem {
  const type = typeof body.type === 'string' ? body.type : '';
  const problem: Problem = {
    status,
    slug: type.slice(type.lastIndexOf('/') + 1),
    title: typeof body.title === 'string' ? body.title : '',
    detail: typeof body.detail === 'string' ? body.detail : '',
  };
  if (typeof body.price_msat === 'number') problem.priceMsat = body.price_msat;
  if (typeof body.reason === 'string') problem.reason = body.reason;
  if (typeof body.category === 'string') problem.category = body.category;
  return problem;
}

// What a link page says when the server will not give the file.
export function linkProblemMessage(p: Problem): string {
  const detail = p.detail ? ` (${p.detail})` : '';
  switch (p.status) {
    case 404:
      return 'There is no file at this link: it was deleted, or the link is mistyped.';
    case 410:
      if (p.reason === 'taken-down') {
        return `This file was taken down after a report${p.category ? ` (${p.category})` : ''}.`;
      }
      if (p.reason === 'account-suspended') return 'This file is unavailable: the account that shared it is suspended.';
      if (p.slug === 'link-revoked') return 'This link was revoked by the person who shared it.';
      if (p.slug === 'link-expired') return `This link has expired${detail}.`;
      if (p.slug === 'download-limit-reached') return `This link has reached its download limit${detail}.`;
      return `This link no longer works${detail}.`;
    case 429:
      return 'The server is busy with too many requests from you; try again in a minute.';
    default:
      if (p.status >= 500) return `The server could not answer (HTTP ${p.status}); try again later.`;
      return `The server refused the request (HTTP ${p.status}${p.detail ? `: ${p.detail}` : ''}).`;
  }
}

// What the upload page says when the server refuses an upload.
export function uploadProblemMessage(p: Problem): string {
  const detail = p.detail ? `: ${p.detail}` : '';
  switch (p.status) {
    case 401:
      return p.slug === 'account-required' && p.detail.includes('price')
        ? 'A price needs an account: log in first.'
        : 'This server only accepts uploads from accounts: log in first (Log in or register, above).';
    case 413:
      return `The file is too large for this server${detail}.`;
    case 429:
      return `Too many uploads from your address; try again later${detail}.`;
    default:
      if (p.status >= 500) return `The server failed (HTTP ${p.status}); resume to try again.`;
      return `The server refused the upload (HTTP ${p.status}${detail}).`;
  }
}
