// The wallet page (/wallet): balance, a deposit address (QR code and BIP21 link), pending
// deposits, a withdraw form, earnings per file (names decrypted here) and the history. The
// on-chain endpoints may be absent or refuse (no node configured): each part says so alone.
import '../styles.css';
import { b64urlEncode } from '../crypto/base64url.js';
import { ApiError, apiJson, apiMessage } from '../lib/api.js';
import { formatDate, formatSat } from '../lib/format.js';
import { el, showLoginNeeded } from '../lib/dom.js';
import { setupNav } from '../lib/nav.js';
import { ownedFiles } from '../lib/owned.js';
import { qrSvg } from '../lib/qr.js';

const statusEl = el<HTMLParagraphElement>('status');
const errorEl = el<HTMLParagraphElement>('error');

interface Wallet {
  balance_msat: number;
  available_msat: number;
  pending_in_msat: number;
  pending_out_msat: number;
}

// The sentence for an on-chain endpoint's refusal: the server's own detail says why (for
// example that no node is configured).
function chainMessage(what: string, e: unknown): string {
  if (e instanceof ApiError) {
    const p = e.problem;
    if (p.status === 404 && !p.detail.includes('address')) return `${what} is not available on this server.`;
    if (p.detail) return `${what} is not possible right now: ${p.detail}.`;
  }
  return `${what} failed: ${apiMessage(e)}`;
}

function row(cells: string[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c;
    tr.append(td);
  }
  return tr;
}

async function loadBalance(): Promise<void> {
  const w = await apiJson<Wallet>('/api/v1/wallet');
  el<HTMLElement>('balance').textContent = formatSat(w.balance_msat);
  const extra = [`${formatSat(w.available_msat)} available`];
  if (w.pending_in_msat) extra.push(`${formatSat(w.pending_in_msat)} arriving`);
  if (w.pending_out_msat) extra.push(`${formatSat(w.pending_out_msat)} leaving`);
  el<HTMLElement>('balance-detail').textContent = extra.join(' · ');
}

async function loadDeposits(): Promise<void> {
  const list = el<HTMLUListElement>('deposits');
  const message = el<HTMLParagraphElement>('deposits-message');
  try {
    const { deposits } = await apiJson<{
      deposits: { txid: string; vout: number; amount_msat: number; confirmations: number; status: string }[];
    }>('/api/v1/wallet/deposits');
    list.replaceChildren(
      ...deposits.map((d) => {
        const li = document.createElement('li');
        li.textContent = `${formatSat(d.amount_msat)} · ${d.status} · ${d.confirmations} confirmation${d.confirmations === 1 ? '' : 's'} · ${d.txid.slice(0, 16)}…:${d.vout}`;
        return li;
      }),
    );
    message.textContent = deposits.length === 0 ? 'No deposits on their way.' : '';
  } catch (e) {
    message.textContent = chainMessage('Listing deposits', e);
  }
}

async function loadEarnings(): Promise<void> {
  const session = await setupNav();
  const [earnings, files] = await Promise.all([
    apiJson<{ files: { id: string; downloads: number; net_msat: number }[]; referrals: { payments: number; earned_msat: number }; total_msat: number }>(
      '/api/v1/earnings',
    ),
    session ? ownedFiles(session).catch(() => []) : Promise.resolve([]),
  ]);
  const names = new Map(files.map((f) => [f.id, f.name || `file ${f.id}`]));
  el<HTMLTableSectionElement>('earnings').replaceChildren(
    ...earnings.files.map((f) => row([names.get(f.id) ?? `file ${f.id} (deleted)`, String(f.downloads), formatSat(f.net_msat)])),
  );
  el<HTMLElement>('earnings-total').textContent =
    `Referrals: ${earnings.referrals.payments} payment${earnings.referrals.payments === 1 ? '' : 's'}, ${formatSat(earnings.referrals.earned_msat)}. Total earned: ${formatSat(earnings.total_msat)}.`;
}

const KIND_TEXT: Record<string, string> = {
  adjustment: 'credit by the operator',
  download_payment: 'download payment',
  referral_reward: 'referral reward',
  platform_fee: 'platform fee',
  deposit: 'deposit',
  withdrawal: 'withdrawal',
};

