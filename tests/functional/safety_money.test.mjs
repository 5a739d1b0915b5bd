// Money follows the rules, against the real binary: a file's uploader legs are held (pending
// ledger transfers) while a copyright report on it is open, released to the uploader on
// dismissal, redirected to the rights holder on an upheld claim (held ones with include_held),
// and its later earnings go to the claimant; every wallet exact to the msat and the audit
// passing. Also the transparency report's counts and --since, and the admin log's actor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Server, runCli } from '../lib/server.mjs';
import { apiUser, ownedUpload, adminApi, apiGet } from '../lib/owned.mjs';
import { admin, post } from './safety_lib.mjs';

// The default split is 80/10/10; at 1001 msat with a referrer: 801 / 100 / 100.
const PRICE = 1001;
const UPLOADER_LEG = 801;
const UPLOADER_LEG_NO_REFERRER = 901;

async function wallet(url, user) {
  return (await apiGet(url, '/api/v1/wallet', user.token)).body;
}

// Pays for the file (with the referral code, if any) and checks the split.
async function buy(url, buyer, fileId, code) {
  const res = await fetch(`${url}/d/${fileId}${code ? `?r=${code}` : ''}`);
  assert.equal(res.status, 402);
  const challenge = await res.json();
  const paid = await post(url, '/api/v1/pay', { invoice: challenge.invoice, max_msat: PRICE }, buyer.token);
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.body.receipt.charged, true);
  return paid.body.receipt;
}

