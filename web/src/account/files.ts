// "My files" (/my-files): the account's files with names and links decrypted here; each can
// be copied (with a QR code), renamed (the name encrypted again here), re-priced, revoked and
// restored, or deleted. Earnings per file
// come from the wallet side (GET /api/v1/earnings).
import '../styles.css';
import { ApiError, apiJson, apiMessage } from '../lib/api.js';
import { formatBytes, formatDate, formatSat, parseSatToMsat } from '../lib/format.js';
import { el, showLoginNeeded } from '../lib/dom.js';
import { setupNav } from '../lib/nav.js';
import { ownedFiles, renameOwned, type OwnedFile } from '../lib/owned.js';
import { qrSvg } from '../lib/qr.js';

const statusEl = el<HTMLParagraphElement>('status');
const errorEl = el<HTMLParagraphElement>('error');
const list = el<HTMLOListElement>('files');

interface FileState {
  price_msat: number;
  expires: number | null;
  max_downloads: number | null;
  downloads: number;
  revoked: boolean;
}

function showError(text: string): void {
  errorEl.textContent = text;
  errorEl.hidden = false;
}

function button(text: string, label: string, onClick: (b: HTMLButtonElement) => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', () => onClick(b));
  return b;
}

// The rename form of a readable file: a labelled text field holding the name, and a button.
function renameForm(f: OwnedFile, label: string, note: HTMLElement): HTMLFormElement {
  const form = document.createElement('form');
  form.className = 'inline-form';
  const id = `name-${f.id}`;
  const nameLabel = document.createElement('label');
  nameLabel.htmlFor = id;
  nameLabel.textContent = `New name for ${label}`;
  nameLabel.className = 'visually-hidden';
  const input = document.createElement('input');
  input.id = id;
  input.type = 'text';
  input.className = 'name-input';
  input.value = f.name;
  input.autocomplete = 'off';
  input.spellcheck = false;
  const save = document.createElement('button');
  save.type = 'submit';
  save.textContent = 'Rename';
  save.setAttribute('aria-label', `Rename ${label}`);
  form.append(nameLabel, input, save);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = input.value;
    save.disabled = true;
    void renameOwned(f, name).then(
      async () => {
        await load();
        statusEl.textContent = `${label} is renamed to ${name}.`;
        // The list is drawn anew: keep a keyboard user where they were.
        document.getElementById(id)?.focus();
      },
      (err: unknown) => {
        save.disabled = false;
        note.textContent = err instanceof ApiError ? apiMessage(err) : (err as Error).message;
        input.focus();
      },
    );
  });
  return form;
}

function describeState(s: FileState, earned: number | undefined): string {
  const parts = [s.price_msat > 0 ? `price ${formatSat(s.price_msat)}` : 'free'];
  parts.push(`${s.downloads} download${s.downloads === 1 ? '' : 's'}${s.max_downloads !== null ? ` of ${s.max_downloads}` : ''}`);
  if (s.expires !== null) parts.push(`expires ${formatDate(s.expires)}`);
  if (s.revoked) parts.push('link revoked');
  if (earned !== undefined) parts.push(`earned ${formatSat(earned)}`);
  return parts.join(' · ');
}

