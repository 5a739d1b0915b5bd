// Bitcoin deposits and withdrawals against a real full node we did not write: our OWN throwaway
// bcoin regtest node (scripts/bcoin.sh, so invalidateblock here never touches the chains of
// other suites), reached by `satload serve --node` through a tiny TCP proxy this test can cut.
// Shown: a deposit is pending at 1 and 2 confirmations and credited at 3, exactly once, also
// across a restart; `wallet deposit` prints the BIP21 URI and the address last, the same address
// until paid; a withdrawal is accepted into a block paying the right script the right amount,
// charges amount + fee and the audit passes; refusals (above the balance, malformed, mainnet
// address, below dust) reserve nothing; the RPC cut mid-run loses and duplicates nothing;
// invalidateblock un-pends an uncredited deposit and reverses a credited one with a clear
// record, a freeze and the shortfall in the receivable; the operator withdraws platform revenue
// (`admin withdraw`) from the same hot wallet, charged to the revenue account.
// Run: SATLOAD_BIN=<build>/satload SATLOAD_BUILD_DIR=<build> node --test tests/functional/bitcoin_wallet.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import * as bitcoin from 'bitcoinjs-lib';
import { Server, runCli, tempDir, lastLine, SCALE_DB, SCALE_BLOBS } from '../lib/server.mjs';
import { apiUser, adminApi, ownedUpload } from '../lib/owned.mjs';
import { rpcClient, runChainTool as runTool } from '../lib/regtest.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// The suite needs a bcoin install (make test provides one); "skip" opts out as the interop
// suite does.
const skip = process.env.SATLOAD_TEST_BCOIN_URL === 'skip' ? 'SATLOAD_TEST_BCOIN_URL=skip' : false;

const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const FUNDING_PATH = "m/84'/1'/0'/0/0";
const SEGWIT_ACTIVE_HEIGHT = 432;
const COINBASE_MATURITY = 100;
const CONFIRMATIONS = 3;
const FEE_SAT = 2_000; // what our funding transactions pay
const PASSWORD = 'correct horse battery staple 7';
const WAIT_MS = 40_000;
const MAX_WITHDRAWAL_SAT = 50_000; // above it a withdrawal waits for `satload admin approve` // the watcher polls every second and backs off to 8 s

let nodeDir;
let rpc;
let proxy;
let server;
let funding;
let payee;
const coins = []; // mature coinbase outputs paying the funding key
const homes = {};

// A TCP proxy in front of the node's RPC port; cut() refuses connections until restore().
function startProxy(target) {
  const sockets = new Set();
  let srv;
  let port = 0;
  const listen = () => new Promise((resolve) => {
    srv = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      sockets.add(client);
      sockets.add(upstream);
      client.pipe(upstream).pipe(client);
      const done = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
      client.on('error', done);
      upstream.on('error', done);
      client.on('close', done);
      upstream.on('close', done);
    });
    srv.listen(port, '127.0.0.1', () => { port = srv.address().port; resolve(); });
  });
  return {
    listen,
    get port() { return port; },
    cut: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      srv.close(() => resolve());
    }),
    restore: listen,
  };
}

function deriveKey(index) {
  const out = runTool(['derive', '--mnemonic', MNEMONIC, '--network', 'regtest', '--account', '0',
    '--change', '0', '--from', String(index), '--count', '1']);
  const key = out.keys[0];
  return { address: key.address, script: scriptOf(key.address), bcoinAddress: toBcoin(key.address) };
}

// bcoin's regtest prefix is "rb"; satload's (Bitcoin Core's) is "bcrt": same witness program.
function toBcoin(address) {
  const { version, data } = bitcoin.address.fromBech32(address);
  return bitcoin.address.toBech32(data, version, 'rb');
}
function scriptOf(address) {
  return runTool(['address', '--network', 'regtest', '--address', address]).script_pubkey;
}

async function mine(n) {
  return rpc('generatetoaddress', n, funding.bcoinAddress);
}

