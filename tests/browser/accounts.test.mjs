// Accounts in the page against the CLI, in headless Chromium and the real server:
// - registering in the page (Argon2id in WebAssembly, keys made in the page) shows the recovery
//   key once; `satload account login` then works with the same password, `satload ls` decrypts
//   what the page uploaded, and `satload account recover` accepts the page's recovery key;
// - an account registered with the CLI logs in on the page and sees the same files, names
//   decrypted in the page;
// - a wrong password shows its message;
// - the session cookie: HttpOnly, SameSite=Strict, Path=/, never readable by scripts, no token
//   in any answer body; a state-changing request without the CSRF header is refused (403);
//   logout clears it;
// - paying in the page: two users, the payer credited with `satload admin credit`, one click
//   pays a CLI-priced upload through the 402 flow, the download matches by hash, and both
//   balances moved exactly; a payer without funds sees the insufficient-funds message.
// Every page (login, recovery key, my files, wallet, a priced link) is screenshotted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lastLine, parseLink, runCli, tempDir } from '../lib/server.mjs';
import { launchBrowser, newContext, recordingProxy, screenshot, sha256, startServer, waitForShown } from './lib.mjs';

const PASSWORD = 'correct horse battery staple 7';
const PRICE_MSAT = 1_500_000; // 1500 sat
const FUNDS_MSAT = 5_000_000; // 5000 sat
// Argon2id with 64 MiB runs in WebAssembly: seconds, not milliseconds.
const LOGIN_TIMEOUT_MS = 60_000;

let server;
let proxy;
let browser;
const dir = tempDir('satload-accounts-');
const homes = {};
const allProblems = [];
const allRequests = [];

before(async () => {
  server = await startServer();
  proxy = await recordingProxy(server.url);
  browser = await launchBrowser(proxy);
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.stop();
});

function cli(user, args, env = {}) {
  homes[user] ??= tempDir(`satload-home-${user}-`);
  return runCli(args, { env: { SATLOAD_HOME: homes[user], SATLOAD_PASSWORD: PASSWORD, ...env } });
}

async function cliOk(user, args, env) {
  const r = await cli(user, args, env);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r;
}

async function balance(user) {
  const r = await cliOk(user, ['wallet', 'balance', '--json']);
  return JSON.parse(r.stdout).balance_msat;
}

async function page() {
  const c = await newContext(browser, { viewport: { width: 1000, height: 800 } });
  allProblems.push(c.problems);
  allRequests.push(c.requests);
  return { ...c, page: await c.context.newPage() };
}

async function pageRegister(p, username) {
  await p.goto(`${server.url}/login`);
  await p.fill('#register-username', username);
  await p.fill('#register-password', PASSWORD);
  await p.fill('#register-confirm', PASSWORD);
  await p.click('#register-submit');
  await waitForShown(p, '#recovery:not([hidden])', { timeout: LOGIN_TIMEOUT_MS, proxy, what: `registering ${username} in the page` });
  return p.inputValue('#recovery-key');
}

async function pageLogin(p, username, password = PASSWORD) {
  await p.goto(`${server.url}/login`);
  await p.fill('#login-username', username);
  await p.fill('#login-password', password);
  await p.click('#login-submit');
}

function writeRandom(name, size) {
  const file = path.join(dir, name);
  writeFileSync(file, randomBytes(size));
  return file;
}

