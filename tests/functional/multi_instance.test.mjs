// Two `satload serve` instances on one PostgreSQL schema and one S3 bucket, behind haproxy
// (issue 9): an upload cut half way through one instance resumes through the other and the
// file is intact; one upload written through both at once has one writer (the lock is the
// database's); paid downloads spread over both charge every payer exactly once, a payment
// raced on both instances at once charges once, and the ledger's audit passes on both; login
// failures, anonymous creations and abuse reports through both are limited together.
// With a bcoin regtest node (tests/lib/regtest.mjs) both share one wallet seed, kept in the
// database: a deposit address from one is credited and spent by the other.
// Runs in make test's scale-out stage (SATLOAD_TEST_DB_URL and SATLOAD_TEST_BLOBS_URL name
// the PostgreSQL server and Ceph RGW); without them it is skipped with that reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Server, runCli, tempDir, SCALE_DB, SCALE_BLOBS } from '../lib/server.mjs';
import { apiUser, ownedUpload, adminApi, apiGet, ece, eceRecords } from '../lib/owned.mjs';
import { admin as adminCall } from './safety_lib.mjs';
import { deriveKeys } from '../lib/secrets.mjs';
import { RegtestNode, testAddress } from '../lib/regtest.mjs';
import httpEce from 'http_ece';

const SCALE = Boolean(SCALE_DB && SCALE_BLOBS);
const skip = SCALE ? false : "runs in make test's scale-out stage (SATLOAD_TEST_DB_URL and SATLOAD_TEST_BLOBS_URL unset)";
const UPLOAD_BYTES = 200 << 20;  // the size, also in small runs (about 6 s)
const PAYERS = 100;
const FILES = 5;  // PAYERS x FILES = 500 paid downloads at once
const PRICE = 2_000;
const FUNDS = 1_000_000;

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

let a;
let b;
let proxy;
let proxyUrl;
const tag = `mi${randomBytes(5).toString('hex')}`;