async function waitFor(what, predicate, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}\n--- server log ---\n${server?.log.slice(-3000)}`);
    await sleep(100);
  }
}

// Pays `sat` to `address` from a fresh coinbase coin (change back to the funding key) and
// waits until the node's mempool holds it. Returns the txid.
async function pay(address, sat) {
  const coin = coins.shift();
  assert.ok(coin, 'out of funding coins');
  const change = coin.value_sat - sat - FEE_SAT;
  const tx = runTool(['spend', '--mnemonic', MNEMONIC, '--network', 'regtest',
    '--input', `${coin.txid}:${coin.vout}:${coin.value_sat}:${FUNDING_PATH}`,
    '--output', `${address}:${sat}`, '--output', `${funding.address}:${change}`]);
  await rpc('sendrawtransaction', tx.hex);
  await waitFor('the payment in the mempool', async () => (await rpc('getrawmempool')).includes(tx.txid), 10_000);
  return tx.txid;
}

const serveArgs = () => ['--node', `http://satload:${new URL(nodeUrl()).password}@127.0.0.1:${proxy.port}/`,
  '--network', 'regtest', '--confirmations', String(CONFIRMATIONS), '--fallback-feerate', '2',
  '--max-withdrawal', String(MAX_WITHDRAWAL_SAT)];
let nodeUrlText;
const nodeUrl = () => nodeUrlText;

async function startServer(dataDir) {
  server = new Server({ dataDir, args: serveArgs(), env: { SATLOAD_SEED_PASSPHRASE: 'test seed passphrase' } });
  await server.start(60_000);
}

function cli(user, args) {
  return runCli(args, { env: { SATLOAD_HOME: homes[user] } });
}

async function registerCli(user) {
  homes[user] = tempDir(`satload-home-${user}-`);
  const r = await runCli(['account', 'register', user, '--server', server.url], {
    env: { SATLOAD_HOME: homes[user], SATLOAD_PASSWORD: PASSWORD },
  });
  assert.equal(r.code, 0, r.stderr);
}

