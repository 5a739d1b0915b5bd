// The page's side of a login: the session itself is the server's HttpOnly cookie; the master
// key (which wraps file secrets) lives in this browser's IndexedDB as a non-extractable
// CryptoKey, so scripts can use it but never read it. Logging out clears both. The login,
// registration, password change and recovery run Argon2id here (crypto/account.ts), exactly as
// the CLI (src/client/account.cpp) does: the password and the recovery key never leave the page.
import { b64urlDecode, b64urlEncode } from '../crypto/base64url.js';
import {
  ACCOUNT_KEY_BYTES,
  ACCOUNT_SALT_BYTES,
  MASTER_KEY_AD,
  MAX_PASSWORD_BYTES,
  PasswordTooLongError,
  derivePasswordKeys,
  importMasterKey,
  newAccount,
  randomBytes,
  recoveryAuthKey,
  recoveryKeyToText,
  recoveryWrapKey,
  unwrapBytes,
  wrapBytes,
  type PasswordKeys,
} from '../crypto/account.js';
import { wipe } from '../crypto/ece.js';
import { ApiError, api, apiJson, type ApiOptions } from './api.js';
import { readProblem, type Problem } from './problem.js';

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

// A refused account request and, for a throttled one (429), the wait its Retry-After names.
export class AccountApiError extends ApiError {
  constructor(
    problem: Problem,
    readonly retryAfterS: number | null,
  ) {
    super(problem);
  }
}

// apiJson, keeping Retry-After: the page tells a throttled user how long to wait.
async function accountJson<T>(path: string, options: ApiOptions): Promise<T> {
  const res = await api(path, options).catch(() => null);
  if (!res) throw new AccountApiError({ status: 0, slug: 'network', title: '', detail: 'the server cannot be reached' }, null);
  if (!res.ok) {
    const retry = Number(res.headers.get('Retry-After') ?? '');
    throw new AccountApiError(await readProblem(res), Number.isInteger(retry) && retry > 0 ? retry : null);
  }
  return (res.status === 204 ? null : await res.json()) as T;
}

// The salt of `username` and the password's keys under it (Argon2id here).
async function keysFor(username: string, password: string): Promise<PasswordKeys> {
  const { salt } = await apiJson<{ salt: string }>('/api/v1/account/salt', { method: 'POST', json: { username } });
  const saltBytes = b64urlDecode(salt);
  if (!saltBytes || saltBytes.length !== ACCOUNT_SALT_BYTES) throw new LoginError('The server sent a malformed salt.');
  return derivePasswordKeys(password, saltBytes);
}

interface LoginAnswer {
  username: string;
  master_by_password: string;
}

// The master key of a login answer (a login's or a completed recovery's), opened with the
// password key; one that does not open ends the session the answer's cookie started.
async function masterOf(answer: LoginAnswer, passwordKey: Uint8Array): Promise<Uint8Array> {
  const wrapped = b64urlDecode(answer.master_by_password);
  try {
    if (!wrapped) throw new Error('malformed');
    return await unwrapBytes(passwordKey, MASTER_KEY_AD, wrapped);
  } catch {
    await logout();
    throw new LoginError('Your master key did not decrypt with this password: the account data is damaged.');
  } finally {
    wipe(passwordKey);
  }
}

// Logs in with `keys` (the session arrives as the cookie) and opens the master key. The
// password key is wiped; the auth key is the caller's to wipe.
async function unlock(username: string, keys: PasswordKeys): Promise<{ username: string; master: Uint8Array }> {
  let answer: LoginAnswer;
  try {
    answer = await accountJson('/api/v1/account/login', {
      method: 'POST',
      json: { username, auth_key: b64urlEncode(keys.authKey), session: 'cookie' },
    });
  } catch (e) {
    wipe(keys.passwordKey);
    throw e;
  }
  return { username: answer.username, master: await masterOf(answer, keys.passwordKey) };
}

