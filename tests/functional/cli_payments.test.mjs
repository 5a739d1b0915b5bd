// Paid downloads with the real binary, the way users run it: accounts registered with
// `satload account register` (each in its own SATLOAD_HOME), the payer funded with `satload
// admin credit`, a priced `satload put`, a referral link from `satload share`, and `satload get
// --max-price` paying the 402 itself. Balances come from `satload wallet balance --json` and
// must be exact to the msat; `wallet history` shows the receipt with its split and `account
// earnings` the download. Refusals (price above --max-price, no consent, no funds, no login)
// must move nothing. `admin credit` also works offline, and the audit passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Server, runCli, tempDir, lastLine, parseLink, BIN } from '../lib/server.mjs';

const PASSWORD = 'correct horse battery staple 7';
const PRICE_MSAT = 1_000_000; // 1000sat
const FUNDS_MSAT = 5_000_000; // 5000sat

let server;
const homes = {};

function cli(user, args, opts = {}) {
  return runCli(args, { ...opts, env: { SATLOAD_HOME: homes[user], ...(opts.env ?? {}) } });
}

async function register(user) {
  homes[user] = tempDir(`satload-home-${user}-`);
  const r = await runCli(['account', 'register', user, '--server', server.url], {
    env: { SATLOAD_HOME: homes[user], SATLOAD_PASSWORD: PASSWORD },
  });
  assert.equal(r.code, 0, r.stderr);
}