async function api(method, route, token, body) {
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function cliToken(user) {
  const session = JSON.parse(readFileSync(path.join(homes[user], 'session.json'), 'utf8'));
  return session.token;
}

async function depositsOf(token) {
  const r = await api('GET', '/api/v1/wallet/deposits', token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.deposits;
}
// A deposit of `sat` to the user's address, mined to the confirmations that credit it.
async function depositAndCredit(token, sat) {
  const { body } = await api('POST', '/api/v1/wallet/deposit-address', token);
  await pay(body.address, sat);
  await mine(CONFIRMATIONS);
  await waitFor('credited', async () => (await depositsOf(token))[0]?.status === 'credited');
}
async function walletOf(token) {
  const r = await api('GET', '/api/v1/wallet', token);
  assert.equal(r.status, 200);
  return r.body;
}

before(async () => {
  if (skip) return;
  nodeDir = tempDir('satload-bcoin-');
  const started = spawnSync(path.join(root, 'scripts', 'bcoin.sh'), ['start', nodeDir], { encoding: 'utf8' });
  assert.equal(started.status, 0, started.stderr);
  nodeUrlText = started.stdout.trim();
  rpc = rpcClient(nodeUrlText);
  const u = new URL(nodeUrlText);
  proxy = startProxy({ host: u.hostname, port: Number(u.port) });
  await proxy.listen();
  funding = deriveKey(0);
  payee = deriveKey(1);
  // Segwit active and 30 mature coinbases paying the funding key.
  const hashes = await mine(SEGWIT_ACTIVE_HEIGHT + 30 + COINBASE_MATURITY);
  for (const hash of hashes.slice(0, 30)) {
    const hex = await rpc('getblock', hash, false);
    const outs = runTool(['block-outputs', '--hex', hex]).outputs;
    const mine0 = outs.find((o) => o.script_pubkey === funding.script);
    coins.push(mine0);
  }
  await startServer(tempDir('satload-data-'));
});

after(async () => {
  if (server) await server.stop();
  if (proxy) await proxy.cut().catch(() => {});
  if (nodeDir) spawnSync(path.join(root, 'scripts', 'bcoin.sh'), ['stop', nodeDir]);
});

test('deposit: BIP21 URI then the address, pending at 1 and 2 confirmations, credited at 3 exactly once, also after a restart',
  { skip, timeout: 240_000 }, async () => {
    await registerCli('alice');
    const first = await cli('alice', ['wallet', 'deposit']);
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.trim().split('\n');
    assert.equal(lines.length, 2, 'no QR code when stdout is not a terminal');
    const address = lastLine(first.stdout);
    assert.match(address, /^bcrt1q[02-9ac-hj-np-z]{38}$/);
    assert.equal(lines[0], `bitcoin:${address}`);
    const again = await cli('alice', ['wallet', 'deposit']);
    assert.equal(lastLine(again.stdout), address, 'the same address until it is paid');
    // On a terminal (util-linux `script` gives it one) a QR code in half blocks comes first.
    const tty = spawnSync('script', ['-q', '-e', '-c', `${process.env.SATLOAD_BIN} wallet deposit`, '/dev/null'], {
      encoding: 'utf8', env: { ...process.env, SATLOAD_HOME: homes.alice },
    });
    assert.equal(tty.status, 0, tty.stderr);
    const ttyLines = tty.stdout.replace(/\r/g, '').trim().split('\n');
    assert.equal(ttyLines.at(-1), address);
    assert.equal(ttyLines.at(-2), `bitcoin:${address}`);
    const qr = ttyLines.slice(0, -2);
    assert.ok(qr.length >= 12, 'a QR code of a dozen lines or more');
    assert.ok(qr.every((l) => /^[\u2580\u2584\u2588 ]+$/.test(l) && l.length === qr[0].length), 'half-block rows of one width');

    const token = await cliToken('alice');
    const txid = await pay(address, 100_000);
    assert.deepEqual(await depositsOf(token), [], 'nothing before a block');
    await mine(1);
    let d = await waitFor('1 confirmation', async () => {
      const list = await depositsOf(token);
      return list.length === 1 && list[0].confirmations === 1 ? list : null;
    });
    assert.deepEqual(d[0], { txid, vout: 0, amount_msat: 100_000_000, confirmations: 1, status: 'pending' });
    assert.equal((await walletOf(token)).balance_msat, 0);
    await mine(1);
    d = await waitFor('2 confirmations', async () => {
      const list = await depositsOf(token);
      return list[0].confirmations === 2 ? list : null;
    });
    assert.equal(d[0].status, 'pending');
    assert.equal((await walletOf(token)).balance_msat, 0, 'not credited at 2');
    await mine(1);
    await waitFor('credited at 3', async () => (await depositsOf(token))[0].status === 'credited');
    assert.equal((await walletOf(token)).balance_msat, 100_000_000);
    const paid = await cli('alice', ['wallet', 'deposit']);
    assert.notEqual(lastLine(paid.stdout), address, 'a paid address is not handed out again');

    // A restart (same data directory, same seed) re-reads everything and credits nothing again.
    const dataDir = server.dataDir;
    await server.stop();
    await startServer(dataDir);
    // The restarted server listens on another port: log the CLI in there.
    const login = await runCli(['account', 'login', 'alice', '--server', server.url], {
      env: { SATLOAD_HOME: homes.alice, SATLOAD_PASSWORD: PASSWORD },
    });
    assert.equal(login.code, 0, login.stderr);
    await mine(2);
    await waitFor('the restarted watcher following', async () => (await depositsOf(token))[0].confirmations === 5);
    assert.equal((await walletOf(token)).balance_msat, 100_000_000);
    const history = await api('GET', '/api/v1/wallet/history', token);
    assert.equal(history.body.entries.filter((e) => e.kind === 'deposit').length, 1);
    if (SCALE_DB) assert.equal(existsSync(path.join(dataDir, 'wallet.seed')), false, 'the seed lives in the database');
    else assert.match(readFileSync(path.join(dataDir, 'wallet.seed')).subarray(0, 7).toString(), /^SLSEED1$/);
    // With --db the chain tables live in the server's PostgreSQL schema, not in a meta.sqlite.
    if (SCALE_DB) assert.equal(existsSync(path.join(dataDir, 'meta.sqlite')), false, 'no SQLite chain store beside --db');
  });

test('withdrawal: refusals reserve nothing; a withdrawal is mined paying the right script the right amount, charged amount + fee, and the audit passes',
  { skip, timeout: 240_000 }, async () => {
    const token = await cliToken('alice');
    const before = await walletOf(token);
    assert.equal(before.balance_msat, 100_000_000);
    assert.equal(before.available_msat, 100_000_000);
    const refusals = [
      [[payee.address, '200000sat'], /insufficient|holds/i],
      [['bcrt1qnotanaddress', '1000sat'], /address/i],
      [['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', '1000sat'], /another network/i],
      [[payee.address, '500sat'], /dust/i],
    ];
    for (const [args, message] of refusals) {
      const r = await cli('alice', ['wallet', 'withdraw', ...args]);
      assert.notEqual(r.code, 0, `${args} was accepted`);
      assert.match(r.stderr, message);
    }
    const apiRefusal = await api('POST', '/api/v1/wallet/withdrawals', token, { address: payee.address, amount_msat: 400_000 });
    assert.equal(apiRefusal.status, 400);
    assert.equal(apiRefusal.body.type, 'https://satload.dev/problems/amount-below-dust');
    const afterRefusals = await walletOf(token);
    assert.deepEqual(afterRefusals, before, 'refusals reserved nothing');
    assert.deepEqual((await api('GET', '/api/v1/wallet/withdrawals', token)).body.withdrawals, []);

    const r = await cli('alice', ['wallet', 'withdraw', payee.address, '30000sat']);
    assert.equal(r.code, 0, r.stderr);
    const txid = lastLine(r.stdout);
    assert.match(txid, /^[0-9a-f]{64}$/);
    assert.ok((await rpc('getrawmempool')).includes(txid), 'bcoin took it into its mempool');
    const [w] = (await api('GET', '/api/v1/wallet/withdrawals', token)).body.withdrawals;
    assert.equal(w.txid, txid);
    assert.equal(w.amount_msat, 30_000_000);
    assert.ok(w.fee_msat > 0 && w.fee_msat % 1000 === 0);
    const reserved = await walletOf(token);
    assert.equal(reserved.available_msat, 100_000_000 - 30_000_000 - w.fee_msat);
    assert.equal(reserved.balance_msat, 100_000_000);

    const [hash] = await mine(1);
    const block = runTool(['block-outputs', '--hex', await rpc('getblock', hash, false)]).outputs;
    const outs = block.filter((o) => o.txid === txid);
    const toPayee = outs.filter((o) => o.script_pubkey === payee.script);
    assert.deepEqual(toPayee.map((o) => o.value_sat), [30_000]);
    assert.ok(outs.length <= 2, 'the payee and at most one change output');
    await mine(CONFIRMATIONS - 1);
    await waitFor('the withdrawal posted', async () =>
      (await api('GET', '/api/v1/wallet/withdrawals', token)).body.withdrawals[0].status === 'confirmed');
    const after = await walletOf(token);
    assert.equal(after.balance_msat, 100_000_000 - 30_000_000 - w.fee_msat);
    assert.equal(after.pending_out_msat, 0);
    const audit = await runCli(['admin', 'audit', '--data', server.dataDir]);
    assert.equal(audit.code, 0, audit.stdout + audit.stderr);
    // The encrypted seed is part of a backup (without it the wallet's coins are lost). On
    // PostgreSQL or S3 backup refuses and names the engines' own tools; the seed stays in the
    // data directory.
    const backupDir = path.join(tempDir('satload-backup-'), 'b');
    const backup = await runCli(['admin', 'backup', backupDir, '--data', server.dataDir]);
    if (SCALE_DB || SCALE_BLOBS) {
      assert.notEqual(backup.code, 0, backup.stdout);
      assert.match(backup.stderr, /pg_dump/);
      assert.equal(existsSync(path.join(backupDir, 'wallet.seed')), false);
      return;
    }
    assert.equal(backup.code, 0, backup.stderr);
    assert.deepEqual(readFileSync(path.join(backupDir, 'wallet.seed')), readFileSync(path.join(server.dataDir, 'wallet.seed')));
    assert.equal(JSON.parse(readFileSync(path.join(backupDir, 'manifest.json'), 'utf8')).wallet_seed, 'wallet.seed');
  });

test('the node unreachable mid-run: the watcher retries and catches up without losing or duplicating a credit',
  { skip, timeout: 240_000 }, async () => {
    const bob = await apiUser(server.url, 'bob');
    const { body } = await api('POST', '/api/v1/wallet/deposit-address', bob.token);
    assert.equal(body.uri, `bitcoin:${body.address}`);
    await proxy.cut();
    const txid = await pay(body.address, 70_000);
    await mine(CONFIRMATIONS + 1);
    await waitFor('the watcher noticing', async () => /retrying with back-off/.test(server.log));
    assert.deepEqual(await depositsOf(bob.token), [], 'nothing seen while the node is away');
    await proxy.restore();
    await waitFor('caught up and credited', async () => {
      const d = await depositsOf(bob.token);
      return d.length === 1 && d[0].status === 'credited';
    });
    assert.equal((await depositsOf(bob.token))[0].txid, txid);
    await mine(1);
    await waitFor('one more round', async () => (await depositsOf(bob.token))[0].confirmations === CONFIRMATIONS + 2);
    assert.equal((await walletOf(bob.token)).balance_msat, 70_000_000, 'credited exactly once');
  });

test('a withdrawal above --max-withdrawal is reserved but waits for satload admin approve, which broadcasts it',
  { skip, timeout: 240_000 }, async () => {
    const bob = await apiUser(server.url, 'bob2');
    await depositAndCredit(bob.token, 90_000);
    const w = await api('POST', '/api/v1/wallet/withdrawals', bob.token, { address: payee.address, amount_msat: 60_000_000 });
    assert.equal(w.status, 201, JSON.stringify(w.body));
    assert.equal(w.body.status, 'awaiting_approval');
    assert.equal(w.body.txid, undefined);
    assert.equal((await walletOf(bob.token)).available_msat, 90_000_000 - 60_000_000 - w.body.fee_msat, 'reserved');
    const mempoolBefore = await rpc('getrawmempool');
    await mine(1);
    assert.equal((await api('GET', '/api/v1/wallet/withdrawals', bob.token)).body.withdrawals[0].status, 'awaiting_approval');
    const approved = await runCli(['admin', 'approve', w.body.id, '--data', server.dataDir]);
    assert.equal(approved.code, 0, approved.stderr);
    const txid = lastLine(approved.stdout);
    assert.match(txid, /^[0-9a-f]{64}$/);
    assert.ok(!mempoolBefore.includes(txid));
    assert.ok((await rpc('getrawmempool')).includes(txid), 'broadcast on approval');
    const again = await runCli(['admin', 'approve', w.body.id, '--data', server.dataDir]);
    assert.notEqual(again.code, 0, 'a second approval is refused');
    await mine(CONFIRMATIONS);
    await waitFor('posted', async () =>
      (await api('GET', '/api/v1/wallet/withdrawals', bob.token)).body.withdrawals[0].status === 'confirmed');
    const left = 90_000_000 - 60_000_000 - w.body.fee_msat;
    assert.equal((await walletOf(bob.token)).balance_msat, left);

    // `admin reject`: a held withdrawal is refused, nothing is sent and the money is back.
    const more = (await api('POST', '/api/v1/wallet/deposit-address', bob.token)).body.address;
    await pay(more, 60_000);
    await mine(CONFIRMATIONS);
    await waitFor('credited', async () => (await walletOf(bob.token)).available_msat === left + 60_000_000);
    const second = await api('POST', '/api/v1/wallet/withdrawals', bob.token, { address: payee.address, amount_msat: 51_000_000 });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.body.status, 'awaiting_approval');
    assert.equal((await walletOf(bob.token)).available_msat, left + 60_000_000 - 51_000_000 - second.body.fee_msat, 'reserved');
    const rejected = await runCli(['admin', 'reject', second.body.id, '--data', server.dataDir]);
    assert.equal(rejected.code, 0, rejected.stderr);
    assert.match(rejected.stdout, /voided/);
    assert.equal((await walletOf(bob.token)).available_msat, left + 60_000_000, 'the money is back');
    const listed = (await api('GET', '/api/v1/wallet/withdrawals', bob.token)).body.withdrawals;
    assert.equal(listed.find((x) => x.id === second.body.id).status, 'voided');
    const late = await runCli(['admin', 'approve', second.body.id, '--data', server.dataDir]);
    assert.notEqual(late.code, 0, 'a rejected withdrawal cannot be approved');
  });

// A withdrawal whose answer was lost is sent again under the same Idempotency-Key: over HTTP
// and through the CLI (`--idempotency-key`), the second request answers the first withdrawal
// (200, same id and txid) instead of sending a second; the key with another amount is 422 and
// reserves nothing; a malformed key is 400.
test('a withdrawal sent again under its Idempotency-Key goes out once (HTTP and the CLI)',
  { skip, timeout: 240_000 }, async () => {
    const gail = await apiUser(server.url, 'gail');
    await depositAndCredit(gail.token, 90_000);
    const post = async (key, amountMsat) => {
      const res = await fetch(`${server.url}/api/v1/wallet/withdrawals`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${gail.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify({ address: payee.address, amount_msat: amountMsat }),
      });
      return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
    };
    const first = await post('gail-key-1', 20_000_000);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.status, 'broadcast');
    const charged = (await walletOf(gail.token)).available_msat;
    assert.equal(charged, 90_000_000 - 20_000_000 - first.body.fee_msat);
    const again = await post('gail-key-1', 20_000_000);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.txid, first.body.txid);
    const reused = await post('gail-key-1', 21_000_000);
    assert.equal(reused.status, 422, JSON.stringify(reused.body));
    assert.equal(reused.type, 'application/problem+json');
    assert.match(reused.body.type, /idempotency-key-reused$/);
    const malformed = await post('not a key', 20_000_000);
    assert.equal(malformed.status, 400, JSON.stringify(malformed.body));
    assert.equal((await walletOf(gail.token)).available_msat, charged, 'reserved once');
    assert.equal((await api('GET', '/api/v1/wallet/withdrawals', gail.token)).body.withdrawals.length, 1);
    await mine(1);

    await registerCli('hank');
    const hank = await cliToken('hank');
    await depositAndCredit(hank, 90_000);
    const args = ['wallet', 'withdraw', payee.address, '10000sat', '--idempotency-key', 'hank-run-1'];
    const run1 = await cli('hank', args);
    assert.equal(run1.code, 0, run1.stderr);
    const run2 = await cli('hank', args);
    assert.equal(run2.code, 0, run2.stderr);
    const txid = lastLine(run1.stdout);
    assert.match(txid, /^[0-9a-f]{64}$/);
    assert.equal(lastLine(run2.stdout), txid, 'the second run answers the first withdrawal');
    const listed = (await api('GET', '/api/v1/wallet/withdrawals', hank)).body.withdrawals;
    assert.equal(listed.length, 1);
    assert.equal((await walletOf(hank)).available_msat, 90_000_000 - 10_000_000 - listed[0].fee_msat);
    const other = await cli('hank', ['wallet', 'withdraw', payee.address, '11000sat', '--idempotency-key', 'hank-run-1']);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /Idempotency-Key was used for withdrawal/);
    assert.equal(other.stderr.trim().split('\n').length, 1, 'one line on stderr');
    await mine(1);
  });