export async function login(username: string, password: string): Promise<Session> {
  try {
    const keys = await keysFor(username, password);
    let unlocked: { username: string; master: Uint8Array };
    try {
      unlocked = await unlock(username, keys);
    } finally {
      wipe(keys.authKey);
    }
    return await keep(unlocked.username, unlocked.master);
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

// ---- Password change and recovery: the CLI's `account passwd` and `account recover`. ----

function waitText(seconds: number | null): string {
  if (seconds === null) return 'later';
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? '' : 's'}`;
  return `in about ${Math.ceil(seconds / 60)} minutes`;
}

// The sentence for a refused password change or recovery; `wrong` is what a 401 means here.
function accountMessage(e: unknown, wrong: string): string {
  if (e instanceof LoginError) return e.message;
  if (e instanceof PasswordTooLongError) return `A password is at most ${MAX_PASSWORD_BYTES} bytes; this one is longer.`;
  if (!(e instanceof ApiError)) return `Something went wrong: ${(e as Error).message}.`;
  const p = e.problem;
  const detail = p.detail ? `: ${p.detail}` : '';
  if (p.status === 401) return wrong;
  if (p.status === 429) {
    const wait = e instanceof AccountApiError ? e.retryAfterS : null;
    return `Too many failed attempts for this account: try again ${waitText(wait)}.`;
  }
  if (p.status === 0) return 'The server cannot be reached; check your connection and try again.';
  if (p.status === 403) return `The server does not allow this${detail}.`;
  if (p.status === 400) return `The server refused this${detail}.`;
  return `The server could not do this (HTTP ${p.status}${detail}); try again later.`;
}

// A new password record (the CLI's new_password_members): a fresh salt, its auth key, and
// `master` wrapped by its password key. Returns the keys too, to open the server's answer.
async function newPasswordRecord(
  password: string,
  master: Uint8Array,
): Promise<{ body: Record<string, string>; keys: PasswordKeys }> {
  const salt = randomBytes(ACCOUNT_SALT_BYTES);
  const keys = await derivePasswordKeys(password, salt);
  const body = {
    salt: b64urlEncode(salt),
    auth_key: b64urlEncode(keys.authKey),
    master_by_password: b64urlEncode(await wrapBytes(keys.passwordKey, MASTER_KEY_AD, master)),
  };
  return { body, keys };
}

// Changes the password as `satload account passwd` does: the current password's auth key proves
// it, and the new record wraps the same master key, so every file stays readable; the server
// logs out every other session (API tokens stay). The master key in this browser cannot be read
// (non-extractable), so its bytes come from logging in again with the current password: that
// login's cookie replaces this page's, and the change then ends the old session with the others.
export async function changePassword(currentPassword: string, newPassword: string): Promise<Session> {
  const wrong = 'The current password is wrong.';
  const session = await currentSession();
  if (!session) throw new LoginError('You are not logged in (or your session expired): log in again.');
  let current: PasswordKeys | null = null;
  let master: Uint8Array | null = null;
  let record: { body: Record<string, string>; keys: PasswordKeys } | null = null;
  try {
    current = await keysFor(session.username, currentPassword);
    master = (await unlock(session.username, current)).master;
    record = await newPasswordRecord(newPassword, master);
    await accountJson('/api/v1/account/password', {
      method: 'POST',
      json: { current_auth_key: b64urlEncode(current.authKey), ...record.body },
    });
    const changed = await keep(session.username, master);
    master = null; // keep() wiped it
    return changed;
  } catch (e) {
    throw new LoginError(accountMessage(e, wrong));
  } finally {
    for (const bytes of [current?.authKey, current?.passwordKey, record?.keys.authKey, record?.keys.passwordKey, master]) {
      if (bytes) wipe(bytes);
    }
  }
}

// Crockford's base32 digits, as crypto/account.ts writes the recovery key.
const CROCKFORD_DIGITS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RECOVERY_TEXT_CHARS = 56; // 32 key bytes and a 3-byte checksum, 5 bits a character

// The recovery key from the text the user wrote down (the CLI's recovery_key_from_text): any
// case, the usual misreadings folded in (O as 0, I and L as 1), dashes and spaces ignored, and
// the checksum checked. Null for anything else (a typo).
export async function recoveryKeyFromText(text: string): Promise<Uint8Array | null> {
  if (text.length > 4 * RECOVERY_TEXT_CHARS) return null;
  let digits = '';
  for (const raw of text) {
    if (raw === '-' || raw === ' ') continue;
    const c = raw >= 'a' && raw <= 'z' ? raw.toUpperCase() : raw;
    const folded = c === 'O' ? '0' : c === 'I' || c === 'L' ? '1' : c;
    if (folded.length !== 1 || !CROCKFORD_DIGITS.includes(folded) || digits.length === RECOVERY_TEXT_CHARS) return null;
    digits += folded;
  }
  if (digits.length !== RECOVERY_TEXT_CHARS) return null;
  const payload = new Uint8Array((RECOVERY_TEXT_CHARS * 5) / 8);
  let buffer = 0;
  let bits = 0;
  let out = 0;
  for (const c of digits) {
    buffer = ((buffer << 5) | CROCKFORD_DIGITS.indexOf(c)) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      payload[out++] = (buffer >> bits) & 0xff;
    }
  }
  const key = payload.slice(0, ACCOUNT_KEY_BYTES);
  wipe(payload);
  // The checksum: the key written out again must be these very characters.
  const canonical = (await recoveryKeyToText(key)).split('-').join('');
  if (canonical === digits) return key;
  wipe(key);
  return null;
}

export const NOT_A_RECOVERY_KEY =
  'That is not a recovery key: it has 56 characters in 7 groups of 8 (digits and letters without I, L, O and U); check for typos.';

// Sets a new password with the recovery key and logs in, as `satload account recover` does:
// the recovery auth key proves the key, the master key comes back wrapped by the recovery wrap
// key and is wrapped again by the new password; the server revokes every earlier session and
// API token. The session arrives as the cookie.
export async function recoverAccount(username: string, recoveryText: string, newPassword: string): Promise<Session> {
  const wrong = 'Wrong username or recovery key.';
  const recovery = await recoveryKeyFromText(recoveryText);
  if (!recovery) throw new LoginError(NOT_A_RECOVERY_KEY);
  const wrapKey = await recoveryWrapKey(recovery);
  const authKey = await recoveryAuthKey(recovery);
  wipe(recovery);
  let master: Uint8Array | null = null;
  let record: { body: Record<string, string>; keys: PasswordKeys } | null = null;
  try {
    const recovery_auth_key = b64urlEncode(authKey);
    const begun = await accountJson<{ master_by_recovery: string }>('/api/v1/account/recover/begin', {
      method: 'POST',
      json: { username, recovery_auth_key },
    });
    const wrapped = b64urlDecode(begun.master_by_recovery);
    try {
      if (!wrapped) throw new Error('malformed');
      master = await unwrapBytes(wrapKey, MASTER_KEY_AD, wrapped);
    } catch {
      throw new LoginError('Your master key did not decrypt with this recovery key: the account data is damaged.');
    }
    record = await newPasswordRecord(newPassword, master);
    const answer = await accountJson<LoginAnswer>('/api/v1/account/recover/complete', {
      method: 'POST',
      json: { username, recovery_auth_key, ...record.body, session: 'cookie' },
    });
    const back = await masterOf(answer, record.keys.passwordKey);
    // The server hands back the master key it was given: it must be the one recovered.
    const same = back.length === master.length && back.every((b, i) => b === master?.[i]);
    wipe(back);
    if (!same) {
      await logout();
      throw new LoginError('The server answered another master key than the recovered one; nothing was kept.');
    }
    const session = await keep(answer.username, master);
    master = null; // keep() wiped it
    return session;
  } catch (e) {
    throw new LoginError(accountMessage(e, wrong));
  } finally {
    for (const bytes of [wrapKey, authKey, record?.keys.authKey, record?.keys.passwordKey, master]) {
      if (bytes) wipe(bytes);
    }
  }
}
