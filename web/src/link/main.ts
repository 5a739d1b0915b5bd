// The link page /f/<id>#<secret>: reads the secret from the fragment (which the browser never
// sends), decrypts the file's name and size, then downloads and decrypts the file as a stream.
import '../styles.css';
import { Layout } from '../crypto/ece.js';
import { deriveFileKeys, secretFromText, type FileKeys } from '../crypto/keys.js';
import { MetadataError, decryptMetadata, type FileMetadata } from '../crypto/metadata.js';
import { safeFileName } from '../lib/filename.js';
import { RateMeter, formatBytes, formatDate, formatSat } from '../lib/format.js';
import { ApiError, api, apiJson, apiMessage } from '../lib/api.js';
import { el } from '../lib/dom.js';
import { rememberReturn, setupNav } from '../lib/nav.js';
import { linkProblemMessage, readProblem, type Problem } from '../lib/problem.js';
import type { Session } from '../lib/session.js';
import { prepareWorker, saveViaBlob, saveViaWorker, type SaveOutcome } from './save.js';

const FILE_ID = /^[A-Za-z0-9_-]{22}$/;

const statusEl = el<HTMLParagraphElement>('status');
const errorEl = el<HTMLParagraphElement>('error');
const fileEl = el<HTMLElement>('file');
const nameEl = el<HTMLHeadingElement>('file-name');
const sizeEl = el<HTMLElement>('file-size');
const typeEl = el<HTMLElement>('file-type');
const limitsEl = el<HTMLElement>('file-limits');
const priceEl = el<HTMLParagraphElement>('price');
const button = el<HTMLButtonElement>('download');
const progressBox = el<HTMLElement>('progress');
const bar = el<HTMLProgressElement>('progress-bar');
const progressText = el<HTMLParagraphElement>('progress-text');
const balanceEl = el<HTMLParagraphElement>('balance');
const loginToPay = el<HTMLAnchorElement>('login-to-pay');
const shareBox = el<HTMLElement>('share');
const sessionReady: Promise<Session | null> = setupNav();

function showStatus(text: string): void {
  statusEl.textContent = text;
}

function showError(text: string): void {
  errorEl.textContent = text;
  errorEl.hidden = false;
  statusEl.textContent = '';
}

interface FileState {
  id: string;
  size_bytes: number;
  meta: string;
  price_msat: number;
  expires: number | null;
  max_downloads: number | null;
  downloads: number;
}

function parseState(body: unknown): FileState | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  if (typeof b.size_bytes !== 'number' || typeof b.meta !== 'string') return null;
  return {
    id: String(b.id ?? ''),
    size_bytes: b.size_bytes,
    meta: b.meta,
    price_msat: typeof b.price_msat === 'number' ? b.price_msat : 0,
    expires: typeof b.expires === 'number' ? b.expires : null,
    max_downloads: typeof b.max_downloads === 'number' ? b.max_downloads : null,
    downloads: typeof b.downloads === 'number' ? b.downloads : 0,
  };
}

function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function priceMessage(msat: number): string {
  return `This file costs ${formatSat(msat)}. Paying moves it from your satload wallet to the person who shared it.`;
}

function refusalMessage(p: Problem): string {
  if (p.status === 402) return `${priceMessage(p.priceMsat ?? 0)} Pay first (log in, then press Pay and download).`;
  return linkProblemMessage(p);
}

// What the page says when a payment is refused (docs/HTTP.md, POST /api/v1/pay).
function payMessage(p: Problem): string {
  const detail = p.detail ? ` (${p.detail})` : '';
  if (p.slug === 'insufficient-funds') return `Your balance is too low to pay for this file${detail}. Add funds on your Wallet page, then try again.`;
  if (p.slug === 'price-above-maximum') return `The price changed while you were paying${detail}; reload to see the new price.`;
  if (p.slug === 'wallet-frozen') return 'Your wallet is frozen by the operator: you cannot pay for now.';
  if (p.status === 401) return 'Your session has expired: log in again to pay.';
  if (p.status === 409) return `The payment could not be made${detail}; reload the page and try again.`;
  if (p.status === 410) return linkProblemMessage(p);
  if (p.status === 503) return 'The wallet is unavailable for a moment; try again (you will not be charged twice).';
  return `The payment failed (HTTP ${p.status}${p.detail ? `: ${p.detail}` : ''}).`;
}

// The invoice of a 402's `WWW-Authenticate: L402 macaroon="…", invoice="…"`.
export function invoiceOf(header: string | null): string | null {
  return header ? (/invoice="([^"]+)"/.exec(header)?.[1] ?? null) : null;
}

