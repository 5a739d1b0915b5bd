// The page's side of a login: the session itself is the server's HttpOnly cookie; the master
// key (which wraps file secrets) lives in this browser's IndexedDB as a non-extractable
// CryptoKey, so scripts can use it but never read it. Logging out clears both. The login and
// registration run Argon2id here (crypto/account.ts): the password never leaves the page.
import { b64urlDecode, b64urlEncode } from '../crypto/base64url.js';
import {
  ACCOUNT_SALT_BYTES,
  MASTER_KEY_AD,
  derivePasswordKeys,
  importMasterKey,
  newAccount,
  unwrapBytes,
} from '../crypto/account.js';
import { wipe } from '../crypto/ece.js';
import { ApiError, apiJson } from './api.js';

const DB_NAME = 'satload';
const STORE = 'session';
const RECORD = 'current';

export interface Session {
  username: string;
  master: CryptoKey;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB is not available'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB failed'));
    });
  } finally {
    db.close();
  }
}

async function stored(): Promise<Session | null> {
  try {
    const s = (await withStore('readonly', (st) => st.get(RECORD))) as Session | undefined;
    return s && typeof s.username === 'string' && s.master instanceof CryptoKey ? s : null;
  } catch {
    return null;
  }
}

async function store(session: Session): Promise<void> {
  await withStore('readwrite', (st) => st.put(session, RECORD));
}

async function forget(): Promise<void> {
  try {
    await withStore('readwrite', (st) => st.delete(RECORD));
  } catch {
    // nothing stored
  }
}

let current: Promise<Session | null> | null = null;

// The logged-in session, checked with the server once per page: a cookie without a key here
// (another browser's data cleared) and a key without a live cookie are both logged out.
export function currentSession(): Promise<Session | null> {
  current ??= (async () => {
    const local = await stored();
    let username: string | null = null;
    try {
      const me = await apiJson<{ username: string }>('/api/v1/account');
      username = me.username;
    } catch (e) {
      if (!(e instanceof ApiError) || e.problem.status !== 401) throw e;
    }
    if (username !== null && local && local.username === username) return local;
    if (username !== null) await logout(); // the server's session without the key: end it
    else if (local) await forget();
    return null;
  })().catch(() => null);
  return current;
}

export class LoginError extends Error {}

function loginMessage(e: unknown): string {
  if (e instanceof ApiError) {
    const p = e.problem;
    if (p.status === 401) return 'Wrong username or password.';
    if (p.status === 409) return 'This username is taken; choose another.';
    if (p.status === 429) return `Too many failed attempts for this username; try again later${p.detail ? ` (${p.detail})` : ''}.`;
    if (p.status === 400) return `The server refused this: ${p.detail || 'bad request'}.`;
    if (p.status === 0) return 'The server cannot be reached; check your connection and try again.';
    return `The server could not log you in (HTTP ${p.status}${p.detail ? `: ${p.detail}` : ''}).`;
  }
  return (e as Error).message;
}

async function keep(username: string, masterBytes: Uint8Array): Promise<Session> {
  const session = { username, master: await importMasterKey(masterBytes) };
  wipe(masterBytes);
  await store(session);
  current = Promise.resolve(session);
  return session;
}

export async function login(username: string, password: string): Promise<Session> {
  try {
    const { salt } = await apiJson<{ salt: string }>('/api/v1/account/salt', { method: 'POST', json: { username } });
    const saltBytes = b64urlDecode(salt);
    if (!saltBytes || saltBytes.length !== ACCOUNT_SALT_BYTES) throw new LoginError('The server sent a malformed salt.');
    const keys = await derivePasswordKeys(password, saltBytes);
    const auth_key = b64urlEncode(keys.authKey);
    wipe(keys.authKey);
    let answer: { username: string; master_by_password: string };
    try {
      answer = await apiJson('/api/v1/account/login', { method: 'POST', json: { username, auth_key, session: 'cookie' } });
    } catch (e) {
      wipe(keys.passwordKey);
      throw e;
    }
    const wrapped = b64urlDecode(answer.master_by_password);
    let master: Uint8Array;
    try {
      if (!wrapped) throw new Error('malformed');
      master = await unwrapBytes(keys.passwordKey, MASTER_KEY_AD, wrapped);
    } catch {
      await logout();
      throw new LoginError('Your master key did not decrypt with this password: the account data is damaged.');
    } finally {
      wipe(keys.passwordKey);
    }
    return await keep(answer.username, master);
  } catch (e) {
    throw e instanceof LoginError ? e : new LoginError(loginMessage(e));
  }
}

// Registers and logs in (one request: the session comes back as the cookie). The recovery key
// is returned for showing once; nothing keeps it.
export async function register(username: string, password: string): Promise<{ session: Session; recoveryText: string }> {
  try {
    const account = await newAccount(password);
    let answer: { username: string };
    try {
      answer = await apiJson('/api/v1/account/register', {
        method: 'POST',
        json: { username, ...account.body, session: 'cookie' },
      });
    } catch (e) {
      wipe(account.master);
      throw e;
    }
    return { session: await keep(answer.username, account.master), recoveryText: account.recoveryText };
  } catch (e) {
    throw e instanceof LoginError ? e : new LoginError(loginMessage(e));
  }
}

export async function logout(): Promise<void> {
  try {
    await apiJson('/api/v1/account/logout', { method: 'POST' });
  } catch {
    // already logged out on the server: the cookie is cleared by its 401 answer
  }
  await forget();
  current = Promise.resolve(null);
}
