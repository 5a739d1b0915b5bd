// The upload page /: files picked or dropped are encrypted in the page (a fresh secret each)
// and uploaded with tus, one at a time; each gets its link <origin>/f/<id>#<secret>.
import '../styles.css';
import { Upload, type DetailedError } from 'tus-js-client';
import { buf, newHeader } from '../crypto/ece.js';
import { deriveFileKeys, newFileSecret, secretToText } from '../crypto/keys.js';
import { encryptMetadata } from '../crypto/metadata.js';
import { EncryptedSource } from '../crypto/source.js';
import { b64urlEncode } from '../crypto/base64url.js';
import { FILE_SECRET_AD, wrapBytes } from '../crypto/account.js';
import { csrfHeaders } from '../lib/api.js';
import { RateMeter, formatBytes, formatSat, parseSatToMsat } from '../lib/format.js';
import { el } from '../lib/dom.js';
import { setupNav } from '../lib/nav.js';
import { problemFromBody, uploadProblemMessage } from '../lib/problem.js';
import { qrSvg } from '../lib/qr.js';
import type { Session } from '../lib/session.js';

// Ciphertext per PATCH: large enough for few round trips, small enough that a resume after a
// cut re-sends little and the page holds little.
const CHUNK_BYTES = 8 * 1024 * 1024;
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000];

const input = el<HTMLInputElement>('file-input');
const drop = el<HTMLElement>('drop');
const list = el<HTMLOListElement>('uploads');
const announcer = el<HTMLParagraphElement>('status');
const expiryInput = el<HTMLSelectElement>('opt-expiry');
const limitInput = el<HTMLInputElement>('opt-max-downloads');
const priceInput = el<HTMLInputElement>('opt-price');

// Logged in, uploads are the account's: their secrets are wrapped by the master key (so "My
// files" can list them) and a price may be set. Known before any file is accepted.
const sessionReady: Promise<Session | null> = setupNav().then((session) => {
  if (session) {
    priceInput.disabled = false;
    el<HTMLElement>('opt-price-hint').textContent = '(paid to your wallet, minus the server\'s share)';
    el<HTMLElement>('account-note').textContent = `Uploads are kept in ${session.username}'s files.`;
  }
  return session;
});

// The link options as tus metadata (docs/HTTP.md "Link controls at upload"), read when a file
// is added; a message instead when one is not valid.
function linkOptions(): Record<string, string> | string {
  const out: Record<string, string> = {};
  if (expiryInput.value) out.expires_in = expiryInput.value;
  const limit = limitInput.value.trim();
  if (limit) {
    if (!/^[1-9]\d{0,11}$/.test(limit)) return 'The download limit must be a whole number of at least 1.';
    out.max_downloads = limit;
  }
  const price = priceInput.value.trim();
  if (price && !priceInput.disabled) {
    const msat = parseSatToMsat(price);
    if (msat === null) return 'The price must be a number of sat with at most 3 decimals (1 sat = 1000 msat).';
    if (msat > 0) out.price_msat = String(msat);
  }
  return out;
}

type State = 'waiting' | 'preparing' | 'uploading' | 'paused' | 'failed' | 'done';

// tus-js-client reads the upload's bytes through this: the ciphertext of any range, made on
// demand from the file (so memory does not grow with the file size).
const encryptedReader = {
  async openFile(source: EncryptedSource) {
    return {
      size: source.size,
      async slice(start: number, end: number) {
        const bytes = await source.read(start, end);
        // The HTTP stack needs a Blob (tus-js-client measures the body by its .size).
        return { value: new Blob([buf(bytes)]), done: start + bytes.length >= source.size };
      },
      close() {},
    };
  },
};

class Item {
  state: State = 'waiting';
  private upload: Upload | null = null;
  private source: EncryptedSource | null = null;
  private secretText = '';
  private readonly meter = new RateMeter();
  private readonly li = document.createElement('li');
  private readonly statusText = document.createElement('p');
  private readonly bar = document.createElement('progress');
  private readonly pauseButton = document.createElement('button');
  private readonly linkBox = document.createElement('div');
  private finished!: () => void;
  readonly settled = new Promise<void>((r) => (this.finished = r));