// The 402 flow: ask for the file; a payer with a live grant or the owner gets it at once;
// otherwise pay the invoice of the challenge with the session, after which the session alone
// unlocks the download. Returns null when the download may start, or the message to show.
async function payIfNeeded(fileId: string, priceMsat: number): Promise<string | null> {
  let head: Response;
  try {
    head = await fetch(`/d/${fileId}`, { method: 'HEAD', cache: 'no-store', credentials: 'same-origin', referrerPolicy: 'no-referrer' });
  } catch {
    return 'The server cannot be reached; check your connection and try again.';
  }
  if (head.ok) return null;
  if (head.status !== 402) return refusalMessage({ status: head.status, slug: '', title: '', detail: '' });
  const invoice = invoiceOf(head.headers.get('WWW-Authenticate'));
  if (!invoice) return 'The server asked for a payment without an invoice; try again later.';
  showStatus(`Paying ${formatSat(priceMsat)}…`);
  try {
    await apiJson('/api/v1/pay', { method: 'POST', json: { invoice, max_msat: priceMsat } });
  } catch (e) {
    return e instanceof ApiError ? payMessage(e.problem) : apiMessage(e);
  }
  return null;
}

async function showBalance(): Promise<void> {
  try {
    const w = await apiJson<{ available_msat: number }>('/api/v1/wallet');
    balanceEl.textContent = `Your balance: ${formatSat(w.available_msat)} available.`;
    balanceEl.hidden = false;
  } catch {
    // the balance is a convenience; paying says what is wrong
  }
}

async function setupShare(fileId: string, fragment: string): Promise<void> {
  shareBox.hidden = false;
  el<HTMLButtonElement>('copy-referral').addEventListener('click', () => {
    void (async () => {
      try {
        const { code } = await apiJson<{ code: string }>('/api/v1/wallet/referral');
        const link = `${location.origin}/f/${fileId}?r=${encodeURIComponent(code)}#${fragment}`;
        await navigator.clipboard.writeText(link);
        showStatus('Link with your referral code copied.');
      } catch (e) {
        showError(e instanceof ApiError ? apiMessage(e) : 'Copying is not allowed here.');
      }
    })();
  });
}

function setupReport(fileId: string): void {
  const form = el<HTMLFormElement>('report-form');
  const status = el<HTMLParagraphElement>('report-status');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body: Record<string, string> = {
      file_id: fileId, // never the link: its fragment is the key
      category: el<HTMLSelectElement>('report-category').value,
      reason: el<HTMLTextAreaElement>('report-reason').value,
    };
    const contact = el<HTMLInputElement>('report-contact').value.trim();
    if (contact) body.contact = contact;
    el<HTMLButtonElement>('report-submit').disabled = true;
    void apiJson<{ reference: string }>('/api/v1/reports', { method: 'POST', json: body }).then(
      (r) => {
        status.textContent = `Thank you: the report is filed (reference ${r.reference}).`;
      },
      (err: unknown) => {
        el<HTMLButtonElement>('report-submit').disabled = false;
        status.textContent = err instanceof ApiError && err.problem.status === 429
          ? 'Too many reports from your address; try again later.'
          : `The report was not filed: ${apiMessage(err)}`;
      },
    );
  });
}

