// Usage: node paid_client.mjs URL DATA_DIR [--setup-only OUT.json]
// Against a running satload (URL, data directory), sets up one uploader, PAYERS funded payers,
// FILES priced 1 KiB files and one free 1 KiB file. With --setup-only (bench/paid.sh, whose
// timed client is the compiled bench/paid_load.cpp) it writes them to OUT.json as
// {url, payers: [token], files: [id], free_id, price_msat, body_bytes} and stops; otherwise
// (bench/scale.sh) it alternates timed runs of two flows with CONCURRENCY fetch workers:
//   free: GET /d/<free id> (the whole flow of a free download)
//   paid: GET /d/<id> (402) + POST /api/v1/pay (a durable ledger payment) + GET /d/<id> with
//         the L402 credential; every paid flow uses a (payer, file) pair not used before, so
//         each one really pays.
// Prints one JSON object: flows per second of each run.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { apiUser, ownedUpload, adminApi } from '../tests/lib/owned.mjs';

const [url, dataDir, mode, setupOut] = process.argv.slice(2);
if (mode !== undefined && (mode !== '--setup-only' || !setupOut)) {
  console.error('usage: node paid_client.mjs URL DATA_DIR [--setup-only OUT.json]');
  process.exit(2);
}
const env = (k, d) => Number(process.env[k] ?? d);
const PAYERS = env('BENCH_PAID_PAYERS', 200);
const FILES = env('BENCH_PAID_FILES', 500);
const CONCURRENCY = env('BENCH_PAID_CONCURRENCY', 32);
const RUN_S = env('BENCH_PAID_DURATION_S', 5);
const RUNS = env('BENCH_PAID_RUNS', 3);
const PRICE = 1_000;
// The set-up's requests go this many at a time: each upload ends in a durable commit, and one
// at a time its wait for the disk is the whole set-up's time (35 s for 1,000 files in `make
// test`, where the sanitized build writes beside it, against 5 s on a quiet machine).
const SETUP_CONCURRENCY = 8;

function die(message) {
  console.error(`paid_client: ${message}`);
  process.exit(1);
}

// Runs make(i) for i in [0, count), SETUP_CONCURRENCY at a time; the results in order of i.
async function inParallel(count, make) {
  const out = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await make(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, count) }, worker));
  return out;
}

const admin = adminApi(dataDir);
const uploader = await apiUser(url, 'bench-uploader');
const payers = await inParallel(PAYERS, async (i) => {
  const u = await apiUser(url, `bench-payer-${i}`);
  const c = await admin.credit(u.username, 1_000_000_000);
  if (c.status !== 200) die(`credit: ${JSON.stringify(c.body)}`);
  return u;
});
// 1 KiB stored: the plaintext plus the encryption's overhead.
const PLAINTEXT_BYTES = 1024 - 38;
const free = await ownedUpload(url, uploader, 'free', randomBytes(PLAINTEXT_BYTES));
if (free.res.status !== 201) die(`upload: ${free.text}`);
const BODY_BYTES = free.ciphertext.length;
const files = await inParallel(FILES, async (i) => {
  const f = await ownedUpload(url, uploader, `p${i}`, randomBytes(PLAINTEXT_BYTES), { meta: { price_msat: PRICE } });
  if (f.res.status !== 201) die(`upload: ${f.res.status} ${f.text}`);
  if (f.ciphertext.length !== BODY_BYTES) die(`upload: ${f.ciphertext.length} bytes stored, want ${BODY_BYTES}`);
  return f.id;
});
if (mode === '--setup-only') {
  writeFileSync(setupOut, JSON.stringify({ url, payers: payers.map((p) => p.token), files, free_id: free.id,
    price_msat: PRICE, body_bytes: BODY_BYTES }));
  process.exit(0);
}

// Every paid flow needs a (payer, file) pair that has not paid yet. When they run out, the run
// ends early (its rate is still flows over the time taken) and the output says so.
let nextPair = 0;
let exhausted = false;
function pair() {
  const n = nextPair++;
  if (n >= PAYERS * FILES) {
    exhausted = true;
    return null;
  }
  return [payers[n % PAYERS], files[Math.floor(n / PAYERS)]];
}

async function freeFlow() {
  const res = await fetch(`${url}/d/${free.id}`);
  await res.arrayBuffer();
  if (res.status !== 200) die(`free download: ${res.status}`);
}

async function paidFlow() {
  const next = pair();
  if (!next) return false;
  const [payer, id] = next;
  const c = await fetch(`${url}/d/${id}`);
  const challenge = await c.json();
  if (c.status !== 402) die(`challenge: ${c.status}`);
  const p = await fetch(`${url}/api/v1/pay`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${payer.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ invoice: challenge.invoice, max_msat: PRICE }),
  });
  const paid = await p.json();
  if (p.status !== 200 || !paid.receipt.charged) die(`pay: ${p.status} ${JSON.stringify(paid)}`);
  const d = await fetch(`${url}/d/${id}`, { headers: { Authorization: `L402 ${paid.macaroon}:${paid.preimage}` } });
  await d.arrayBuffer();
  if (d.status !== 200) die(`paid download: ${d.status}`);
  return true;
}

async function timed(flow, seconds) {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < end) {
      if ((await flow()) === false) break;
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return done / ((performance.now() - start) / 1000);
}

await timed(freeFlow, 1);  // warm-up
const runs = { free: [], paid: [] };
for (let r = 0; r < RUNS; r++) {
  runs.free.push(await timed(freeFlow, RUN_S));
  runs.paid.push(await timed(paidFlow, RUN_S));
}
console.log(JSON.stringify({ concurrency: CONCURRENCY, run_seconds: RUN_S, price_msat: PRICE,
  paid_flows: Math.min(nextPair, PAYERS * FILES), pairs_exhausted: exhausted, runs }));