  constructor(
    private readonly file: File,
    private readonly options: Record<string, string>,
  ) {
    this.li.className = 'upload';
    const title = document.createElement('p');
    title.className = 'upload-name';
    title.textContent = `${file.name} (${formatBytes(file.size)})`;
    this.bar.max = 1;
    this.bar.value = 0;
    this.bar.setAttribute('aria-label', `Upload progress of ${file.name}`);
    this.statusText.className = 'upload-status';
    this.statusText.textContent = 'Waiting…';
    this.pauseButton.type = 'button';
    this.pauseButton.textContent = 'Pause';
    this.pauseButton.hidden = true;
    this.pauseButton.setAttribute('aria-label', `Pause the upload of ${file.name}`);
    this.pauseButton.addEventListener('click', () => this.togglePause());
    this.linkBox.className = 'link-box';
    this.linkBox.hidden = true;
    const controls = document.createElement('div');
    controls.className = 'upload-controls';
    controls.append(this.bar, this.pauseButton);
    this.li.append(title, controls, this.statusText, this.linkBox);
    list.append(this.li);
  }

  async start(): Promise<void> {
    this.state = 'preparing';
    this.statusText.textContent = 'Encrypting…';
    const secret = newFileSecret();
    try {
      const keys = await deriveFileKeys(secret);
      this.secretText = secretToText(secret);
      this.source = await EncryptedSource.open(this.file, keys.content, newHeader());
      const type = this.file.type || 'application/octet-stream';
      const meta = await encryptMetadata({ name: this.file.name, size: this.file.size, type }, keys.metadata);
      const metadata: Record<string, string> = { meta, ...this.options };
      const session = await sessionReady;
      // The session cookie goes with the creation; the server then requires the secret wrapped
      // by the master key (owner_secret), and the CSRF header.
      if (session) metadata.owner_secret = b64urlEncode(await wrapBytes(session.master, FILE_SECRET_AD, secret));
      this.upload = new Upload(this.source as unknown as File, {
        endpoint: new URL('/files', location.origin).href,
        chunkSize: CHUNK_BYTES,
        uploadSize: this.source.size,
        retryDelays: RETRY_DELAYS_MS,
        metadata,
        headers: csrfHeaders(),
        // The upload URL is a capability and the secret lives only in this page: nothing is
        // stored for resuming after a reload.
        storeFingerprintForResuming: false,
        fingerprint: () => Promise.resolve(null as unknown as string),
        fileReader: encryptedReader,
        onProgress: (sent, total) => this.progress(sent, total),
        onSuccess: ({ lastResponse }) => this.succeeded(lastResponse.getHeader('Satload-File-Id')),
        onError: (e) => this.failed(e),
      });
    } catch (e) {
      this.fail(`This file could not be read: ${(e as Error).message}`);
      return this.settled;
    } finally {
      secret.fill(0);
    }
    this.state = 'uploading';
    this.pauseButton.hidden = false;
    this.meter.sample(0);
    this.statusText.textContent = 'Uploading…';
    this.upload.start();
    return this.settled;
  }

  private togglePause(): void {
    if (!this.upload) return;
    if (this.state === 'uploading') {
      void this.upload.abort();
      this.state = 'paused';
      this.pauseButton.textContent = 'Resume';
      this.pauseButton.setAttribute('aria-label', `Resume the upload of ${this.file.name}`);
      this.statusText.textContent = `Paused at ${Math.floor(this.bar.value * 100)}%`;
      // A paused upload lets the next one in the queue go.
      this.finished();
    } else if (this.state === 'paused' || this.state === 'failed') {
      this.state = 'uploading';
      this.pauseButton.textContent = 'Pause';
      this.pauseButton.setAttribute('aria-label', `Pause the upload of ${this.file.name}`);
      this.meter.reset();
      this.statusText.textContent = 'Resuming…';
      this.upload.start();
    }
  }

  private progress(sent: number, total: number): void {
    if (this.state !== 'uploading') return;
    // Shown in plaintext terms: the ciphertext is the file plus 17 bytes per 64 KiB.
    const plain = Math.min(this.file.size, Math.round((sent / total) * this.file.size));
    this.meter.sample(plain);
    this.bar.value = total > 0 ? sent / total : 1;
    this.statusText.textContent = this.meter.describe(plain, this.file.size);
  }