test('invalidateblock: an uncredited deposit is un-pended; a credited one is reversed with a record, the shortfall owed and the wallet frozen',
  { skip, timeout: 240_000 }, async () => {
    // Uncredited: one confirmation, then its block is invalidated.
    const carol = await apiUser(server.url, 'carol');
    const a = (await api('POST', '/api/v1/wallet/deposit-address', carol.token)).body.address;
    await pay(a, 20_000);
    const [pendingBlock] = await mine(1);
    await waitFor('pending', async () => (await depositsOf(carol.token))[0]?.status === 'pending');
    await rpc('invalidateblock', pendingBlock);
    const orphaned = await waitFor('un-pended', async () => {
      const d = await depositsOf(carol.token);
      return d[0].status === 'orphaned' ? d : null;
    });
    assert.equal(orphaned[0].confirmations, 0);
    assert.equal((await walletOf(carol.token)).balance_msat, 0);

    // Credited, then partly reserved by a withdrawal, then taken back by a reorg.
    const dave = await apiUser(server.url, 'dave');
    const b = (await api('POST', '/api/v1/wallet/deposit-address', dave.token)).body.address;
    const depositTxid = await pay(b, 50_000);
    const [depositBlock] = await mine(CONFIRMATIONS);
    await waitFor('credited', async () => (await depositsOf(dave.token))[0]?.status === 'credited');
    const w = await api('POST', '/api/v1/wallet/withdrawals', dave.token, { address: payee.address, amount_msat: 30_000_000 });
    assert.equal(w.status, 201, JSON.stringify(w.body));
    const available = (await walletOf(dave.token)).available_msat;
    assert.equal(available, 20_000_000 - w.body.fee_msat);
    await rpc('invalidateblock', depositBlock);
    const reversed = await waitFor('reversed', async () => {
      const d = await depositsOf(dave.token);
      return d.find((x) => x.txid === depositTxid && x.status === 'reversed') ? d : null;
    });
    assert.ok(reversed);
    const wallet = await walletOf(dave.token);
    assert.equal(wallet.available_msat, 0, 'the wallet gave what it had, and never went below zero');
    assert.ok(wallet.balance_msat >= 0);
    assert.match(server.log, /ALERT chain watcher: CREDITED deposit/);
    assert.match(server.log, new RegExp(`reversed deposit ${depositTxid}:0 .* ${available} msat from the wallet, ${50_000_000 - available} msat to the receivable and the wallet is FROZEN`));
    const history = await api('GET', '/api/v1/wallet/history', dave.token);
    assert.ok(history.body.entries.some((e) => e.kind === 'deposit_reversal' && e.amount_msat === -available));
    const refused = await api('POST', '/api/v1/wallet/withdrawals', dave.token, { address: payee.address, amount_msat: 1_000_000 });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.type, 'https://satload.dev/problems/wallet-frozen');
    const audit = await adminApi(server.dataDir).audit();
    assert.equal(audit.body.passed, true, JSON.stringify(audit.body));
    // The chain's deposit records, reversals included, agree with the ledger's credits.
    const deposits = audit.body.checks.find((c) => c.name === 'chain_deposits');
    assert.ok(deposits, JSON.stringify(audit.body.checks));
    assert.equal(deposits.passed, true, deposits.detail);
    assert.match(deposits.detail, /^\d+ deposit records, [1-9]\d* credits found in the ledger as recorded$/);
  });