async function main(): Promise<void> {
  const m = /^\/f\/([^/]+)$/.exec(location.pathname);
  const fileId = m?.[1] ?? '';
  if (!FILE_ID.test(fileId)) return showError('This is not a satload link: the file id in its address is malformed.');
  setupReport(fileId);
  const fragment = location.hash.slice(1);
  const secret = secretFromText(fragment);
  if (!secret) {
    return showError(
      'This link is incomplete: the key after the # is missing or damaged. Ask for the whole link (it ends with #…).',
    );
  }
  let keys: FileKeys;
  try {
    keys = await deriveFileKeys(secret);
  } finally {
    secret.fill(0);
  }
  // Ready by the time the button is pressed; failing here only means the Blob fallback.
  void prepareWorker();

  showStatus('Looking up the file…');
  let res: Response;
  try {
    res = await api(`/api/v1/files/${fileId}`);
  } catch {
    return showError('The server cannot be reached; check your connection and reload.');
  }
  if (!res.ok) return showError(refusalMessage(await readProblem(res)));
  const state = parseState(await res.json().catch(() => null));
  if (!state) return showError('The server answered something unexpected; try again later.');

  let meta: FileMetadata;
  try {
    meta = await decryptMetadata(state.meta, keys.metadata);
  } catch (e) {
    if (e instanceof MetadataError && e.code === 'wrong_key') {
      return showError("The key in this link does not open this file: the part after # is wrong. Ask for the link again.");
    }
    return showError(`This file's details cannot be read: ${(e as Error).message}.`);
  }
  // The server's size must be what the metadata implies for satload's layout (64 KiB records);
  // anything else is a damaged or foreign upload, which the download would fail on anyway.
  const expected = new Layout().ciphertextSize(meta.size);
  if (expected !== state.size_bytes) {
    return showError("This file's stored size does not match its encrypted details: it is damaged and cannot be downloaded.");
  }

  const name = safeFileName(meta.name);
  document.title = `${name} — satload`;
  nameEl.textContent = name;
  sizeEl.textContent = formatBytes(meta.size);
  typeEl.textContent = meta.type || 'unknown';
  const limits: string[] = [];
  if (state.expires !== null) limits.push(`link expires ${formatDate(state.expires)}`);
  if (state.max_downloads !== null) {
    const left = Math.max(0, state.max_downloads - state.downloads);
    limits.push(`${left} download${left === 1 ? '' : 's'} left`);
  }
  limitsEl.textContent = limits.length ? limits.join(' · ') : 'no expiry, no download limit';
  fileEl.hidden = false;
  showStatus('');
  // The price is known now; whether this visitor may pay waits for the session check.
  if (state.price_msat > 0) {
    priceEl.textContent = priceMessage(state.price_msat);
    priceEl.hidden = false;
  }

  const session = await sessionReady;
  if (session) void setupShare(fileId, fragment);
  if (state.price_msat > 0) {
    if (!session) {
      button.hidden = true;
      loginToPay.hidden = false;
      // Back here after logging in; the key stays in this tab (never in a URL).
      loginToPay.addEventListener('click', () => rememberReturn());
      return;
    }
    // The owner, and a payer whose grant is live, download without paying again.
    const head = await fetch(`/d/${fileId}`, { method: 'HEAD', cache: 'no-store', credentials: 'same-origin', referrerPolicy: 'no-referrer' }).catch(() => null);
    if (head?.ok) {
      priceEl.textContent = `${priceMessage(state.price_msat)} It is yours, or you have paid for it: downloading is free for now.`;
    } else {
      void showBalance();
      button.textContent = `Pay ${formatSat(state.price_msat)} and download`;
    }
  }

  button.addEventListener('click', () => {
    void (async () => {
      if (state.price_msat > 0) {
        button.disabled = true;
        errorEl.hidden = true;
        const refused = await payIfNeeded(fileId, state.price_msat);
        if (refused) {
          button.disabled = false;
          void showBalance();
          return showError(refused);
        }
        void showBalance();
      }
      await download(fileId, keys, meta, name);
    })();
  });
  button.disabled = false;
  button.focus();
}

async function download(fileId: string, keys: FileKeys, meta: FileMetadata, name: string): Promise<void> {
  button.disabled = true;
  errorEl.hidden = true;
  progressBox.hidden = false;
  bar.max = Math.max(1, meta.size);
  bar.value = 0;
  const meter = new RateMeter();
  meter.sample(0);
  const onProgress = (bytes: number) => {
    meter.sample(bytes);
    bar.value = bytes;
    progressText.textContent = meter.describe(bytes, meta.size);
  };
  progressText.textContent = 'Starting…';
  showStatus('Downloading and decrypting…');
  const request = { fileId, contentKey: keys.content, name, size: meta.size, onProgress };
  let outcome: SaveOutcome = await saveViaWorker(request);
  if (outcome.kind === 'no-worker') {
    meter.reset();
    meter.sample(0);
    outcome = await saveViaBlob(request);
  }
  switch (outcome.kind) {
    case 'done':
      bar.value = bar.max;
      progressText.textContent = `${formatBytes(meta.size)} decrypted and verified`;
      showStatus(`Saved ${name}: every part was decrypted and authenticated.`);
      button.textContent = 'Download again';
      break;
    case 'refused':
      progressBox.hidden = true;
      showError(refusalMessage(outcome.problem));
      break;
    case 'error':
    case 'no-worker':
      progressBox.hidden = true;
      showError(outcome.kind === 'error' ? sentence(outcome.message) : 'The download failed: this browser has no way to save it.');
      break;
  }
  button.disabled = false;
}

void main().catch((e: unknown) => showError(`Something went wrong: ${(e as Error).message}`));