test('registered in the page: the recovery key is shown once; the CLI logs in, lists the page\'s upload and recovers with that key', async () => {
  const { page: p, context } = await page();
  const recovery = await pageRegister(p, 'webuser');
  assert.match(recovery, /^([0-9A-HJKMNP-TV-Z]{8}-){6}[0-9A-HJKMNP-TV-Z]{8}$/);
  await screenshot(p, 'register-recovery-key');
  // The session is a cookie scripts cannot read; the page's username shows it is logged in.
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'satload_session');
  assert.ok(session, 'the session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(session.path, '/');
  assert.equal(session.secure, false, 'plain http on loopback: not Secure');
  assert.equal(await p.evaluate(() => document.cookie.includes('satload_session')), false);

  await p.click('#recovery-done');
  await p.waitForURL(`${server.url}/my-files`);
  await p.waitForSelector('[data-testid=username]');
  assert.equal(await p.textContent('[data-testid=username]'), 'webuser');
  // Shown once: the login page no longer has it.
  await p.goto(`${server.url}/login`);
  assert.equal(await p.inputValue('#recovery-key'), '');
  assert.equal(await p.isHidden('#recovery'), true);

  // An upload in the page while logged in is the account's.
  const file = writeRandom('page upload.bin', 300_000);
  await p.goto(`${server.url}/`);
  await p.waitForSelector('[data-testid=username]');
  await p.setInputFiles('#file-input', file);
  const link = await (await p.waitForSelector('[data-testid=link]', { timeout: 60000 })).inputValue();
  await p.waitForSelector('.link-box svg.qr', { state: 'attached' });
  assert.equal(await p.getAttribute('.link-box svg.qr', 'data-qr-text'), link);
  await screenshot(p, 'upload-logged-in');
  await context.close();

  await cliOk('webuser', ['account', 'login', 'webuser', '--server', server.url]);
  const ls = JSON.parse((await cliOk('webuser', ['ls', '--json'])).stdout);
  assert.equal(ls.length, 1);
  assert.equal(ls[0].name, 'page upload.bin');
  assert.equal(ls[0].id, parseLink(link).id);
  assert.equal(parseLink(ls[0].link).secret, parseLink(link).secret, 'the CLI unwraps the secret the page wrapped');
  const out = path.join(dir, 'page upload.out');
  await cliOk('webuser', ['get', ls[0].link, '-o', out]);
  assert.equal(sha256(readFileSync(out)), sha256(readFileSync(file)));

  // The page's recovery key (its text form, HKDF keys and wrapping) works in the CLI.
  await cliOk('webuser', ['account', 'recover', 'webuser', '--server', server.url], {
    SATLOAD_RECOVERY_KEY: recovery,
    SATLOAD_NEW_PASSWORD: `${PASSWORD} new`,
  });
  const after = JSON.parse((await cliOk('webuser', ['ls', '--json'])).stdout);
  assert.equal(after[0].name, 'page upload.bin', 'the master key survived recovery');
});

test('registered with the CLI: the page logs in and sees the same files; a wrong password shows its message', async () => {
  await cliOk('cliuser', ['account', 'register', 'cliuser', '--server', server.url]);
  const file = writeRandom('from the cli.txt', 5000);
  await cliOk('cliuser', ['put', file, '--server', server.url]);
  const listed = JSON.parse((await cliOk('cliuser', ['ls', '--json'])).stdout);

  const { page: p, context } = await page();
  await pageLogin(p, 'cliuser', 'not the password');
  await p.waitForSelector('#error:not([hidden])', { timeout: LOGIN_TIMEOUT_MS });
  assert.equal(await p.textContent('#error'), 'Wrong username or password.');
  await screenshot(p, 'login-wrong-password');

  await pageLogin(p, 'cliuser');
  await p.waitForURL(`${server.url}/my-files`, { timeout: LOGIN_TIMEOUT_MS });
  await p.waitForSelector('.owned');
  const names = await p.$$eval('.owned-name', (hs) => hs.map((h) => h.textContent));
  assert.deepEqual(names, ['from the cli.txt']);
  const id = await p.getAttribute('.owned', 'data-file-id');
  assert.equal(id, listed[0].id);
  await screenshot(p, 'my-files');

  // Re-price, revoke and restore through the page, checked against the API's state.
  await p.fill(`#price-${id}`, '2.5');
  await p.click(`button[aria-label="Set the price of from the cli.txt"]`);
  await p.waitForFunction(() => document.querySelector('#status').textContent.startsWith('The price is now 2.5 sat'));
  await p.click('button[aria-label="Revoke the link to from the cli.txt"]');
  await p.waitForFunction(() => document.querySelector('#status').textContent === 'The link is revoked.');
  let state = await (await fetch(`${server.url}/api/v1/files/${id}`)).json();
  assert.equal(state.status, 410, 'a revoked link is closed to others');
  await p.click('button[aria-label="Restore the link to from the cli.txt"]');
  await p.waitForFunction(() => document.querySelector('#status').textContent === 'The link works again.');
  state = await (await fetch(`${server.url}/api/v1/files/${id}`)).json();
  assert.equal(state.price_msat, 2500);
  assert.equal(state.revoked, false);

  // The cookie contract, from the page's own scripts.
  const csrf = await p.evaluate(async () => (await fetch('/api/v1/account/logout', { method: 'POST' })).status);
  assert.equal(csrf, 403, 'a state-changing request with the cookie but without the CSRF header is refused');
  const form = await p.evaluate(async () => (await fetch('/api/v1/files/' + document.querySelector('.owned').dataset.fileId, { method: 'DELETE' })).status);
  assert.equal(form, 403);
  const bodies = await p.evaluate(async () => (await fetch('/api/v1/account')).text());
  assert.doesNotMatch(bodies, /sls_/);

  // Delete in the page (two presses), then the CLI sees it gone.
  await p.click('button[aria-label="Delete from the cli.txt"]');
  await p.click('button[aria-label^="Really delete from the cli.txt"]');
  await p.waitForFunction(() => document.querySelectorAll('.owned').length === 0);
  assert.deepEqual(JSON.parse((await cliOk('cliuser', ['ls', '--json'])).stdout), []);

  // Logging out clears the cookie, and the session is revoked on the server.
  const before = (await context.cookies()).find((c) => c.name === 'satload_session');
  await p.click('text=Log out');
  await p.waitForURL(`${server.url}/`);
  await p.waitForSelector('text=Log in or register');
  assert.equal((await context.cookies()).some((c) => c.name === 'satload_session'), false);
  const stale = await fetch(`${server.url}/api/v1/account`, { headers: { Cookie: `satload_session=${before.value}` } });
  assert.equal(stale.status, 401);
  assert.match(stale.headers.get('set-cookie') ?? '', /^satload_session=; Max-Age=0/);
  await context.close();
});