async function report(url, fileId, category = 'copyright') {
  const r = await post(url, '/api/v1/reports', { file_id: fileId, category, reason: 'my work', contact: 'label@example.test' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r;
}

async function openReportId(call, fileId) {
  const list = (await call('GET', 'reports')).body.reports.filter((r) => r.file_id === fileId);
  assert.equal(list.length, 1);
  return list[0];
}

async function audited(dataDir) {
  const audit = await adminApi(dataDir).audit();
  assert.equal(audit.status, 200);
  assert.equal(audit.body.passed, true, JSON.stringify(audit.body.checks.filter((c) => !c.passed)));
}

async function setup(server) {
  const users = {};
  for (const name of ['seller', 'referrer', 'rights', 'buyer1', 'buyer2', 'buyer3']) users[name] = await apiUser(server.url, name);
  for (const name of ['buyer1', 'buyer2', 'buyer3']) {
    assert.equal((await adminApi(server.dataDir).credit(name, 50_000)).status, 200);
  }
  const file = await ownedUpload(server.url, users.seller, 'song.flac', randomBytes(2000), { meta: { price_msat: String(PRICE) } });
  assert.equal(file.res.status, 201, file.text);
  const code = (await apiGet(server.url, '/api/v1/wallet/referral', users.referrer.token)).body.code;
  return { users, file, code };
}

test('held during an open copyright report, released to the uploader on dismissal, exact to the msat', async () => {
  const server = await new Server().start();
  try {
    const call = admin(server.dataDir);
    const { users, file, code } = await setup(server);
    await buy(server.url, users.buyer1, file.id, code);  // before any report: paid at once
    assert.equal((await wallet(server.url, users.seller)).balance_msat, UPLOADER_LEG);

    await report(server.url, file.id);
    const receipt = await buy(server.url, users.buyer2, file.id, code);
    assert.deepEqual([receipt.uploader_msat, receipt.referrer_msat, receipt.platform_msat], [801, 100, 100]);
    // The uploader leg is held: pending on both sides; the referrer and the platform are paid.
    let seller = await wallet(server.url, users.seller);
    assert.deepEqual([seller.balance_msat, seller.pending_in_msat], [UPLOADER_LEG, UPLOADER_LEG]);
    let buyer = await wallet(server.url, users.buyer2);
    assert.deepEqual([buyer.balance_msat, buyer.available_msat, buyer.pending_out_msat], [50_000 - 200, 50_000 - PRICE, UPLOADER_LEG]);
    assert.equal((await wallet(server.url, users.referrer)).balance_msat, 200);
    assert.equal((await adminApi(server.dataDir).balances()).body.platform_revenue_msat, 200);
    // The review queue shows what reached the uploader, not what is held.
    const item = await openReportId(call, file.id);
    assert.equal(item.earnings_msat, UPLOADER_LEG);
    assert.equal(item.held_msat, UPLOADER_LEG);
    // So does the uploader's own earnings page: reached and held, apart.
    const during = (await apiGet(server.url, '/api/v1/earnings', users.seller.token)).body.files[0];
    assert.deepEqual([during.net_msat, during.held_msat], [UPLOADER_LEG, UPLOADER_LEG]);
    await audited(server.dataDir);

    // A second copyright report and one dismissal: still held until the last one is resolved.
    await report(server.url, file.id, 'abuse');
    const dismissedAbuse = (await call('GET', 'reports')).body.reports.find((r) => r.category === 'abuse');
    const d0 = await call('POST', `reports/${dismissedAbuse.id}/dismiss`, { reason: 'not abuse' });
    assert.equal(d0.status, 200);
    assert.equal(d0.body.held.still_held, true);
    assert.equal((await wallet(server.url, users.seller)).pending_in_msat, UPLOADER_LEG);

    const d = await call('POST', `reports/${item.id}/dismiss`, { reason: 'licensed' });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.deepEqual(d.body.held, { released: 1, released_msat: UPLOADER_LEG, redirected: 0, redirected_msat: 0, still_held: false });
    seller = await wallet(server.url, users.seller);
    assert.deepEqual([seller.balance_msat, seller.pending_in_msat], [2 * UPLOADER_LEG, 0]);
    buyer = await wallet(server.url, users.buyer2);
    assert.deepEqual([buyer.balance_msat, buyer.available_msat, buyer.pending_out_msat], [50_000 - PRICE, 50_000 - PRICE, 0]);
    assert.equal((await wallet(server.url, users.rights)).balance_msat, 0);
    const earnings = (await apiGet(server.url, '/api/v1/earnings', users.seller.token)).body.files;
    assert.equal(earnings[0].net_msat, 2 * UPLOADER_LEG);
    assert.equal(earnings[0].held_msat, 0);

    // After the dismissal a payment is not held.
    await buy(server.url, users.buyer3, file.id);
    seller = await wallet(server.url, users.seller);
    assert.deepEqual([seller.balance_msat, seller.pending_in_msat], [2 * UPLOADER_LEG + UPLOADER_LEG_NO_REFERRER, 0]);
    // The history names the release as a posting of the held transfer.
    const history = (await apiGet(server.url, '/api/v1/wallet/history', users.seller.token)).body;
    assert.ok(JSON.stringify(history).includes('held earnings released'), JSON.stringify(history));
    await audited(server.dataDir);
  } finally {
    await server.stop();
  }
});

test('an upheld claim redirects the held earnings (with --include-held) and the future ones to the claimant', async () => {
  const server = await new Server().start();
  try {
    const call = admin(server.dataDir);
    const data = ['--data', server.dataDir];
    const { users, file, code } = await setup(server);
    await report(server.url, file.id);
    await buy(server.url, users.buyer1, file.id, code);
    await buy(server.url, users.buyer2, file.id);
    const held = UPLOADER_LEG + UPLOADER_LEG_NO_REFERRER;
    assert.equal((await wallet(server.url, users.seller)).pending_in_msat, held);
    const item = await openReportId(call, file.id);

    // Refusals first: a non-copyright report names no rights holder; an unknown claimant.
    await report(server.url, file.id, 'malware');
    const malware = (await call('GET', 'reports')).body.reports.find((r) => r.category === 'malware');
    assert.equal((await call('POST', `reports/${malware.id}/claim`, { claimant: 'rights', reason: 'x' })).status, 409);
    assert.equal((await call('POST', `reports/${item.id}/claim`, { claimant: 'nobody', reason: 'x' })).status, 404);
    assert.equal((await call('POST', `reports/${item.id}/claim`, { reason: 'x' })).status, 400);
    assert.equal((await runCli(['admin', 'claim', String(item.id), '--reason', 'x', ...data])).code, 2);  // --to required
    assert.equal((await wallet(server.url, users.seller)).pending_in_msat, held);

    const claim = await runCli(['admin', 'claim', String(item.id), '--to', 'rights', '--include-held', '--reason', 'registered work', ...data]);
    assert.equal(claim.code, 0, claim.stderr);
    assert.match(claim.stdout, new RegExp(`earnings of file ${file.id} go to rights`));
    assert.match(claim.stdout, new RegExp(`held earnings redirected: 2 payments, ${held} msat`));
    const seller = await wallet(server.url, users.seller);
    assert.deepEqual([seller.balance_msat, seller.pending_in_msat], [0, 0]);
    let rights = await wallet(server.url, users.rights);
    assert.deepEqual([rights.balance_msat, rights.pending_in_msat], [held, 0]);
    for (const b of [users.buyer1, users.buyer2]) {
      const w = await wallet(server.url, b);
      assert.deepEqual([w.balance_msat, w.pending_out_msat], [50_000 - PRICE, 0]);
    }
    assert.equal((await wallet(server.url, users.referrer)).balance_msat, 100);  // not part of the claim
    await audited(server.dataDir);

    // The file stays online; every report of it is resolved; later earnings go to the claimant.
    assert.equal((await fetch(`${server.url}/d/${file.id}`)).status, 402);
    assert.equal((await call('GET', 'reports')).body.reports.length, 0);
    const receipt = await buy(server.url, users.buyer3, file.id, code);
    assert.equal(receipt.uploader_msat, UPLOADER_LEG);
    rights = await wallet(server.url, users.rights);
    assert.deepEqual([rights.balance_msat, rights.pending_in_msat], [held + UPLOADER_LEG, 0]);
    assert.equal((await wallet(server.url, users.seller)).balance_msat, 0);
    assert.equal((await wallet(server.url, users.referrer)).balance_msat, 200);
    assert.equal((await apiGet(server.url, '/api/v1/earnings', users.seller.token)).body.files[0].net_msat, 0);
    // The claimant paying for the file would pay themselves: refused, nothing moves.
    assert.equal((await adminApi(server.dataDir).credit('rights', 5_000)).status, 200);
    const c = await (await fetch(`${server.url}/d/${file.id}`)).json();
    const own = await post(server.url, '/api/v1/pay', { invoice: c.invoice, max_msat: PRICE }, users.rights.token);
    assert.notEqual(own.status, 200);
    assert.equal((await wallet(server.url, users.rights)).balance_msat, held + UPLOADER_LEG + 5_000);

    // No strike for a claim; the log says who decided and who gets the earnings.
    const log = (await call('GET', 'log')).body.entries;
    const line = log.find((e) => e.action === 'claim');
    assert.equal(line.who, os.userInfo().username);
    assert.equal(line.why, 'registered work');
    assert.match(line.target, new RegExp(`report ${item.id} file ${file.id} earnings to rights \\(held earnings included\\)`));
    assert.ok(!log.some((e) => e.action === 'suspend'));
    await audited(server.dataDir);
  } finally {
    await server.stop();
  }
});

test('a takedown naming a claimant: held earnings released without --include-held, later ones redirected after reinstatement', async () => {
  const server = await new Server().start();
  try {
    const call = admin(server.dataDir);
    const data = ['--data', server.dataDir];
    const { users, file } = await setup(server);
    await report(server.url, file.id);
    await buy(server.url, users.buyer1, file.id);
    const item = await openReportId(call, file.id);
    assert.equal((await runCli(['admin', 'takedown', String(item.id), '--reason', 'x', '--include-held', ...data])).code, 2);
    const down = await runCli(['admin', 'takedown', String(item.id), '--reason', 'upheld', '--redirect-to', 'rights', ...data]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`held earnings released: 1 payments, ${UPLOADER_LEG_NO_REFERRER} msat`));
    assert.equal((await fetch(`${server.url}/d/${file.id}`)).status, 410);
    assert.deepEqual([(await wallet(server.url, users.seller)).balance_msat, (await wallet(server.url, users.rights)).balance_msat],
      [UPLOADER_LEG_NO_REFERRER, 0]);
    assert.equal((await runCli(['admin', 'reinstate', file.id, '--reason', 'licence shown', ...data])).code, 0);
    await buy(server.url, users.buyer2, file.id);
    assert.deepEqual([(await wallet(server.url, users.seller)).balance_msat, (await wallet(server.url, users.rights)).balance_msat],
      [UPLOADER_LEG_NO_REFERRER, UPLOADER_LEG_NO_REFERRER]);
    const actions = (await call('GET', 'log')).body.entries.map((e) => e.action);
    assert.deepEqual(actions, ['takedown', 'redirect', 'restore']);
    await audited(server.dataDir);
  } finally {
    await server.stop();
  }
});

test('held earnings survive a restart and are settled by the decision taken after it', async () => {
  const first = await new Server().start();
  let server = first;
  try {
    const { users, file } = await setup(server);
    await report(server.url, file.id);
    await buy(server.url, users.buyer1, file.id);
    await first.stop();
    server = await new Server({ dataDir: first.dataDir }).start();
    const call = admin(server.dataDir);
    assert.equal((await wallet(server.url, users.seller)).pending_in_msat, UPLOADER_LEG_NO_REFERRER);
    const item = await openReportId(call, file.id);
    const d = await call('POST', `reports/${item.id}/claim`, { claimant: 'rights', include_held: true, reason: 'ok' });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.held.redirected_msat, UPLOADER_LEG_NO_REFERRER);
    assert.equal((await wallet(server.url, users.rights)).balance_msat, UPLOADER_LEG_NO_REFERRER);
    await audited(server.dataDir);
  } finally {
    await server.stop();
  }
});