async function loadHistory(): Promise<void> {
  const { entries } = await apiJson<{
    entries: { time: number; amount_msat: number; kind: string; memo: string; pending: boolean }[];
  }>('/api/v1/wallet/history?limit=50');
  el<HTMLTableSectionElement>('history').replaceChildren(
    ...entries.map((e) =>
      row([
        formatDate(e.time),
        `${KIND_TEXT[e.kind] ?? e.kind}${e.memo ? ` — ${e.memo}` : ''}${e.pending ? ' (pending)' : ''}`,
        `${e.amount_msat > 0 ? '+' : e.amount_msat < 0 ? '−' : ''}${formatSat(Math.abs(e.amount_msat))}`,
      ]),
    ),
  );
}

el<HTMLButtonElement>('deposit-get').addEventListener('click', () => {
  const message = el<HTMLParagraphElement>('deposit-message');
  message.textContent = 'Asking for an address…';
  void apiJson<{ address: string; uri: string }>('/api/v1/wallet/deposit-address', { method: 'POST' }).then(
    ({ address, uri }) => {
      el<HTMLInputElement>('deposit-address').value = address;
      const a = el<HTMLAnchorElement>('deposit-uri');
      // Only a BIP21 URI becomes a link; anything else would be a navigation elsewhere.
      if (/^bitcoin:/i.test(uri)) a.href = uri;
      a.textContent = uri;
      el<HTMLElement>('deposit-qr').replaceChildren(qrSvg(uri, `QR code of the deposit address ${address}`));
      el<HTMLElement>('deposit').hidden = false;
      message.textContent = 'Send bitcoin to this address; the deposit shows below and counts once confirmed.';
    },
    (e: unknown) => (message.textContent = chainMessage('A deposit address', e)),
  );
});

// The Idempotency-Key of the withdrawal being asked for: kept while a retry of the same address
// and amount could find the first request's withdrawal (no answer came, or the server failed),
// so a second click never sends twice; a new one once an answer came or the fields changed.
let withdrawal: { address: string; sat: string; key: string } | null = null;

function newRequestKey(): string {
  return b64urlEncode(crypto.getRandomValues(new Uint8Array(16)));
}

el<HTMLFormElement>('withdraw-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const message = el<HTMLParagraphElement>('withdraw-message');
  const address = el<HTMLInputElement>('withdraw-address').value.trim();
  const sat = el<HTMLInputElement>('withdraw-amount').value.trim();
  if (!/^[1-9]\d{0,14}$/.test(sat)) {
    message.textContent = 'The amount is a whole number of sat (on-chain amounts have no fractions).';
    return;
  }
  if (!withdrawal || withdrawal.address !== address || withdrawal.sat !== sat) {
    withdrawal = { address, sat, key: newRequestKey() };
  }
  const sent = withdrawal;
  el<HTMLButtonElement>('withdraw-submit').disabled = true;
  message.textContent = 'Sending…';
  void apiJson<{ id: string | number; status: string; txid?: string }>('/api/v1/wallet/withdrawals', {
    method: 'POST',
    json: { address, amount_msat: Number(sat) * 1000 },
    headers: { 'Idempotency-Key': sent.key },
  }).then(
    (w) => {
      // Still being set up (a retry found it reserving): the next try must ask about it again.
      if (withdrawal === sent && w.status !== 'reserving') withdrawal = null;
      message.textContent = `Withdrawal ${w.id}: ${w.status}${w.txid ? `, transaction ${w.txid}` : ''}.`;
      void loadBalance().catch(() => undefined);
      void loadHistory().catch(() => undefined);
    },
    (err: unknown) => {
      // Refused (4xx): nothing was made, so the next try is a new request.
      const status = err instanceof ApiError ? err.problem.status : 0;
      if (status > 0 && status < 500 && withdrawal === sent) withdrawal = null;
      message.textContent = chainMessage('Withdrawing', err);
    },
  ).finally(() => (el<HTMLButtonElement>('withdraw-submit').disabled = false));
});

async function main(): Promise<void> {
  const session = await setupNav();
  if (!session) {
    showLoginNeeded(statusEl, errorEl, 'see your wallet');
    return;
  }
  try {
    await loadBalance();
  } catch (e) {
    statusEl.textContent = '';
    errorEl.textContent = e instanceof ApiError && e.problem.status === 404 ? 'This server has no wallets.' : apiMessage(e);
    errorEl.hidden = false;
    return;
  }
  el<HTMLElement>('wallet').hidden = false;
  statusEl.textContent = '';
  await Promise.all([
    loadDeposits(),
    loadEarnings().catch((e: unknown) => (el<HTMLElement>('earnings-total').textContent = apiMessage(e))),
    loadHistory().catch((e: unknown) => (statusEl.textContent = apiMessage(e))),
  ]);
}

void main();