test('paying in the page: one click pays a priced CLI upload, the bytes match, balances move exactly; no funds shows its message', async () => {
  await cliOk('seller', ['account', 'register', 'seller', '--server', server.url]);
  const content = randomBytes(400_000);
  const file = path.join(dir, 'priced.bin');
  writeFileSync(file, content);
  const link = lastLine((await cliOk('seller', ['put', file, '--price', `${PRICE_MSAT}msat`, '--server', server.url])).stdout);

  // The payer registers in the page and is credited by the operator.
  const { page: p, context } = await page();
  await pageRegister(p, 'buyer');
  await p.click('#recovery-done');
  const credit = await runCli(['admin', 'credit', 'buyer', `${FUNDS_MSAT}msat`, '--data', server.dataDir]);
  assert.equal(credit.code, 0, credit.stderr);
  await cliOk('buyer', ['account', 'login', 'buyer', '--server', server.url]);
  const sellerBefore = await balance('seller');
  assert.equal(await balance('buyer'), FUNDS_MSAT);

  await p.goto(link);
  await p.waitForSelector('#download:enabled', { timeout: 20000 });
  assert.match(await p.textContent('#price'), /costs 1500 sat/);
  assert.equal(await p.textContent('#download'), 'Pay 1500 sat and download');
  await p.waitForSelector('#balance:not([hidden])');
  await screenshot(p, 'link-priced-logged-in');
  const [download] = await Promise.all([p.waitForEvent('download', { timeout: 60000 }), p.click('#download')]);
  const saved = path.join(dir, 'paid.out');
  await download.saveAs(saved);
  await p.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Saved'), null, { timeout: 60000 });
  assert.equal(sha256(readFileSync(saved)), sha256(content));

  // The split (default 80/10/10, no referrer: the referral share goes to the uploader).
  assert.equal(await balance('buyer'), FUNDS_MSAT - PRICE_MSAT);
  assert.equal((await balance('seller')) - sellerBefore, (PRICE_MSAT * 90) / 100);

  // Downloading again with the live grant charges nothing; the page knows it is paid.
  await p.reload();
  await p.waitForSelector('#download:enabled', { timeout: 20000 });
  assert.equal(await p.textContent('#download'), 'Download and decrypt');
  assert.match(await p.textContent('#price'), /you have paid for it/);
  await Promise.all([p.waitForEvent('download', { timeout: 60000 }), p.click('#download')]);
  await p.waitForFunction(() => document.querySelector('#progress-text').textContent.includes('decrypted and verified'), null, { timeout: 60000 });
  assert.equal(await balance('buyer'), FUNDS_MSAT - PRICE_MSAT);

  await p.goto(`${server.url}/wallet`);
  await p.waitForSelector('#wallet:not([hidden])');
  assert.equal(await p.textContent('[data-testid=balance]'), `${(FUNDS_MSAT - PRICE_MSAT) / 1000} sat`);
  await p.waitForFunction(() => document.querySelectorAll('#history tr').length >= 2);
  await p.click('#deposit-get');
  await p.waitForFunction(() => document.querySelector('#deposit-message').textContent !== 'Asking for an address…');
  // This server runs without a bitcoin node: the page says so in the server's words.
  assert.match(await p.textContent('#deposit-message'), /^A deposit address is not possible right now: .*node.*\.$/);
  assert.match(await p.textContent('#deposits-message'), /^Listing deposits is not possible right now: .*node.*\.$/);
  // Each withdrawal request carries an Idempotency-Key: the same one when the same withdrawal is
  // asked for again after the server failed (a retry finds the first one), a new one for other
  // fields.
  const keys = [];
  const onRequest = (r) => {
    if (r.url().endsWith('/api/v1/wallet/withdrawals') && r.method() === 'POST') keys.push(r.headers()['idempotency-key']);
  };
  p.on('request', onRequest);
  const withdrawOnce = async (amount) => {
    await p.fill('#withdraw-address', 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080');
    await p.fill('#withdraw-amount', amount);
    await p.evaluate(() => (document.querySelector('#withdraw-message').textContent = ''));
    await p.click('#withdraw-submit');
    await p.waitForFunction(() => /^Withdrawing is not possible right now/.test(document.querySelector('#withdraw-message').textContent));
  };
  await withdrawOnce('1000');
  await withdrawOnce('1000');
  await withdrawOnce('2000');
  p.off('request', onRequest);
  assert.equal(keys.length, 3);
  assert.match(keys[0], /^[A-Za-z0-9_-]{22}$/);
  assert.equal(keys[1], keys[0], 'the same withdrawal asked for again: the same key');
  assert.notEqual(keys[2], keys[0], 'another amount: a new key');
  assert.equal(await balance('buyer'), FUNDS_MSAT - PRICE_MSAT, 'a refused withdrawal moves nothing');
  await screenshot(p, 'wallet');
  await context.close();

  // Someone without funds sees why the payment failed, and nothing moves.
  const poor = await page();
  await pageRegister(poor.page, 'poorbuyer');
  await poor.page.click('#recovery-done');
  await poor.page.goto(link);
  await poor.page.waitForSelector('#download:enabled', { timeout: 20000 });
  await poor.page.click('#download');
  await poor.page.waitForSelector('#error:not([hidden])', { timeout: 20000 });
  assert.match(await poor.page.textContent('#error'), /^Your balance is too low to pay for this file/);
  await screenshot(poor.page, 'link-insufficient-funds');
  await poor.context.close();
  assert.equal(await balance('buyer'), FUNDS_MSAT - PRICE_MSAT);

  // Not logged in: the price and a way to log in, which comes back to this link.
  const anon = await page();
  await anon.page.goto(link);
  await anon.page.waitForSelector('#login-to-pay:not([hidden])', { timeout: 20000 });
  assert.equal(await anon.page.isHidden('#download'), true);
  await anon.context.close();
});

// Every control of the account pages has a name a screen reader reads (a label, or an
// aria-label), and nothing is wider than a phone's screen.
async function assertLabelledAndFits(p, what) {
  const unnamed = await p.evaluate(() => {
    const out = [];
    for (const e of document.querySelectorAll('input, select, textarea, button, a[href]')) {
      if (e.closest('[hidden]') || e.type === 'hidden' || e.getClientRects().length === 0) continue;
      const named = (e.labels && e.labels.length > 0) || e.getAttribute('aria-label') || (e.textContent ?? '').trim();
      if (!named) out.push(e.outerHTML.slice(0, 80));
    }
    return out;
  });
  assert.deepEqual(unnamed, [], `${what}: controls without a name`);
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${what} scrolls sideways`);
}

test('the account pages by keyboard alone, labelled, on a phone-sized screen', async () => {
  await cliOk('kbuser', ['account', 'register', 'kbuser', '--server', server.url]);
  await cliOk('kbuser', ['put', writeRandom(`${'a-long-name-'.repeat(5)}.txt`, 100), '--server', server.url]);
  const c = await newContext(browser, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  allProblems.push(c.problems);
  allRequests.push(c.requests);
  const p = await c.context.newPage();
  await p.goto(`${server.url}/login`);
  await p.waitForFunction(() => document.activeElement?.id === 'login-username');
  await assertLabelledAndFits(p, 'login');
  await screenshot(p, 'phone-login');
  // Type, Tab, type, Enter: logged in.
  await p.keyboard.type('kbuser');
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement?.id), 'login-password');
  await p.keyboard.type(PASSWORD);
  await p.keyboard.press('Enter');
  await p.waitForURL(`${server.url}/my-files`, { timeout: LOGIN_TIMEOUT_MS });
  await p.waitForSelector('.owned');
  await assertLabelledAndFits(p, 'my files');
  await screenshot(p, 'phone-my-files');
  // Tab reaches the file's actions in order.
  const seen = [];
  for (let i = 0; i < 12 && !seen.includes('Copy link'); i++) {
    await p.keyboard.press('Tab');
    seen.push(await p.evaluate(() => document.activeElement?.textContent?.trim()));
  }
  assert.ok(seen.includes('Copy link'), `tab order: ${seen.join(' | ')}`);
  await p.goto(`${server.url}/wallet`);
  await p.waitForSelector('#wallet:not([hidden])');
  await assertLabelledAndFits(p, 'wallet');
  await screenshot(p, 'phone-wallet');
  await c.context.close();
});

test('the report form on a link page files a report that names the file, never its key', async () => {
  const file = writeRandom('reported.bin', 1000);
  const link = lastLine((await cliOk('reporter', ['put', file, '--server', server.url])).stdout);
  const { id, secret } = parseLink(link);
  const { page: p, context } = await page();
  await p.goto(link);
  await p.waitForSelector('#download:enabled', { timeout: 20000 });
  await p.click('#report summary');
  await p.selectOption('#report-category', 'malware');
  await p.fill('#report-reason', 'this executable is a known trojan');
  await p.click('#report-submit');
  await p.waitForFunction(() => document.querySelector('#report-status').textContent.startsWith('Thank you'));
  const reference = /reference ([^)]+)\)/.exec(await p.textContent('#report-status'))[1];
  await screenshot(p, 'link-report-filed');
  await context.close();
  const r = await runCli(['admin', 'reports', '--json', '--data', server.dataDir]);
  assert.equal(r.code, 0, r.stderr);
  const filed = JSON.parse(r.stdout).find((x) => x.reference === reference);
  assert.ok(filed, r.stdout);
  assert.equal(filed.file_id, id);
  assert.equal(filed.category, 'malware');
  assert.equal(r.stdout.includes(secret), false, 'the key is not in the report');
});

test('no page broke its Content-Security-Policy or threw; the password never left the page, nor the token a cookie', () => {
  assert.deepEqual(allProblems.flat(), []);
  const origin = new URL(server.url);
  for (const list of allRequests) {
    for (const r of list) assert.equal(new URL(r.url).origin, origin.origin, `page request outside the origin: ${r.url}`);
  }
  let foreign = 0;
  for (const r of proxy.seen) {
    const where = `${r.method} ${r.url}`;
    const text = Buffer.concat([Buffer.from(r.url), Buffer.from(JSON.stringify(r.headers)), ...r.body]).toString('latin1');
    // Zero knowledge: the password is turned into keys in the page; only a proof is sent.
    assert.equal(text.includes(PASSWORD), false, `the password was sent: ${where}`);
    assert.equal(text.includes(Buffer.from(PASSWORD).toString('base64')), false, `the password was sent: ${where}`);
    if (r.method !== 'CONNECT' && new URL(r.url).host === origin.host) {
      // The session token travels only in Cookie headers, never in a URL.
      assert.equal(/sls_/.test(r.url), false, where);
      continue;
    }
    // Debian's Chromium calls Google services by itself (roundtrip.test.mjs says why); no page
    // made them (the pages' requests above all stay at the origin).
    const host = r.method === 'CONNECT' ? r.url.replace(/:\d+$/, '') : new URL(r.url).hostname;
    assert.match(host, /(^|\.)(google\.com|googleapis\.com|gstatic\.com)$/, `a request to another host: ${where}`);
    foreign++;
  }
  if (foreign) console.log(`# the browser itself made ${foreign} request(s) to Google services (not from the pages)`);
});