function isoSeconds(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

test('transparency: counts by category match the actions, and --since leaves older ones out', async () => {
  const server = await new Server().start();
  try {
    const call = admin(server.dataDir);
    const data = ['--data', server.dataDir];
    const alice = await apiUser(server.url, 'alice');
    await apiUser(server.url, 'bob');
    const files = [];
    for (let i = 0; i < 3; i++) files.push(await ownedUpload(server.url, alice, `f${i}`, randomBytes(100 + i)));
    const startedMs = Date.now();
    // Before the cut: a copyright takedown, an abuse dismissal, a freeze and an unfreeze.
    await report(server.url, files[0].id, 'copyright');
    assert.equal((await call('POST', `reports/${(await openReportId(call, files[0].id)).id}/takedown`, { reason: 'a' })).status, 200);
    await report(server.url, files[1].id, 'abuse');
    assert.equal((await call('POST', `reports/${(await openReportId(call, files[1].id)).id}/dismiss`, { reason: 'b' })).status, 200);
    assert.equal((await call('POST', 'freeze', { user: 'bob' })).status, 200);
    assert.equal((await call('POST', 'unfreeze', { user: 'bob' })).status, 200);
    // The cut: the next whole second after everything above.
    const cutMs = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await new Promise((resolve) => setTimeout(resolve, cutMs - Date.now() + 50));
    await report(server.url, files[2].id, 'malware');
    await report(server.url, files[2].id, 'malware');
    const id = (await call('GET', 'reports')).body.reports.find((r) => r.file_id === files[2].id).id;
    assert.equal((await call('POST', `reports/${id}/takedown`, { reason: 'c' })).status, 200);
    assert.equal((await call('POST', `files/${files[2].id}/restore`, { reason: 'd' })).status, 200);

    const zero = { copyright: 0, malware: 0, abuse: 0, other: 0, total: 0 };
    const all = await call('GET', `transparency?since=${isoSeconds(startedMs - 1000)}`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual(all.body.reports, { ...zero, copyright: 1, abuse: 1, malware: 2, total: 4 });
    assert.deepEqual(all.body.takedowns, { ...zero, copyright: 1, malware: 1, total: 2 });
    assert.deepEqual(all.body.reinstatements, { ...zero, malware: 1, total: 1 });
    assert.deepEqual(all.body.dismissals, { ...zero, abuse: 1, total: 1 });
    assert.deepEqual(all.body.claims, zero);
    assert.deepEqual([all.body.suspensions, all.body.freezes, all.body.unfreezes], [0, 1, 1]);

    const since = isoSeconds(cutMs);
    const later = await runCli(['admin', 'transparency', '--since', since, '--json', ...data]);
    assert.equal(later.code, 0, later.stderr);
    const body = JSON.parse(later.stdout);
    assert.equal(body.since, cutMs / 1000);
    assert.deepEqual(body.reports, { ...zero, malware: 2, total: 2 });
    assert.deepEqual(body.takedowns, { ...zero, malware: 1, total: 1 });
    assert.deepEqual(body.reinstatements, { ...zero, malware: 1, total: 1 });
    assert.deepEqual(body.dismissals, zero);
    assert.deepEqual([body.freezes, body.unfreezes], [0, 0]);

    const text = await runCli(['admin', 'transparency', '--since', since, ...data]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^reports\s+0\s+2\s+0\s+0\s+2$/m);
    assert.match(text.stdout, /^takedowns\s+0\s+1\s+0\s+0\s+1$/m);
    assert.match(text.stdout, /^freezes\s+0$/m);

    // A date far ahead counts nothing; malformed dates are refused.
    const future = await call('GET', 'transparency?since=2999-01-01');
    assert.deepEqual(future.body.reports, zero);
    assert.equal((await call('GET', 'transparency?since=2026-02-30')).status, 400);
    assert.equal((await call('GET', 'transparency')).status, 400);
    assert.equal((await runCli(['admin', 'transparency', '--since', 'yesterday', ...data])).code, 2);
    assert.equal((await runCli(['admin', 'transparency', ...data])).code, 2);
  } finally {
    await server.stop();
  }
});

test('the admin log records the actor the header names; a malformed one is refused and logs nothing', async () => {
  const server = await new Server().start();
  try {
    await apiUser(server.url, 'dave');
    assert.equal((await admin(server.dataDir, 'jane.doe')('POST', 'freeze', { user: 'dave', reason: 'r' })).status, 200);
    const bad = await admin(server.dataDir, 'jane doe; drop')('POST', 'unfreeze', { user: 'dave' });
    assert.equal(bad.status, 400);
    assert.equal((await admin(server.dataDir, 'x'.repeat(65))('POST', 'unfreeze', { user: 'dave' })).status, 400);
    assert.equal((await admin(server.dataDir)('POST', 'unfreeze', { user: 'dave' })).status, 200);
    assert.equal((await runCli(['admin', 'freeze', 'dave', '--data', server.dataDir])).code, 0);
    const log = (await admin(server.dataDir)('GET', 'log')).body.entries;
    assert.deepEqual(log.map((e) => [e.action, e.who]),
      [['freeze', 'jane.doe'], ['unfreeze', 'operator'], ['freeze', os.userInfo().username]]);
  } finally {
    await server.stop();
  }
});
