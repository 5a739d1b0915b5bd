// The link page /f/<id>#<secret>: reads the secret from the fragment (which the browser never
// sends), decrypts the file's name and size, then downloads and decrypts the file as a stream.
import '../styles.css';
import { Layout } from '../crypto/ece.js';
import { deriveFileKeys, secretFromText, type FileKeys } from '../crypto/keys.js';
import { MetadataError, decryptMetadata, type FileMetadata } from '../crypto/metadata.js';
import { safeFileName } from '../lib/filename.js';
import { RateMeter, formatBytes, formatDate, formatSat } from '../lib/format.js';
import { linkProblemMessage, readProblem, type Problem } from '../lib/problem.js';
import { prepareWorker, saveViaBlob, saveViaWorker, type SaveOutcome } from './save.js';

const FILE_ID = /^[A-Za-z0-9_-]{22}$/;

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
}

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
  // Paying in the page comes with logging in (issue 8); the CLI pays already.
  return `This file costs ${formatSat(msat)} — log in to pay. Paying in the browser is coming; until then, satload get '<this link>' --max-price ${formatSat(msat).replace(' ', '')} pays and downloads it.`;
}

function refusalMessage(p: Problem): string {
  if (p.status === 402) return priceMessage(p.priceMsat ?? 0);
  return linkProblemMessage(p);
}

async function main(): Promise<void> {
  const m = /^\/f\/([^/]+)$/.exec(location.pathname);
  const fileId = m?.[1] ?? '';
  if (!FILE_ID.test(fileId)) return showError('This is not a satload link: the file id in its address is malformed.');
  const secret = secretFromText(location.hash.slice(1));
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
    res = await fetch(`/api/v1/files/${fileId}`, { cache: 'no-store', referrerPolicy: 'no-referrer' });
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

  if (state.price_msat > 0) {
    priceEl.textContent = priceMessage(state.price_msat);
    priceEl.hidden = false;
    button.disabled = true;
    button.hidden = true;
    return;
  }

  button.addEventListener('click', () => void download(fileId, keys, meta, name));
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