  private succeeded(fileId: string | undefined): void {
    if (!fileId || !/^[A-Za-z0-9_-]{22}$/.test(fileId)) {
      this.fail('The server did not say which file this upload became (no Satload-File-Id).');
      return;
    }
    this.state = 'done';
    this.bar.value = 1;
    this.pauseButton.hidden = true;
    const link = `${location.origin}/f/${fileId}#${this.secretText}`;
    this.secretText = '';
    const price = this.options.price_msat ? ` after paying ${formatSat(Number(this.options.price_msat))}` : '';
    this.statusText.textContent = `Uploaded. Anyone with this link can download and decrypt the file${price}:`;
    this.showLink(link);
    announcer.textContent = `${this.file.name} is uploaded; its link is ready to copy.`;
    this.finished();
  }

  private failed(e: Error | DetailedError): void {
    const res = 'originalResponse' in e ? e.originalResponse : null;
    if (res) {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(res.getBody()) as Record<string, unknown>;
      } catch {
        // not a problem document
      }
      this.fail(uploadProblemMessage(problemFromBody(res.getStatus(), body)));
    } else {
      this.fail('The connection to the server failed; press Resume to carry on where it stopped.');
    }
  }

  private fail(message: string): void {
    this.state = 'failed';
    this.statusText.textContent = message;
    this.li.classList.add('failed');
    if (this.upload) {
      this.pauseButton.hidden = false;
      this.pauseButton.textContent = 'Resume';
      this.pauseButton.setAttribute('aria-label', `Resume the upload of ${this.file.name}`);
    }
    announcer.textContent = `${this.file.name}: ${message}`;
    this.finished();
  }

  private showLink(link: string): void {
    const id = `link-${Math.random().toString(36).slice(2)}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.className = 'visually-hidden';
    label.textContent = `Link to ${this.file.name}`;
    const field = document.createElement('input');
    field.id = id;
    field.type = 'text';
    field.readOnly = true;
    field.value = link;
    field.className = 'link';
    field.dataset.testid = 'link';
    field.addEventListener('focus', () => field.select());
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.textContent = 'Copy link';
    copy.setAttribute('aria-label', `Copy the link to ${this.file.name}`);
    copy.addEventListener('click', () => {
      void navigator.clipboard.writeText(link).then(
        () => {
          copy.textContent = 'Copied';
          announcer.textContent = 'Link copied.';
          setTimeout(() => (copy.textContent = 'Copy link'), 2000);
        },
        () => {
          field.focus();
          field.select();
          announcer.textContent = 'Copying is not allowed here: the link is selected, press Ctrl+C (or ⌘C).';
        },
      );
    });
    const qr = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'QR code';
    qr.append(summary, qrSvg(link, `QR code of the link to ${this.file.name}`));
    this.linkBox.append(label, field, copy, qr);
    this.linkBox.hidden = false;
  }
}

// One upload at a time, in the order the files came: the rate and time left mean something,
// and the first link is ready soonest.
const queue: Item[] = [];
let running = false;

async function runQueue(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (queue.length > 0) await queue.shift()!.start();
  } finally {
    running = false;
  }
}

function addFiles(files: FileList | File[]): void {
  const added = Array.from(files);
  if (added.length === 0) return;
  const options = linkOptions();
  if (typeof options === 'string') {
    announcer.textContent = options;
    el<HTMLParagraphElement>('options-error').textContent = options;
    el<HTMLParagraphElement>('options-error').hidden = false;
    return;
  }
  el<HTMLParagraphElement>('options-error').hidden = true;
  for (const f of added) queue.push(new Item(f, options));
  announcer.textContent = `${added.length} file${added.length === 1 ? '' : 's'} added; uploading.`;
  void runQueue();
}

input.addEventListener('change', () => {
  if (input.files) addFiles(input.files);
  input.value = '';
});

// Dropping anywhere on the page works; the drop zone shows it.
document.addEventListener('dragover', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return;
  e.preventDefault();
  e.dataTransfer.dropEffect = 'copy';
  drop.classList.add('dragging');
});
document.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) drop.classList.remove('dragging');
});
document.addEventListener('drop', (e) => {
  if (!e.dataTransfer?.files.length) return;
  e.preventDefault();
  drop.classList.remove('dragging');
  addFiles(e.dataTransfer.files);
});