before(async () => {
  if (!SCALE) return;
  const db = `${SCALE_DB}${SCALE_DB.includes('?') ? '&' : '?'}schema=t_${tag}`;
  const u = new URL(SCALE_BLOBS.replace(/^s3:/, 'http:'));
  const blobs = `s3://${u.hostname}-${tag}${u.search}`;
  const args = ['--db', db, '--blobs', blobs, '--trust-proxy'];
  a = await new Server({ args, backends: false }).start();
  b = await new Server({ args, backends: false }).start();
  const port = await freePort();
  const dir = tempDir('satload-haproxy-');
  const cfg = path.join(dir, 'haproxy.cfg');
  // Round robin per request over both instances; the client address travels in
  // X-Forwarded-For, which the instances trust (--trust-proxy).
  writeFileSync(cfg, [
    'global', '  maxconn 4096',
    'defaults', '  mode http', '  timeout connect 5s', '  timeout client 120s', '  timeout server 120s',
    '  option forwardfor', '  option http-server-close',
    'frontend satload', `  bind 127.0.0.1:${port}`, '  default_backend instances',
    'backend instances', '  balance roundrobin',
    `  server a ${new URL(a.url).host}`, `  server b ${new URL(b.url).host}`, '',
  ].join('\n'));
  const check = spawnSync('haproxy', ['-c', '-f', cfg], { encoding: 'utf8' });
  assert.equal(check.status, 0, `haproxy refused its configuration: ${check.stderr}${check.stdout}`);
  proxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  proxy.log = '';
  proxy.stderr.on('data', (d) => { proxy.log += d; });
  proxyUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${proxyUrl}/healthz`)).status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`haproxy did not start: ${proxy.log}`);
});

after(async () => {
  if (proxy) proxy.kill('SIGTERM');
  if (a) await a.stop();
  if (b) await b.stop();
});

// Sends `body` as one PATCH at `offset` to `url`, cutting the connection after `cutAfter`
// bytes when given. Resolves with the response status, or 'cut'.
function patch(url, body, offset, cutAfter) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'PATCH',
      headers: {
        'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(body.length),
      },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (e) => (cutAfter === undefined ? reject(e) : resolve('cut')));
    const end = cutAfter ?? body.length;
    const step = 1 << 20;
    let sent = 0;
    const pump = () => {
      while (sent < end) {
        const n = Math.min(step, end - sent);
        const more = req.write(body.subarray(sent, sent + n));
        sent += n;
        if (!more) return req.once('drain', pump);
      }
      if (cutAfter === undefined) req.end();
      else setTimeout(() => { req.destroy(); resolve('cut'); }, 200);
    };
    pump();
  });
}

test('an upload cut half way through one instance resumes through the other, intact', { skip }, async () => {
  const secret = randomBytes(16).toString('base64url');
  const keys = deriveKeys(secret);
  const meta = ece(keys.metadata, Buffer.from(JSON.stringify({ name: 'big.bin', size: UPLOAD_BYTES })), 8192);
  // Many records, as RFC 8188 has them: another implementation (the npm http_ece) reads them.
  const sample = randomBytes(200_000);
  assert.deepEqual(httpEce.decrypt(eceRecords(keys.content, sample, 65536), { version: 'aes128gcm', key: keys.content }), sample);
  const body = eceRecords(keys.content, randomBytes(UPLOAD_BYTES), 65536);
  const created = await fetch(`${a.url}/files`, {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(body.length), 'Upload-Metadata': `meta ${Buffer.from(meta.toString('base64url')).toString('base64')}` },
  });
  assert.equal(created.status, 201, await created.text());
  const location = new URL(created.headers.get('location'));
  const onA = `${a.url}${location.pathname}`;
  const onB = `${b.url}${location.pathname}`;
  assert.equal(await patch(onA, body, 0, body.length >> 1), 'cut');

  // Instance B knows the upload and how much of it A made durable.
  let offset = -1;
  for (let i = 0; i < 50; i++) {
    const head = await fetch(onB, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(head.status, 200);
    offset = Number(head.headers.get('upload-offset'));
    if (offset > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(offset > 0 && offset <= body.length >> 1, `offset ${offset} after half of ${body.length} through A`);
  assert.equal(await patch(onB, body.subarray(offset), offset), 204);

  // Instance A sees the upload B completed, and names its file.
  const head = await fetch(onA, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(head.headers.get('upload-offset'), String(body.length));
  const fileId = head.headers.get('satload-file-id');
  assert.ok(fileId, 'a complete upload names its file');
  for (const base of [a.url, b.url, proxyUrl]) {
    const got = Buffer.from(await (await fetch(`${base}/d/${fileId}`)).arrayBuffer());
    assert.equal(got.length, body.length);
    assert.equal(sha256(got), sha256(body), `the file through ${base}`);
  }
});

test('the same upload written through both instances at once: one writer, the other refused', { skip }, async () => {
  const keys = deriveKeys(randomBytes(16).toString('base64url'));
  const meta = ece(keys.metadata, Buffer.from(JSON.stringify({ name: 'race.bin', size: 8 << 20 })), 8192);
  const body = eceRecords(keys.content, randomBytes(8 << 20), 65536);
  const created = await fetch(`${proxyUrl}/files`, {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(body.length), 'Upload-Metadata': `meta ${Buffer.from(meta.toString('base64url')).toString('base64')}` },
  });
  assert.equal(created.status, 201);
  const { pathname } = new URL(created.headers.get('location'));
  // The lock is the database's: whichever instance takes it first writes; the other finds
  // the lock held (423), or waits for it and then finds the offset moved (409) or the upload
  // complete (413).
  const answers = (await Promise.all([patch(`${a.url}${pathname}`, body, 0), patch(`${b.url}${pathname}`, body, 0)])).sort();
  assert.equal(answers[0], 204, `answers ${answers}`);
  assert.ok([409, 413, 423].includes(answers[1]), `answers ${answers}`);
  const head = await fetch(`${proxyUrl}${pathname}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(head.headers.get('upload-offset'), String(body.length));
  const got = Buffer.from(await (await fetch(`${proxyUrl}/d/${head.headers.get('satload-file-id')}`)).arrayBuffer());
  assert.equal(sha256(got), sha256(body));
});