function renderFile(f: OwnedFile, state: FileState | null, earned: number | undefined): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'owned';
  li.dataset.fileId = f.id;
  const label = f.readable ? f.name : `file ${f.id}`;
  const title = document.createElement('h2');
  title.className = 'owned-name';
  title.textContent = label;
  const facts = document.createElement('p');
  facts.className = 'hint';
  const size = `${formatBytes(f.sizeBytes)} · uploaded ${formatDate(f.created)}`;
  facts.textContent = !f.complete ? `${size} · upload not finished` : state ? `${size} · ${describeState(state, earned)}` : size;
  if (!f.readable && f.complete) facts.textContent += ' · its key is not this account\'s (uploaded with an API token)';
  li.append(title, facts);
  const actions = document.createElement('div');
  actions.className = 'actions';
  const note = document.createElement('p');
  note.className = 'hint';
  note.setAttribute('role', 'status');

  if (f.readable) {
    actions.append(
      button('Copy link', `Copy the link to ${label}`, (b) => {
        void navigator.clipboard.writeText(f.link).then(
          () => {
            b.textContent = 'Copied';
            note.textContent = 'Link copied.';
            setTimeout(() => (b.textContent = 'Copy link'), 2000);
          },
          () => (note.textContent = `Copying is not allowed here; the link is ${f.link}`),
        );
      }),
      renameForm(f, label, note),
    );
  }
  if (state) {
    const reprice = document.createElement('form');
    reprice.className = 'inline-form';
    const id = `price-${f.id}`;
    const priceLabel = document.createElement('label');
    priceLabel.htmlFor = id;
    priceLabel.textContent = `Price of ${label} in sat`;
    priceLabel.className = 'visually-hidden';
    const price = document.createElement('input');
    price.id = id;
    price.type = 'number';
    price.min = '0';
    price.step = '0.001';
    price.inputMode = 'decimal';
    price.value = String(state.price_msat / 1000);
    const save = document.createElement('button');
    save.type = 'submit';
    save.textContent = 'Set price';
    save.setAttribute('aria-label', `Set the price of ${label}`);
    reprice.append(priceLabel, price, save);
    reprice.addEventListener('submit', (e) => {
      e.preventDefault();
      const msat = parseSatToMsat(price.value);
      if (msat === null) {
        note.textContent = 'A price is a number of sat with at most 3 decimals.';
        return;
      }
      void update(f, { price_msat: msat }, note, `The price is now ${formatSat(msat)}.`);
    });
    actions.append(
      reprice,
      button(state.revoked ? 'Restore link' : 'Revoke link', `${state.revoked ? 'Restore' : 'Revoke'} the link to ${label}`, () => {
        void update(f, { revoked: !state.revoked }, note, state.revoked ? 'The link works again.' : 'The link is revoked.');
      }),
    );
  }
  actions.append(
    button('Delete', `Delete ${label}`, (b) => {
      if (b.dataset.armed !== '1') {
        b.dataset.armed = '1';
        b.textContent = 'Really delete?';
        b.setAttribute('aria-label', `Really delete ${label}? This cannot be undone`);
        note.textContent = 'Press again to delete the file for good.';
        return;
      }
      b.disabled = true;
      void apiJson(`/api/v1/files/${f.id}`, { method: 'DELETE' }).then(
        () => {
          li.remove();
          statusEl.textContent = `${label} is deleted.`;
        },
        (e: unknown) => {
          b.disabled = false;
          note.textContent = apiMessage(e);
        },
      );
    }),
  );
  li.append(actions);
  if (f.readable) {
    const qr = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'QR code of the link';
    qr.append(summary, qrSvg(f.link, `QR code of the link to ${label}`));
    li.append(qr);
  }
  li.append(note);
  return li;
}

async function update(f: OwnedFile, change: Record<string, unknown>, note: HTMLElement, done: string): Promise<void> {
  try {
    await apiJson(`/api/v1/files/${f.id}`, { method: 'PATCH', json: change });
    await load();
    statusEl.textContent = done;
  } catch (e) {
    note.textContent = apiMessage(e);
  }
}

async function load(): Promise<void> {
  const session = await setupNav();
  if (!session) {
    showLoginNeeded(statusEl, errorEl, 'see your files');
    return;
  }
  try {
    const [files, earnings, usage, referral] = await Promise.all([
      ownedFiles(session),
      apiJson<{ files: { id: string; net_msat: number }[] }>('/api/v1/earnings').catch(() => ({ files: [] })),
      apiJson<{ used_bytes: number; quota_bytes: number }>('/api/v1/account'),
      apiJson<{ code: string }>('/api/v1/wallet/referral').catch(() => null),
    ]);
    const earned = new Map(earnings.files.map((e) => [e.id, e.net_msat]));
    const states = await Promise.all(
      files.map((f) => (f.complete ? apiJson<FileState>(`/api/v1/files/${f.id}`).catch(() => null) : Promise.resolve(null))),
    );
    el<HTMLParagraphElement>('usage').textContent = `${formatBytes(usage.used_bytes)} of ${formatBytes(usage.quota_bytes)} used.`;
    if (referral) {
      el<HTMLElement>('referral-code').textContent = referral.code;
      el<HTMLElement>('referral').hidden = false;
    }
    const sorted = files.map((f, i) => ({ f, s: states[i] ?? null })).sort((a, b) => b.f.created - a.f.created);
    list.replaceChildren(...sorted.map(({ f, s }) => renderFile(f, s, earned.get(f.id))));
    statusEl.textContent = files.length === 0 ? 'You have no files yet: upload one on the Upload page.' : `${files.length} file${files.length === 1 ? '' : 's'}.`;
  } catch (e) {
    statusEl.textContent = '';
    showError(e instanceof ApiError ? apiMessage(e) : `Your files could not be listed: ${(e as Error).message}`);
  }
}

void load();