// The operator withdraws the platform's share of a paid download: the revenue account pays
// amount + fee, the node mines it to the right script, refusals reserve nothing, and the audit
// passes.
test('admin withdraw sends platform revenue on chain, charged to the revenue account',
  { skip, timeout: 240_000 }, async () => {
    const admin = adminApi(server.dataDir);
    const uploader = await apiUser(server.url, 'revenue-uploader');
    const payer = await apiUser(server.url, 'revenue-payer');
    assert.equal((await admin.credit(payer.username, 500_000_000)).status, 200);
    const price = 200_000_000; // 200,000 sat: the platform's 10% is 20,000 sat
    const f = await ownedUpload(server.url, uploader, 'paid.bin', Buffer.alloc(900, 7), { meta: { price_msat: price } });
    assert.equal(f.res.status, 201, f.text);
    const challenge = await (await fetch(`${server.url}/d/${f.id}`)).json();
    const paid = await api('POST', '/api/v1/pay', payer.token, { invoice: challenge.invoice, max_msat: price });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.receipt.platform_msat, 20_000_000);
    const revenue = async () => (await admin.balances()).body.platform_revenue_msat;
    const adminFile = JSON.parse(readFileSync(path.join(server.dataDir, 'admin.json'), 'utf8'));
    const platformWithdrawals = async () => {
      const res = await fetch(`${adminFile.url}/api/v1/admin/withdrawals`, { headers: { Authorization: `Bearer ${adminFile.token}` } });
      assert.equal(res.status, 200);
      return (await res.json()).withdrawals;
    };
    const before = await revenue();
    assert.ok(before >= 20_000_000, `revenue ${before}`);

    const tooMuch = await runCli(['admin', 'withdraw', payee.address, `${Math.floor(before / 1000) + 1}sat`, '--data', server.dataDir]);
    assert.notEqual(tooMuch.code, 0, 'more than the revenue is refused');
    assert.match(tooMuch.stderr, /holds|insufficient/i);
    const bad = await runCli(['admin', 'withdraw', 'bcrt1qnotanaddress', '1000sat', '--data', server.dataDir]);
    assert.notEqual(bad.code, 0);
    assert.equal(await revenue(), before, 'refusals reserved nothing');

    const r = await runCli(['admin', 'withdraw', payee.address, '10000sat', '--data', server.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const txid = lastLine(r.stdout);
    assert.match(txid, /^[0-9a-f]{64}$/);
    const listed = await platformWithdrawals();
    const w = listed.find((x) => x.txid === txid);
    assert.ok(w, JSON.stringify(listed));
    const [hash] = await mine(1);
    const outs = runTool(['block-outputs', '--hex', await rpc('getblock', hash, false)]).outputs.filter((o) => o.txid === txid);
    assert.deepEqual(outs.filter((o) => o.script_pubkey === payee.script).map((o) => o.value_sat), [10_000]);
    await mine(CONFIRMATIONS - 1);
    await waitFor('the withdrawal posted', async () =>
      (await platformWithdrawals()).find((x) => x.txid === txid).status === 'confirmed');
    assert.equal(await revenue(), before - 10_000_000 - w.fee_msat);
    const audit = await runCli(['admin', 'audit', '--data', server.dataDir]);
    assert.equal(audit.code, 0, audit.stdout + audit.stderr);
  });

// Several instances on one database (issue 9): only the holder of the chain-watcher lease
// follows the node; killed with SIGKILL, another instance takes the lease over within seconds,
// and no deposit is missed (one mined while the holder was dead) or credited twice.
test('two instances: the lease holder killed with SIGKILL, the other takes over and credits each deposit once',
  { skip: skip || (!SCALE_DB && 'runs in the scale-out stage (SATLOAD_TEST_DB_URL names PostgreSQL)'), timeout: 240_000 },
  async () => {
    const tag = `lease${Date.now().toString(36)}`;
    const shared = [...serveArgs(), '--db', `${SCALE_DB}${SCALE_DB.includes('?') ? '&' : '?'}schema=t_${tag}`];
    const env = { SATLOAD_SEED_PASSPHRASE: 'test seed passphrase' };
    const first = await new Server({ args: shared, env, backends: false }).start(60_000);
    const second = new Server({ args: shared, env, backends: false });
    try {
      await waitFor('the first instance taking the lease', async () => /holds the watcher lease/.test(first.log));
      await second.start(60_000);
      const carol = await apiUser(first.url, 'carol-lease');
      const deposit = async (via, sat) => {
        const res = await fetch(`${via.url}/api/v1/wallet/deposit-address`, { method: 'POST', headers: { Authorization: `Bearer ${carol.token}` } });
        assert.equal(res.status, 200);
        const { address } = await res.json();
        return pay(address, sat);
      };
      const credited = async (via) => {
        const res = await fetch(`${via.url}/api/v1/wallet/deposits`, { headers: { Authorization: `Bearer ${carol.token}` } });
        return (await res.json()).deposits.filter((d) => d.status === 'credited');
      };
      await deposit(first, 41_000);
      await mine(CONFIRMATIONS);
      await waitFor('the first deposit credited by the lease holder', async () => (await credited(second)).length === 1);
      assert.doesNotMatch(second.log, /holds the watcher lease/, 'one instance follows the node');

      await first.kill();
      // Mined while no instance follows the node: it must not be missed.
      await deposit(second, 42_000);
      await mine(CONFIRMATIONS);
      await waitFor('the second instance taking the lease over', async () => /holds the watcher lease/.test(second.log), 20_000);
      await waitFor('the second deposit credited', async () => (await credited(second)).length === 2);
      await mine(2);
      await sleep(3_000);  // more rounds credit nothing again
      assert.equal((await credited(second)).length, 2);
      const res = await fetch(`${second.url}/api/v1/wallet`, { headers: { Authorization: `Bearer ${carol.token}` } });
      assert.equal((await res.json()).balance_msat, (41_000 + 42_000) * 1000, 'each deposit credited once');
      const audit = await adminApi(second.dataDir).audit();
      assert.equal(audit.body.passed, true, JSON.stringify(audit.body));
    } finally {
      await first.stop();
      await second.stop();
    }
  });

test('without --node the bitcoin routes answer 503 onchain-unavailable', { timeout: 60_000 }, async () => {
  const plain = await new Server().start();
  try {
    const user = await apiUser(plain.url, 'erin');
    for (const [method, route] of [['POST', '/api/v1/wallet/deposit-address'], ['GET', '/api/v1/wallet/deposits'],
      ['GET', '/api/v1/wallet/withdrawals'], ['POST', '/api/v1/wallet/withdrawals']]) {
      const res = await fetch(`${plain.url}${route}`, { method, headers: { Authorization: `Bearer ${user.token}` } });
      assert.equal(res.status, 503, route);
      assert.equal((await res.json()).type, 'https://satload.dev/problems/onchain-unavailable');
    }
  } finally {
    await plain.stop();
  }
});

test('serve refuses --network main without a seed passphrase', { timeout: 60_000 }, async () => {
  const r = await runCli(['serve', '--listen', '127.0.0.1:0', '--data', tempDir('satload-data-'),
    '--node', 'http://satload:x@127.0.0.1:9/', '--network', 'main'], { env: { SATLOAD_SEED_PASSPHRASE: '' }, timeoutMs: 30_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /refusing to start on main without a seed passphrase/);
});
