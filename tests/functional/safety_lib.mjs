// Helpers of the trust-and-safety functional tests (safety*.test.mjs): the admin API with an
// optional Satload-Admin-Actor header, a JSON POST, and a link's status.
import { readFileSync } from 'node:fs';
import path from 'node:path';

// `call(method, route, body)` on /api/v1/admin/ of the server in `dataDir`: {status, body}.
export function admin(dataDir, actor) {
  const file = JSON.parse(readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
  return async (method, route, body) => {
    const headers = { Authorization: `Bearer ${file.token}`, 'Content-Type': 'application/json' };
    if (actor !== undefined) headers['Satload-Admin-Actor'] = actor;
    const res = await fetch(`${file.url}/api/v1/admin/${route}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

export async function post(url, route, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${url}${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

// GET /d/<id>: the status, and the problem body of a refusal.
export async function status(url, id) {
  const res = await fetch(`${url}/d/${id}`);
  const text = await res.text();
  return { status: res.status, body: res.status === 200 ? null : JSON.parse(text) };
}