async function balance(user) {
  const r = await cli(user, ['wallet', 'balance', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const b = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(b).sort(), ['available_msat', 'balance_msat', 'pending_in_msat', 'pending_out_msat']);
  return b.balance_msat;
}

async function balances(users) {
  const out = {};
  for (const u of users) out[u] = await balance(u);
  return out;
}

async function credit(user, amount, extra = []) {
  const r = await runCli(['admin', 'credit', user, amount, '--data', server.dataDir, ...extra]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return r;
}

// A priced file uploaded by `user`: {link, id, content}.
async function pricedUpload(user, price, size = 200_000) {
  const content = randomBytes(size);
  const file = path.join(tempDir('satload-src-'), 'paid report.bin');
  writeFileSync(file, content);
  const r = await cli(user, ['put', file, '--price', price, '--server', server.url]);
  assert.equal(r.code, 0, r.stderr);
  const link = lastLine(r.stdout);
  return { link, id: parseLink(link).id, content };
}

function outPath(name = 'out.bin') {
  return path.join(tempDir('satload-get-'), name);
}

before(async () => {
  server = await new Server().start();
  for (const u of ['uploader', 'referrer', 'payer', 'poor']) await register(u);
  const r = await credit('payer', '5000sat', ['--reason', 'test funds']);
  assert.match(r.stdout, /^credited 5000000 msat \(5000 sat\) to payer \(through the server at http:\/\/127\.0\.0\.1:\d+\): balance 5000000 msat \(5000 sat\), transfer [0-9a-f]{32}$/m);
});

after(async () => {
  if (server) await server.stop();
});

// The whole flow: a referral link, a paid download with exact balances for all four parties,
// the grant kept (0600) so the second download pays nothing, the session alone serving the
// payer once the grant file is gone, the receipt with its split in every party's history,
// and the download in the uploader's and the referrer's earnings.
test('three accounts: paid download through a referral link, exact split, second get free', async () => {
  const before = await balances(['uploader', 'referrer', 'payer']);
  assert.deepEqual(before, { uploader: 0, referrer: 0, payer: FUNDS_MSAT });
  const { link, id, content } = await pricedUpload('uploader', '1000sat');

  // Without paying, the file is not served.
  assert.equal((await fetch(`${server.url}/d/${id}`)).status, 402);

  const share = await cli('referrer', ['share', link]);
  assert.equal(share.code, 0, share.stderr);
  const shared = share.stdout.trim();
  const m = shared.match(/^(.*\/f\/[A-Za-z0-9_-]{22})\?r=([A-Za-z0-9_-]+)(#.*)$/);
  assert.ok(m, shared);
  assert.equal(m[1] + m[3], link, 'only ?r= was added');
  // Sharing an already shared link replaces the code instead of adding a second one.
  const reshared = await cli('uploader', ['share', shared]);
  assert.equal(reshared.code, 0, reshared.stderr);
  assert.equal((reshared.stdout.match(/\?r=/g) ?? []).length, 1);
  assert.notEqual(reshared.stdout.trim(), shared);

  const out = outPath();
  const got = await cli('payer', ['get', shared, '-o', out, '--max-price', '1000sat']);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout.trim(), out);
  assert.ok(readFileSync(out).equals(content), 'the paid file decrypts to the uploaded bytes');
  assert.match(got.stderr, /this file costs 1000000 msat \(1000 sat\)/);
  assert.match(got.stderr, /paid 1000000 msat \(1000 sat\): uploader 800000 msat \(800 sat\), referrer 100000 msat \(100 sat\), platform 100000 msat \(100 sat\)/);

  const after = await balances(['uploader', 'referrer', 'payer']);
  assert.deepEqual(after, { uploader: 800_000, referrer: 100_000, payer: FUNDS_MSAT - PRICE_MSAT });
  // Everything credited is still in user wallets except the platform's share.
  const platform = FUNDS_MSAT - (after.uploader + after.referrer + after.payer);
  assert.equal(platform, 100_000);

  // The grant is kept, private, in the documented shape.
  const grantFile = path.join(homes.payer, 'grants', `${id}.json`);
  assert.equal(statSync(grantFile).mode & 0o777, 0o600);
  const grant = JSON.parse(readFileSync(grantFile, 'utf8'));
  assert.match(grant.preimage, /^[0-9a-f]{64}$/);
  assert.ok(grant.macaroon.length > 100);
  assert.ok(grant.expires > Date.now() / 1000, JSON.stringify(grant));
  // It is a working bearer credential on its own.
  const direct = await fetch(`${server.url}/d/${id}`, { headers: { Authorization: `L402 ${grant.macaroon}:${grant.preimage}` } });
  assert.equal(direct.status, 200);
  await direct.arrayBuffer();

  // Second download: no --max-price needed, nothing paid, same bytes.
  const out2 = outPath();
  const again = await cli('payer', ['get', shared, '-o', out2]);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(readFileSync(out2).equals(content));
  assert.doesNotMatch(again.stderr, /paid|costs/);
  assert.deepEqual(await balances(['uploader', 'referrer', 'payer']), after);

  // With the grant file gone the payer's session still serves the file (the server remembers
  // the grant), again for nothing.
  rmSync(grantFile);
  const out3 = outPath();
  const bySession = await cli('payer', ['get', link, '-o', out3]);
  assert.equal(bySession.code, 0, bySession.stderr);
  assert.ok(readFileSync(out3).equals(content));
  assert.deepEqual(await balances(['uploader', 'referrer', 'payer']), after);

  // The owner downloads free.
  const own = await cli('uploader', ['get', link, '-o', outPath()]);
  assert.equal(own.code, 0, own.stderr);
  assert.equal(await balance('uploader'), 800_000);

  // History: the payer's three legs are one receipt with the split.
  const hist = await cli('payer', ['wallet', 'history', '--json']);
  assert.equal(hist.code, 0, hist.stderr);
  const receipts = JSON.parse(hist.stdout);
  const paid = receipts.filter((r) => r.kind === 'download_payment');
  assert.equal(paid.length, 1, hist.stdout);
  assert.equal(paid[0].amount_msat, -PRICE_MSAT);
  assert.equal(paid[0].file_id, id);
  assert.deepEqual(paid[0].split, { uploader_msat: 800_000, referrer_msat: 100_000, platform_msat: 100_000 });
  assert.equal(paid[0].legs.length, 3);
  const funded = receipts.filter((r) => r.kind === 'adjustment');
  assert.equal(funded.length, 1);
  assert.equal(funded[0].amount_msat, FUNDS_MSAT);
  assert.equal(funded[0].memo, 'test funds');
  const text = await cli('payer', ['wallet', 'history']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`\\t-1000000 msat \\(-1000 sat\\)\\tpaid a download of file ${id}: uploader 800000 msat \\(800 sat\\), referrer 100000 msat \\(100 sat\\), platform 100000 msat \\(100 sat\\)`));
  assert.match(text.stdout, /\t\+5000000 msat \(\+5000 sat\)\tcredited by the operator \(test funds\)/);

  const upHist = JSON.parse((await cli('uploader', ['wallet', 'history', '--json'])).stdout);
  assert.deepEqual(upHist.map((r) => [r.kind, r.amount_msat, r.file_id]), [['download_payment', 800_000, id]]);
  const refHist = JSON.parse((await cli('referrer', ['wallet', 'history', '--json'])).stdout);
  assert.deepEqual(refHist.map((r) => [r.kind, r.amount_msat, r.file_id]), [['referral_reward', 100_000, id]]);

  // Earnings.
  const earn = await cli('uploader', ['account', 'earnings', '--json']);
  assert.equal(earn.code, 0, earn.stderr);
  const e = JSON.parse(earn.stdout);
  assert.deepEqual(e.files, [{ id, downloads: 1, gross_msat: PRICE_MSAT, net_msat: 800_000 }]);
  assert.equal(e.total_msat, 800_000);
  const refEarn = JSON.parse((await cli('referrer', ['account', 'earnings', '--json'])).stdout);
  assert.deepEqual(refEarn.referrals, { payments: 1, earned_msat: 100_000 });
  const earnText = await cli('uploader', ['account', 'earnings']);
  assert.match(earnText.stdout, new RegExp(`^${id}\\t1 downloads\\tgross 1000000 msat \\(1000 sat\\)\\tnet 800000 msat \\(800 sat\\)$`, 'm'));
});

// A price above --max-price is refused before paying; without --max-price and without a
// terminal nothing is paid either, and the message names --max-price. No balance moves and
// no file or grant is left behind.
test('--max-price below the price, or no consent at all, pays nothing', async () => {
  const { link, id } = await pricedUpload('uploader', '1000sat', 1000);
  const before = await balances(['uploader', 'referrer', 'payer']);

  const out = outPath();
  const low = await cli('payer', ['get', link, '-o', out, '--max-price', '999.999sat']);
  assert.equal(low.code, 1);
  assert.match(low.stderr, /not paid: the price 1000000 msat \(1000 sat\) is above --max-price 999999 msat \(999\.999 sat\)/);
  assert.equal(existsSync(out), false);

  const none = await cli('payer', ['get', link, '-o', out]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /--max-price 1000sat/);
  assert.equal(existsSync(out), false);

  const bad = await cli('payer', ['get', link, '-o', out, '--max-price', '5']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);

  assert.deepEqual(await balances(['uploader', 'referrer', 'payer']), before);
  assert.equal(existsSync(path.join(homes.payer, 'grants', `${id}.json`)), false);
});

// A payer with an empty wallet is refused with the server's reason; nothing moves, nothing
// partial is kept. Someone not logged in is told to log in.
test('an unfunded payer is refused clearly and nothing moves; paying needs a login', async () => {
  const { link, id } = await pricedUpload('uploader', '1000sat', 1000);
  const before = await balances(['uploader', 'poor']);
  assert.equal(before.poor, 0);

  const out = outPath();
  const r = await cli('poor', ['get', link, '-o', out, '--max-price', '1000sat']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /payment refused, nothing was paid: .*(insufficient|funds|balance|wallet)/i);
  assert.equal(existsSync(out), false);
  assert.deepEqual(await balances(['uploader', 'poor']), before);
  assert.equal(existsSync(path.join(homes.poor, 'grants', `${id}.json`)), false);
  const hist = JSON.parse((await cli('poor', ['wallet', 'history', '--json'])).stdout);
  assert.deepEqual(hist, []);

  const anon = await runCli(['get', link, '-o', out, '--max-price', '1000sat'], { env: { SATLOAD_HOME: tempDir('satload-home-anon-') } });
  assert.equal(anon.code, 1);
  assert.match(anon.stderr, /log in to pay: satload account login USER/);
  assert.equal(existsSync(out), false);
});

// On a terminal (a pty from `script`), get asks: "n" pays nothing, "y" pays.
test('on a terminal get asks before paying', async () => {
  const { link, content } = await pricedUpload('uploader', '2sat', 1000);
  const start = await balance('payer');
  const viaTerminal = (out, answer) => new Promise((resolve) => {
    const command = [BIN, 'get', link, '-o', out].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    const proc = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, SATLOAD_HOME: homes.payer }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = false;
    proc.stdout.on('data', (d) => {
      output += d;
      if (!answered && /\[y\/N\]/.test(output)) {
        answered = true;
        proc.stdin.write(`${answer}\n`);
      }
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  const declined = outPath();
  const no = await viaTerminal(declined, 'n');
  assert.match(no.output, /pay 2000 msat \(2 sat\) from your wallet\? \[y\/N\]/);
  assert.match(no.output, /not paid: you declined/);
  assert.notEqual(no.code, 0);
  assert.equal(existsSync(declined), false);
  assert.equal(await balance('payer'), start);

  const accepted = outPath();
  const yes = await viaTerminal(accepted, 'y');
  assert.equal(yes.code, 0, yes.output);
  assert.ok(readFileSync(accepted).equals(content));
  assert.equal(await balance('payer'), start - 2000);
});

// wallet deposit and withdraw against a server started without a bitcoin node: one line that
// says so, exit 1, nothing reserved. Bad credit amounts are one line and exit 2, and move nothing.
test('deposit and withdraw without a node say so; bad credit amounts are refused', async () => {
  const help = await cli('payer', ['wallet', '--help']);
  assert.match(help.stdout, /deposit/);
  assert.match(help.stdout, /withdraw/);
  const before = await balance('payer');
  for (const args of [['wallet', 'deposit'], ['wallet', 'withdraw', 'bcrt1qxyz', '1000sat']]) {
    const r = await cli('payer', args);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^satload: error: .*this server has no bitcoin node/);
    assert.equal(r.stdout, '');
  }
  assert.equal(await balance('payer'), before);
  const start = await balance('payer');
  for (const amount of ['1.2.3sat', '-5msat', '1e3sat', '5', '0sat', '1.5msat']) {
    const r = await runCli(['admin', 'credit', 'payer', amount, '--data', server.dataDir]);
    assert.equal(r.code, 2, `${amount}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^satload: error: AMOUNT: /);
  }
  const unknown = await runCli(['admin', 'credit', 'nobody', '1sat', '--data', server.dataDir]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no such user: nobody/);
  assert.equal(await balance('payer'), start);
});

// History pages by receipts: --limit 1 shows the newest receipt whole (all its legs; with no
// referrer the referrer's share went to the uploader) and names
// the --before that continues; following it lists the older receipts, and nothing twice.
test('wallet history pages by whole receipts', async () => {
  const all = JSON.parse((await cli('payer', ['wallet', 'history', '--json'])).stdout);
  assert.ok(all.length >= 3, JSON.stringify(all));
  const first = await cli('payer', ['wallet', 'history', '--json', '--limit', '1']);
  assert.equal(first.code, 0, first.stderr);
  const page1 = JSON.parse(first.stdout);
  assert.deepEqual(page1, all.slice(0, 1));
  // The newest is the download paid on the terminal, without a referrer: two legs, one receipt.
  assert.equal(page1[0].kind, 'download_payment');
  assert.deepEqual(page1[0].split, { uploader_msat: 1800, referrer_msat: 0, platform_msat: 200 });
  assert.equal(page1[0].legs.length, 2);
  const m = first.stderr.match(/older receipts: satload wallet history --before (\d+)/);
  assert.ok(m, first.stderr);
  const rest = await cli('payer', ['wallet', 'history', '--json', '--before', m[1], '--limit', '100']);
  assert.equal(rest.code, 0, rest.stderr);
  assert.deepEqual(JSON.parse(rest.stdout), all.slice(1));
  assert.doesNotMatch(rest.stderr, /older receipts/);
  const bad = await cli('payer', ['wallet', 'history', '--limit', '0']);
  assert.equal(bad.code, 2);
});

// A grant lasts --grant-lifetime: within it a second get pays nothing; after it the stored grant
// is dropped and the file costs money again, which needs consent again (no --max-price: refused,
// nothing moves; with it: paid once more).
test('after the grant expires, get pays again, and only with consent', async () => {
  const short = await new Server({ args: ['--grant-lifetime', '3s'] }).start();
  try {
    const home = (u) => tempDir(`satload-home-${u}-`);
    const h = { up: home('up'), pay: home('pay') };
    for (const [user, dir] of [['up2', h.up], ['pay2', h.pay]]) {
      const r = await runCli(['account', 'register', user, '--server', short.url], { env: { SATLOAD_HOME: dir, SATLOAD_PASSWORD: PASSWORD } });
      assert.equal(r.code, 0, r.stderr);
    }
    const c = await runCli(['admin', 'credit', 'pay2', '100sat', '--data', short.dataDir]);
    assert.equal(c.code, 0, c.stderr);
    const content = randomBytes(5000);
    const file = path.join(tempDir('satload-src-'), 'short.bin');
    writeFileSync(file, content);
    const put = await runCli(['put', file, '--price', '10sat'], { env: { SATLOAD_HOME: h.up } });
    assert.equal(put.code, 0, put.stderr);
    const link = lastLine(put.stdout);
    const { id } = parseLink(link);
    const bal = async () => JSON.parse((await runCli(['wallet', 'balance', '--json'], { env: { SATLOAD_HOME: h.pay } })).stdout).balance_msat;
    const get = (args) => runCli(['get', link, '-o', outPath(), ...args], { env: { SATLOAD_HOME: h.pay } });

    const first = await get(['--max-price', '10sat']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(await bal(), 90_000);
    const grant = JSON.parse(readFileSync(path.join(h.pay, 'grants', `${id}.json`), 'utf8'));
    const within = await get([]);
    assert.equal(within.code, 0, within.stderr);
    assert.equal(await bal(), 90_000);

    // Wait out the grant (its expiry is whole seconds).
    while (Date.now() / 1000 < grant.expires + 1) await new Promise((r) => setTimeout(r, 200));
    const refused = await get([]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /this file costs 10000 msat \(10 sat\)/);
    assert.match(refused.stderr, /--max-price 10sat/);
    assert.equal(await bal(), 90_000);
    assert.equal(existsSync(path.join(h.pay, 'grants', `${id}.json`)), false, 'the expired grant is dropped');

    const again = await get(['--max-price', '10sat']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /paid 10000 msat \(10 sat\)/);
    assert.equal(await bal(), 80_000);
    const earn = JSON.parse((await runCli(['account', 'earnings', '--json'], { env: { SATLOAD_HOME: h.up } })).stdout);
    assert.deepEqual(earn.files, [{ id, downloads: 2, gross_msat: 20_000, net_msat: 18_000 }]);
  } finally {
    await short.stop();
  }
});

// With the server stopped, admin credit opens the ledger itself; the audit passes afterwards.
// Runs last: it stops the shared server.
test('admin credit works offline after the server stopped, and the audit passes', async () => {
  const start = await balance('payer');
  await server.stop();
  const r = await runCli(['admin', 'credit', 'payer', '0.5sat', '--reason', 'offline top-up', '--data', server.dataDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `credited 500 msat (0.5 sat) to payer (offline): balance ${start + 500} msat (${(start + 500) / 1000} sat), transfer ${r.stdout.match(/[0-9a-f]{32}/)[0]}`);
  const audit = await runCli(['admin', 'audit', '--data', server.dataDir]);
  assert.equal(audit.code, 0, audit.stdout + audit.stderr);
  assert.match(lastLine(audit.stdout), /^audit passed \(offline\)/);
});