test(`${PAYERS * FILES} concurrent paid downloads over both instances charge every payer exactly once`, { skip }, async () => {
  const uploader = await apiUser(proxyUrl, 'mi-uploader');
  const files = [];
  for (let i = 0; i < FILES; i++) {
    const f = await ownedUpload(proxyUrl, uploader, `paid-${i}`, randomBytes(4096), { meta: { price_msat: PRICE } });
    assert.equal(f.res.status, 201, f.text);
    files.push(f);
  }
  const admin = adminApi(a.dataDir);
  const payers = [];
  for (let i = 0; i < PAYERS; i++) {
    const p = await apiUser(i % 2 ? a.url : b.url, `mi-payer-${i}`);
    const c = await admin.credit(p.username, FUNDS);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    payers.push(p);
  }
  const before = { a: await a.metric('satload_downloads_completed_total'), b: await b.metric('satload_downloads_completed_total') };

  // Pays with retries: a payment another instance is settling at that moment answers 503.
  const pay = async (base, payer, invoice) => {
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${base}/api/v1/pay`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${payer.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ invoice, max_msat: PRICE }),
      });
      const body = await res.json();
      if (res.status === 200) return body;
      assert.equal(res.status, 503, JSON.stringify(body));
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the payment stayed in progress');
  };
  const flow = async (payer, file, n) => {
    const challenge = await fetch(`${proxyUrl}/d/${file.id}`);
    assert.equal(challenge.status, 402);
    const { invoice } = await challenge.json();
    // Every tenth payment is raced on both instances at once; the rest go through the proxy.
    const receipts = n % 10 === 0
      ? await Promise.all([pay(a.url, payer, invoice), pay(b.url, payer, invoice)])
      : [await pay(proxyUrl, payer, invoice)];
    assert.equal(receipts.filter((r) => r.receipt.charged).length, 1, 'charged exactly once');
    const paid = receipts[0];
    const got = await fetch(`${proxyUrl}/d/${file.id}`, { headers: { Authorization: `L402 ${paid.macaroon}:${paid.preimage}` } });
    assert.equal(got.status, 200);
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), sha256(file.ciphertext));
  };
  const flows = [];
  let n = 0;
  for (const payer of payers) for (const file of files) flows.push(flow(payer, file, n++));
  await Promise.all(flows);

  // Each instance takes in the other's ledger entries within its refresh interval (200 ms).
  await new Promise((r) => setTimeout(r, 1000));
  for (const payer of payers) {
    const balance = await apiGet(proxyUrl, '/api/v1/wallet', payer.token);
    assert.equal(balance.status, 200);
    assert.equal(balance.body.balance_msat, FUNDS - FILES * PRICE, `${payer.username} paid each file once`);
  }
  // Both instances served paid downloads.
  const after = { a: await a.metric('satload_downloads_completed_total'), b: await b.metric('satload_downloads_completed_total') };
  assert.ok(after.a - before.a > 0 && after.b - before.b > 0, `downloads per instance: ${JSON.stringify({ before, after })}`);
  assert.equal(after.a - before.a + after.b - before.b, PAYERS * FILES);
  for (const server of [a, b]) {
    const audit = await adminApi(server.dataDir).audit();
    assert.equal(audit.status, 200);
    assert.equal(audit.body.passed, true, JSON.stringify(audit.body));
  }
});

// A copyright report dismissed through instance B: B settles the holds it sees at once, but A
// learns of the dismissal only at its next refresh (up to a second later), and a payment A
// takes meanwhile is still held. A settles that one itself once it learns (before, it stayed
// held until A restarted). The seller ends with both legs, nothing pending; the audit passes.
test('a payment held on one instance just after the other dismissed the report is released without a restart', { skip }, async () => {
  const price = 1_001;
  const leg = 901;  // no referrer: 90% of 1,001, the remainder to the uploader
  const seller = await apiUser(a.url, `mi-seller-${tag}`);
  const buyers = [await apiUser(a.url, `mi-buyer1-${tag}`), await apiUser(a.url, `mi-buyer2-${tag}`)];
  for (const buyer of buyers) assert.equal((await adminApi(a.dataDir).credit(buyer.username, 50_000)).status, 200);
  const file = await ownedUpload(a.url, seller, 'song.flac', randomBytes(2000), { meta: { price_msat: String(price) } });
  assert.equal(file.res.status, 201, file.text);
  const buy = async (buyer) => {
    const { invoice } = await (await fetch(`${a.url}/d/${file.id}`)).json();
    const res = await fetch(`${a.url}/api/v1/pay`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${buyer.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ invoice, max_msat: price }),
    });
    assert.equal(res.status, 200, await res.text());
  };
  const sellerWallet = async () => (await apiGet(a.url, '/api/v1/wallet', seller.token)).body;
  // Its own client address: the abuse-report limit test spends 127.0.0.1's reports.
  const reported = await fetch(`${b.url}/api/v1/reports`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '198.51.100.77' },
    body: JSON.stringify({ file_id: file.id, category: 'copyright', reason: 'my work', contact: 'label@example.test' }),
  });
  assert.equal(reported.status, 201, await reported.text());
  await new Promise((r) => setTimeout(r, 1_500));  // A takes the report in (1 s refresh)
  await buy(buyers[0]);
  assert.equal((await sellerWallet()).pending_in_msat, leg, 'held on A during the report');

  const callB = adminCall(b.dataDir);
  const report = (await callB('GET', 'reports')).body.reports.find((r) => r.file_id === file.id);
  const dismissed = await callB('POST', `reports/${report.id}/dismiss`, { reason: 'licensed' });
  assert.equal(dismissed.status, 200, JSON.stringify(dismissed.body));
  assert.equal(dismissed.body.held.released, 1);
  await buy(buyers[1]);  // on A, which has not taken the dismissal in yet: held again

  let wallet;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    wallet = await sellerWallet();
    if (wallet.pending_in_msat === 0 && wallet.balance_msat === 2 * leg) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual([wallet.balance_msat, wallet.pending_in_msat], [2 * leg, 0], `${a.log.slice(-2000)}`);
  for (const server of [a, b]) {
    const audit = await adminApi(server.dataDir).audit();
    assert.equal(audit.body.passed, true, JSON.stringify(audit.body));
  }
});

// Login failures are counted in the database, so two instances give no more tries than one:
// wrong passwords sent alternately to each are refused with 429 after the policy's 5 free
// failures (plus one) in all. Counted per process, each instance would allow 6, and the first
// 429 could not come before the 13th attempt.
test('login failures through both instances are throttled together', { skip }, async () => {
  const username = `nobody${tag}`;
  const statuses = [];
  for (let i = 0; i < 10 && !statuses.includes(429); i++) {
    const server = i % 2 === 0 ? a : b;
    const r = await fetch(`${server.url}/api/v1/account/login`, {
      method: 'POST', body: JSON.stringify({ username, auth_key: randomBytes(32).toString('base64url') }),
    });
    await r.arrayBuffer();
    statuses.push(r.status);
  }
  assert.deepEqual(statuses.slice(0, 6), [401, 401, 401, 401, 401, 401], statuses.join(','));
  assert.ok(statuses.includes(429), `no 429 in ${statuses.length} alternating failures: ${statuses.join(',')}`);
});

// Anonymous creations and reports are counted per address in the database, so two instances
// admit no more than one (files/rate_limiter.h kAnonymousCreationsPerWindow = 120 creations,
// safety/safety_service.h kReportsPerWindow = 20 reports, per 10 minutes): sent alternately to
// each, the one past the limit is 429. Counted per process, each instance would admit its own
// limit, and all of these would pass. The address is the proxy's word (--trust-proxy), one
// that no other test uses.
const ANONYMOUS_CREATIONS_PER_WINDOW = 120;
const REPORTS_PER_WINDOW = 20;
const RATE_WINDOW_S = 600;

async function alternateUntilLimited(limit, send) {
  const statuses = [];
  for (let i = 0; i <= limit; i++) statuses.push(await send(i % 2 === 0 ? a : b));
  return statuses;
}

test('anonymous creations through both instances are rate limited together', { skip }, async () => {
  const forwardedFor = '192.0.2.91';
  let retryAfter;
  const statuses = await alternateUntilLimited(ANONYMOUS_CREATIONS_PER_WINDOW, async (server) => {
    const r = await fetch(`${server.url}/files`, {
      method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1', 'X-Forwarded-For': forwardedFor },
    });
    await r.arrayBuffer();
    retryAfter = r.headers.get('retry-after');
    return r.status;
  });
  const admitted = statuses.filter((s) => s === 201).length;
  assert.equal(admitted, ANONYMOUS_CREATIONS_PER_WINDOW, statuses.join(','));
  assert.equal(statuses.at(-1), 429, statuses.join(','));
  assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= RATE_WINDOW_S, `Retry-After ${retryAfter}`);
});

test('abuse reports through both instances are rate limited together', { skip }, async () => {
  const forwardedFor = '192.0.2.92';
  // A well-formed report of a file that does not exist is counted, then answered 404.
  const statuses = await alternateUntilLimited(REPORTS_PER_WINDOW, async (server) => {
    const r = await fetch(`${server.url}/api/v1/reports`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': forwardedFor },
      body: JSON.stringify({ file_id: 'AAAAAAAAAAAAAAAAAAAAAA', category: 'abuse', reason: 'spam' }),
    });
    await r.arrayBuffer();
    return r.status;
  });
  assert.deepEqual(statuses, [...Array(REPORTS_PER_WINDOW).fill(404), 429], statuses.join(','));
});

// `admin migrate` for operators: a data directory naming a fresh schema gets every component's
// tables (versions from 0), the ledger audits clean, and a second run changes nothing.
test('admin migrate on a fresh PostgreSQL schema', { skip }, async () => {
  const dataDir = tempDir('satload-migrate-');
  const db = `${SCALE_DB}${SCALE_DB.includes('?') ? '&' : '?'}schema=t_migrate${randomBytes(4).toString('hex')}`;
  writeFileSync(path.join(dataDir, 'backends.json'), JSON.stringify({ db, blobs: '' }), { mode: 0o600 });
  const first = await runCli(['admin', 'migrate', '--data', dataDir]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  for (const component of ['meta', 'accounts', 'payments', 'safety', 'chain', 'server', 'wallet_seed', 'login_throttle',
    'rate_limits', 'key_hash']) {
    assert.match(first.stdout, new RegExp(`^${component}: schema version 0 -> [1-9]\\d*$`, 'm'), first.stdout);
  }
  assert.match(first.stdout, /^audit passed \(after migrating\)/m);
  const again = await runCli(['admin', 'migrate', '--data', dataDir]);
  assert.equal(again.code, 0, again.stderr);
  const versions = (text) => [...text.matchAll(/^(\w+): schema version (\d+) -> (\d+)$/gm)].map((m) => [m[1], m[2], m[3]]);
  for (const [component, from, to] of versions(again.stdout)) assert.equal(from, to, `${component} migrated twice`);
  assert.deepEqual(versions(again.stdout).map((v) => v[2]), versions(first.stdout).map((v) => v[2]));
});

// One wallet seed for every instance (issue 9): it lives in the database, so a deposit address
// handed out by an instance that does not follow the node is credited by the one holding the
// chain-watcher lease, and that one signs a withdrawal spending the deposited coin; neither
// data directory holds a seed file; an instance whose data directory holds another seed
// refuses to start. Needs a bcoin node too (scripts/bcoin.sh, as bitcoin_wallet.test.mjs).
test('the wallet seed is shared: an address from one instance is credited and spent by the lease holder', {
  skip: skip || (process.env.SATLOAD_TEST_BCOIN_URL === 'skip' && 'SATLOAD_TEST_BCOIN_URL=skip'), timeout: 240_000,
}, async () => {
  const node = await RegtestNode.start({ coins: 2 });
  const db = `${SCALE_DB}${SCALE_DB.includes('?') ? '&' : '?'}schema=t_seed${randomBytes(4).toString('hex')}`;
  const args = ['--node', node.url, '--network', 'regtest', '--confirmations', '1', '--fallback-feerate', '2', '--db', db];
  const env = { SATLOAD_SEED_PASSPHRASE: 'shared seed passphrase' };
  const holder = new Server({ args, env, backends: false });
  const other = new Server({ args, env, backends: false });
  const stranger = new Server({ args: args.slice(0, -2), env, backends: false });  // embedded: its own seed file
  const waitFor = async (what, predicate, ms = 40_000) => {
    for (const deadline = Date.now() + ms; !(await predicate());) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}\n${holder.log.slice(-2000)}\n${other.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    await holder.start(60_000);
    await waitFor('the first instance taking the lease', async () => /holds the watcher lease/.test(holder.log));
    assert.match(holder.log, /created a new wallet seed in the database/);
    await other.start(60_000);
    assert.doesNotMatch(other.log, /created a new wallet seed/);
    for (const s of [holder, other]) assert.equal(existsSync(path.join(s.dataDir, 'wallet.seed')), false, 'no seed file beside --db');

    const user = await apiUser(other.url, 'erin-seed');
    const call = async (via, method, route, body) => {
      const res = await fetch(`${via.url}${route}`, {
        method, headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    const issued = await call(other, 'POST', '/api/v1/wallet/deposit-address');
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    await node.pay(issued.body.address, 70_000);
    await node.mine(1);
    await waitFor('the deposit credited by the lease holder', async () =>
      (await call(other, 'GET', '/api/v1/wallet/deposits')).body.deposits.some((d) => d.status === 'credited'));
    assert.doesNotMatch(other.log, /holds the watcher lease/, 'only the holder follows the node');

    // The holder signs with the seed that derived the other instance's address.
    const payee = testAddress(1);
    const w = await call(holder, 'POST', '/api/v1/wallet/withdrawals', { address: payee, amount_msat: 30_000_000 });
    assert.equal(w.status, 201, JSON.stringify(w.body));
    await node.inMempool(w.body.txid);
    await node.mine(1);
    await waitFor('the withdrawal confirmed', async () =>
      (await call(other, 'GET', '/api/v1/wallet/withdrawals')).body.withdrawals[0]?.status === 'confirmed');

    // A data directory holding a seed of its own (made by an embedded start) is refused on
    // this database, with one line naming the file.
    await stranger.start(60_000);
    await stranger.stop();
    const refused = new Server({ args, env, backends: false });
    copyFileSync(path.join(stranger.dataDir, 'wallet.seed'), path.join(refused.dataDir, 'wallet.seed'));
    await assert.rejects(refused.start(60_000));
    assert.match(refused.log, /wallet\.seed holds a different wallet seed/);
  } finally {
    await holder.stop();
    await other.stop();
    await stranger.stop();
    node.stop();
  }
});
