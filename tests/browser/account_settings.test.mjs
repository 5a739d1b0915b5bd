// The account settings page (/account) and the recovery form on /login against the CLI, in
// headless Chromium and the real server:
// - a password changed in the page works in the CLI (the new one logs in, the old one no longer
//   does, the CLI's earlier session is logged out), the page's files still decrypt, and a page
//   logged in afresh with the new password reads them too; a password changed in the CLI works
//   in the page; a wrong current password shows its message and changes nothing;
// - recovery in the page with the key shown at registration (typed in lower case with spaces)
//   logs in, the files still decrypt, the CLI logs in with the new password, and the earlier
//   sessions and API tokens are revoked; a mistyped key and another account's key each show
//   their message;
// - an API token created in the page lists the account's files with `SATLOAD_TOKEN`, shows up in
//   `satload account token ls`, and once revoked in the page is refused; an invalid name shows
//   its message;
// - the page by keyboard, labelled, at 360 px; no password, recovery key, master key or API
//   token in any request the browser sent; no CSP violation or page error.
// Screenshots of every state go to the build directory's screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from '../lib/server.mjs';
import { launchBrowser, newContext, recordingProxy, screenshot, startServer, waitForShown } from './lib.mjs';

const PASSWORD = 'settings page password 1';
const NEW_PASSWORD = 'changed in the page 2';
const CLI_PASSWORD = 'changed with the cli 3';
const RECOVERED_PASSWORD = 'set by recovery 4';
const PASSWORDS = [PASSWORD, NEW_PASSWORD, CLI_PASSWORD, RECOVERED_PASSWORD];
// Argon2id with 64 MiB runs in WebAssembly (twice for a change): seconds, not milliseconds.
const KDF_TIMEOUT_MS = 90_000;

let server;
let proxy;
let browser;
const dir = tempDir('satload-settings-');
const homes = {};
const allProblems = [];
const allRequests = [];
// Every secret the browser must never send, by name: each is checked in several encodings.
const secrets = new Map();

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

async function cliNames(user, env) {
  return JSON.parse((await cliOk(user, ['ls', '--json'], env)).stdout).map((f) => f.name);
}

// The master key of the CLI's session (SATLOAD_HOME/session.json): the page must never send it.
function rememberMasterKey(user) {
  const session = JSON.parse(readFileSync(path.join(homes[user], 'session.json'), 'utf8'));
  secrets.set(`${user}'s master key`, Buffer.from(session.master_key, 'base64url'));
}

// The 32 key bytes of a recovery key's text (Crockford base32, checksum after the key).
function recoveryKeyBytes(text) {
  const digits = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let bits = '';
  for (const c of text.replaceAll('-', '')) bits += digits.indexOf(c).toString(2).padStart(5, '0');
  return Buffer.from(bits.match(/.{8}/g).slice(0, 32).map((b) => parseInt(b, 2)));
}

async function page({ width = 1000, height = 800, ...options } = {}) {
  const c = await newContext(browser, { viewport: { width, height }, ...options });
  allProblems.push(c.problems);
  allRequests.push(c.requests);
  return { ...c, page: await c.context.newPage() };
}

async function pageLogin(p, username, password) {
  await p.goto(`${server.url}/login`);
  await p.fill('#login-username', username);
  await p.fill('#login-password', password);
  await p.click('#login-submit');
  await p.waitForURL(`${server.url}/my-files`, { timeout: KDF_TIMEOUT_MS });
}

async function pageNames(p) {
  await p.goto(`${server.url}/my-files`);
  await waitForShown(p, '.owned-name', { timeout: 20_000, proxy, what: 'my files' });
  return p.$$eval('.owned-name', (hs) => hs.map((h) => h.textContent));
}

async function openSettings(p) {
  await p.goto(`${server.url}/account`);
  await waitForShown(p, '#settings:not([hidden])', { timeout: 20_000, proxy, what: 'the settings page' });
}

// Submits the password form and waits for its outcome (a status or an alert); returns which.
async function submitPasswordChange(p, current, next, confirm = next) {
  await p.fill('#current-password', current);
  await p.fill('#new-password', next);
  await p.fill('#new-password-confirm', confirm);
  await p.click('#password-submit');
  await p.waitForFunction(
    () => !document.querySelector('#password-error').hidden || document.querySelector('#password-message').textContent.startsWith('Your password is changed'),
    null,
    { timeout: KDF_TIMEOUT_MS },
  );
  return (await p.isVisible('#password-error')) ? { error: await p.textContent('#password-error') } : { ok: await p.textContent('#password-message') };
}

function writeRandom(name, size) {
  const file = path.join(dir, name);
  writeFileSync(file, randomBytes(size));
  return file;
}

test('password changed in the page: the CLI logs in with the new one only, files still decrypt; a wrong current password changes nothing; a CLI change works in the page', async () => {
  await cliOk('changer', ['account', 'register', 'changer', '--server', server.url]);
  rememberMasterKey('changer');
  await cliOk('changer', ['put', writeRandom('kept across the change.txt', 3000), '--server', server.url]);

  const { page: p, context } = await page();
  await pageLogin(p, 'changer', PASSWORD);
  // The header links to the settings.
  await p.click('nav >> text=Account');
  await p.waitForURL(`${server.url}/account`);
  await waitForShown(p, '#settings:not([hidden])', { timeout: 20_000, proxy, what: 'the settings page' });
  assert.equal(await p.getAttribute('nav a[href="/account"]', 'aria-current'), 'page');
  await screenshot(p, 'account-settings');

  // Two different new passwords: caught before any key is derived.
  assert.deepEqual(await submitPasswordChange(p, PASSWORD, NEW_PASSWORD, `${NEW_PASSWORD}x`), {
    error: 'The two new passwords differ; type them again.',
  });

  // A wrong current password: its message, focus back on the field, still logged in, and the
  // old password still works in the CLI.
  assert.deepEqual(await submitPasswordChange(p, 'not my password', NEW_PASSWORD), { error: 'The current password is wrong.' });
  assert.equal(await p.evaluate(() => document.activeElement?.id), 'current-password');
  await screenshot(p, 'account-wrong-current-password');
  await openSettings(p);
  assert.equal(await p.textContent('[data-testid=username]'), 'changer');
  assert.deepEqual(await cliNames('changer'), ['kept across the change.txt'], 'the CLI session survived the failed attempt');

  const changed = await submitPasswordChange(p, PASSWORD, NEW_PASSWORD);
  assert.match(changed.ok ?? changed.error, /^Your password is changed\. .*logged out/);
  assert.equal(await p.inputValue('#current-password'), '', 'the form forgets the passwords');
  await screenshot(p, 'account-password-changed');

  // The CLI: its earlier session is logged out, the old password is refused, the new one works
  // and unwraps the same master key (the names decrypt).
  const stale = await cli('changer', ['ls', '--json']);
  assert.notEqual(stale.code, 0, 'the CLI session from before the change is logged out');
  const old = await cli('changer', ['account', 'login', 'changer', '--server', server.url]);
  assert.notEqual(old.code, 0, 'the old password no longer logs in');
  assert.match(old.stderr, /wrong username or password/);
  await cliOk('changer', ['account', 'login', 'changer', '--server', server.url], { SATLOAD_PASSWORD: NEW_PASSWORD });
  assert.deepEqual(await cliNames('changer'), ['kept across the change.txt']);

  // The page stays logged in and reads its files; so does a fresh login with the new password.
  assert.deepEqual(await pageNames(p), ['kept across the change.txt']);
  await p.click('text=Log out');
  await p.waitForURL(`${server.url}/`);
  await pageLogin(p, 'changer', NEW_PASSWORD);
  assert.deepEqual(await pageNames(p), ['kept across the change.txt']);

  // The other way: changed with the CLI (`account passwd`), the page's session is logged out and
  // the page logs in with the CLI's new password.
  await cliOk('changer', ['account', 'passwd'], { SATLOAD_PASSWORD: NEW_PASSWORD, SATLOAD_NEW_PASSWORD: CLI_PASSWORD });
  await p.goto(`${server.url}/account`);
  await p.waitForSelector('#error:not([hidden])');
  assert.equal(await p.textContent('#error'), 'Log in to change your password or manage API tokens.');
  await pageLogin(p, 'changer', CLI_PASSWORD);
  assert.deepEqual(await pageNames(p), ['kept across the change.txt']);
  await context.close();
});

test('recovery in the page with the key shown at registration logs in; sessions and API tokens are revoked; a mistyped or wrong key shows its message', async () => {
  // Registered in the page: the recovery key as the user was shown it.
  const { page: p, context } = await page();
  await p.goto(`${server.url}/login`);
  await p.fill('#register-username', 'forgetful');
  await p.fill('#register-password', PASSWORD);
  await p.fill('#register-confirm', PASSWORD);
  await p.click('#register-submit');
  await waitForShown(p, '#recovery:not([hidden])', { timeout: KDF_TIMEOUT_MS, proxy, what: 'registering in the page' });
  const recovery = await p.inputValue('#recovery-key');
  secrets.set('the recovery key', recoveryKeyBytes(recovery));
  secrets.set('the recovery key text', Buffer.from(recovery));
  await p.click('#recovery-done');
  await p.waitForURL(`${server.url}/my-files`);

  // A file, a CLI session and an API token from before the recovery.
  await cliOk('forgetful', ['account', 'login', 'forgetful', '--server', server.url]);
  rememberMasterKey('forgetful');
  await cliOk('forgetful', ['put', writeRandom('recovered with the key.bin', 2000), '--server', server.url]);
  const token = (await cliOk('forgetful', ['account', 'token', 'create', 'before recovery'])).stdout.trim().split('\n').pop();
  assert.match(token, /^sla_/);
  secrets.set('an API token', Buffer.from(token));
  assert.equal((await cli('forgetful', ['ls', '--json'], { SATLOAD_TOKEN: token, SATLOAD_SERVER: server.url })).code, 0);

  await p.click('text=Log out');
  await p.waitForURL(`${server.url}/`);
  await p.goto(`${server.url}/login`);
  await p.click('#reset summary');
  await p.waitForSelector('#reset-form', { state: 'visible' });
  await p.fill('#reset-username', 'forgetful');
  await p.fill('#reset-password', RECOVERED_PASSWORD);
  await p.fill('#reset-confirm', RECOVERED_PASSWORD);

  // A mistyped key (one character changed: the checksum fails) is caught in the page, before
  // any request.
  const typo = recovery.slice(0, 10) + (recovery[10] === 'A' ? 'B' : 'A') + recovery.slice(11);
  const recoverRequests = () => proxy.seen.filter((r) => r.url.includes('/api/v1/account/recover/')).length;
  const before = recoverRequests();
  await p.fill('#reset-key', typo);
  await p.click('#reset-submit');
  await p.waitForSelector('#error:not([hidden])');
  assert.match(await p.textContent('#error'), /^That is not a recovery key: it has 56 characters/);
  assert.equal(await p.evaluate(() => document.activeElement?.id), 'reset-key');
  assert.equal(recoverRequests(), before, 'a mistyped key is not sent');
  await screenshot(p, 'login-recovery-mistyped-key');

  // A well-formed key of another account: the server's refusal, in words.
  const other = await cliOk('other', ['account', 'register', 'someone-else', '--server', server.url]);
  const otherKey = other.stdout.split('\n').find((l) => /^([0-9A-Z]{8}-){6}[0-9A-Z]{8}$/.test(l));
  assert.ok(otherKey, other.stdout);
  await p.fill('#reset-key', otherKey);
  await p.click('#reset-submit');
  await p.waitForFunction(() => document.querySelector('#error').textContent === 'Wrong username or recovery key.', null, {
    timeout: KDF_TIMEOUT_MS,
  });
  assert.ok(recoverRequests() > before, 'the well-formed key was tried');
  await screenshot(p, 'login-recovery-wrong-key');

  // The right key, as someone might type it: lower case, spaces for dashes.
  await p.fill('#reset-key', recovery.toLowerCase().replaceAll('-', ' '));
  await screenshot(p, 'login-recovery-form');
  await p.click('#reset-submit');
  await p.waitForURL(`${server.url}/my-files`, { timeout: KDF_TIMEOUT_MS });
  await p.waitForSelector('[data-testid=username]');
  assert.equal(await p.textContent('[data-testid=username]'), 'forgetful');
  assert.deepEqual(await pageNames(p), ['recovered with the key.bin'], 'the recovered master key reads the files');

  // Every earlier session and API token is revoked; the CLI logs in with the new password.
  assert.notEqual((await cli('forgetful', ['ls', '--json'])).code, 0, 'the CLI session from before is revoked');
  const refused = await cli('forgetful', ['ls', '--json'], { SATLOAD_TOKEN: token, SATLOAD_SERVER: server.url });
  assert.notEqual(refused.code, 0, 'the API token from before is revoked');
  const oldLogin = await cli('forgetful', ['account', 'login', 'forgetful', '--server', server.url]);
  assert.notEqual(oldLogin.code, 0, 'the forgotten password no longer logs in');
  await cliOk('forgetful', ['account', 'login', 'forgetful', '--server', server.url], { SATLOAD_PASSWORD: RECOVERED_PASSWORD });
  assert.deepEqual(await cliNames('forgetful'), ['recovered with the key.bin']);
  // The key still works (it is not used up): the CLI recovers with it too.
  await cliOk('forgetful', ['account', 'recover', 'forgetful', '--server', server.url], {
    SATLOAD_RECOVERY_KEY: recovery,
    SATLOAD_NEW_PASSWORD: NEW_PASSWORD,
  });
  assert.deepEqual(await cliNames('forgetful'), ['recovered with the key.bin']);
  await context.close();
});

test('an API token made in the page works with SATLOAD_TOKEN until revoked in the page; an invalid name shows its message', async () => {
  await cliOk('scripter', ['account', 'register', 'scripter', '--server', server.url]);
  rememberMasterKey('scripter');
  await cliOk('scripter', ['put', writeRandom('for the script.bin', 1000), '--server', server.url]);
  const ids = JSON.parse((await cliOk('scripter', ['ls', '--json'])).stdout).map((f) => f.id);
  // A token made with the CLI shows in the page's list.
  await cliOk('scripter', ['account', 'token', 'create', 'made by the cli']);

  const { page: p, context } = await page();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await pageLogin(p, 'scripter', PASSWORD);
  await openSettings(p);
  await p.waitForSelector('#tokens tr');
  assert.deepEqual(await p.$$eval('#tokens tr td:nth-child(3)', (tds) => tds.map((t) => t.textContent)), ['made by the cli']);

  // Names the server would refuse: said in words, nothing created.
  await p.fill('#token-name', 'café');
  await p.click('#token-submit');
  await p.waitForSelector('#token-error:not([hidden])');
  assert.match(await p.textContent('#token-error'), /^A token name is 1 to 64 printable ASCII characters/);
  await screenshot(p, 'account-token-invalid-name');

  await p.fill('#token-name', 'nightly backup');
  await p.click('#token-submit');
  await p.waitForSelector('#new-token:not([hidden])');
  const token = await p.inputValue('#new-token-value');
  assert.match(token, /^sla_/);
  secrets.set('an API token made in the page', Buffer.from(token));
  assert.equal(await p.isHidden('#token-error'), true);
  await p.waitForFunction(() => document.querySelectorAll('#tokens tr').length === 2);
  const row = await p.$$eval('#tokens tr:last-child td', (tds) => tds.map((t) => t.textContent));
  assert.equal(row[2], 'nightly backup');
  assert.match(row[1], /\d/);
  await screenshot(p, 'account-token-created');
  await p.click('#new-token-copy');
  await p.waitForFunction(() => document.querySelector('#token-message').textContent === 'The token is copied.');
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), token);

  // The CLI: the token lists the account's files (ids; it holds no key for names), and the
  // account's token list has the page's token under its id.
  const asScript = { SATLOAD_TOKEN: token, SATLOAD_SERVER: server.url };
  const listed = JSON.parse((await cliOk('scripter', ['ls', '--json'], asScript)).stdout);
  assert.deepEqual(listed.map((f) => f.id), ids);
  const cliTokens = JSON.parse((await cliOk('scripter', ['account', 'token', 'ls', '--json'])).stdout);
  assert.ok(cliTokens.some((t) => String(t.id) === row[0] && t.name === 'nightly backup'), JSON.stringify(cliTokens));

  // Shown once: Done removes it from the page.
  await p.click('#new-token-done');
  assert.equal(await p.isHidden('#new-token'), true);
  assert.equal(await p.inputValue('#new-token-value'), '');

  // Revoke (two presses), then the CLI is refused with it.
  await p.click('button[aria-label="Revoke API token ' + row[0] + ' (nightly backup)"]');
  await p.click('button[aria-label^="Really revoke API token ' + row[0] + ' "]');
  await p.waitForFunction((id) => document.querySelector('#token-message').textContent === `API token ${id} (nightly backup) is revoked.`, row[0]);
  assert.deepEqual(await p.$$eval('#tokens tr td:nth-child(3)', (tds) => tds.map((t) => t.textContent)), ['made by the cli']);
  await screenshot(p, 'account-token-revoked');
  const refused = await cli('scripter', ['ls', '--json'], asScript);
  assert.notEqual(refused.code, 0, 'a revoked token is refused');
  assert.match(refused.stderr, /401|expired|revoked|log in/i);
  await context.close();
});

test('the settings page and the recovery form by keyboard, labelled, at 360 px', async () => {
  const c = await page({ width: 360, height: 740, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const p = c.page;
  await pageLogin(p, 'scripter', PASSWORD);
  await openSettings(p);
  // Every control has its name: the label a screen reader reads.
  for (const [label, id] of [
    ['Current password', 'current-password'],
    ['New password (at least 8 characters)', 'new-password'],
    ['New password again', 'new-password-confirm'],
    ['Name (1 to 64 printable ASCII characters)', 'token-name'],
  ]) {
    assert.equal(await p.getByLabel(label, { exact: true }).getAttribute('id'), id, label);
  }
  await p.getByRole('button', { name: 'Change password' }).waitFor();
  await p.getByRole('button', { name: 'Create token' }).waitFor();
  await p.getByRole('button', { name: 'Revoke API token', exact: false }).first().waitFor();
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the settings page scrolls sideways at 360 px');
  await screenshot(p, 'phone-account-settings');

  // By keyboard: type a name, Enter creates the token; the new token field takes the focus.
  await p.focus('#token-name');
  await p.keyboard.type('keyboard made');
  await p.keyboard.press('Enter');
  await p.waitForSelector('#new-token:not([hidden])');
  assert.equal(await p.evaluate(() => document.activeElement?.id), 'new-token-value');
  secrets.set('an API token made by keyboard', Buffer.from(await p.inputValue('#new-token-value')));
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'a shown token scrolls sideways at 360 px');
  await screenshot(p, 'phone-account-token');
  // Tab moves on to its Copy and Done buttons.
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement?.id), 'new-token-copy');
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement?.id), 'new-token-done');
  await p.keyboard.press('Enter');
  assert.equal(await p.isHidden('#new-token'), true);

  // The recovery form: opened with the keyboard from its summary, each field labelled.
  await p.click('text=Log out');
  await p.waitForURL(`${server.url}/`);
  await p.goto(`${server.url}/login`);
  await p.focus('#reset summary');
  await p.keyboard.press('Enter');
  await p.waitForSelector('#reset-form', { state: 'visible' });
  for (const [label, id] of [
    ['Username', 'reset-username'],
    ['Recovery key', 'reset-key'],
    ['New password', 'reset-password'],
    ['New password again', 'reset-confirm'],
  ]) {
    assert.equal(await p.locator('#reset-form').getByLabel(label, { exact: true }).getAttribute('id'), id, label);
  }
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the login page scrolls sideways at 360 px');
  await screenshot(p, 'phone-login-recovery');
  await c.context.close();
});

test('throttled: a password change and a recovery after many failed logins say how long to wait', async () => {
  await cliOk('throttled', ['account', 'register', 'throttled', '--server', server.url]);
  const { page: p, context } = await page();
  await pageLogin(p, 'throttled', PASSWORD);
  await openSettings(p);
  // Failed logins for the username, straight to the API (not through the browser): past the
  // free ones each doubles the wait (1, 2, 4, 8 s; refused attempts do not count), so after
  // THROTTLE_FAILURES the username waits 16 s, longer than the page needs to try.
  const THROTTLE_FAILURES = 10;
  let retryAfterS = 0;
  for (let failures = 0; failures < THROTTLE_FAILURES || retryAfterS === 0; ) {
    const res = await fetch(`${server.url}/api/v1/account/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'throttled', auth_key: Buffer.alloc(32).toString('base64url') }),
    });
    await res.arrayBuffer();
    if (res.status === 401) {
      failures++;
      continue;
    }
    assert.equal(res.status, 429);
    retryAfterS = Number(res.headers.get('retry-after'));
    if (failures < THROTTLE_FAILURES) {
      await new Promise((resolve) => setTimeout(resolve, retryAfterS * 1000 + 100));
      retryAfterS = 0;
    }
  }
  assert.ok(retryAfterS >= 8, `the username waits ${retryAfterS} s`);
  const changed = await submitPasswordChange(p, PASSWORD, NEW_PASSWORD);
  assert.match(changed.error ?? changed.ok, /^Too many failed attempts for this account: try again in (\d+ seconds?|about \d+ minutes)\.$/);
  await screenshot(p, 'account-password-throttled');

  await p.click('text=Log out');
  await p.waitForURL(`${server.url}/`);
  await p.goto(`${server.url}/login`);
  await p.click('#reset summary');
  await p.fill('#reset-username', 'throttled');
  await p.fill('#reset-key', secrets.get('the recovery key text')?.toString() ?? '');
  await p.fill('#reset-password', RECOVERED_PASSWORD);
  await p.fill('#reset-confirm', RECOVERED_PASSWORD);
  await p.click('#reset-submit');
  await p.waitForFunction(() => document.querySelector('#error').textContent.startsWith('Too many'), null, { timeout: KDF_TIMEOUT_MS });
  assert.match(await p.textContent('#error'), /^Too many failed attempts for this account: try again in /);
  await context.close();
});

test('no page broke its Content-Security-Policy or threw; no password, recovery key, master key or API token was sent', () => {
  assert.deepEqual(allProblems.flat(), []);
  const origin = new URL(server.url);
  for (const list of allRequests) {
    for (const r of list) assert.equal(new URL(r.url).origin, origin.origin, `page request outside the origin: ${r.url}`);
  }
  const forbidden = [];
  for (const [i, password] of PASSWORDS.entries()) secrets.set(`password ${i}`, Buffer.from(password));
  for (const [what, bytes] of secrets) {
    for (const encoding of ['hex', 'base64', 'base64url', 'latin1']) forbidden.push([what, encoding, bytes.toString(encoding)]);
  }
  assert.ok(secrets.size >= 9, `secrets checked: ${[...secrets.keys()].join(', ')}`);
  let checked = 0;
  for (const r of proxy.seen) {
    const text = Buffer.concat([Buffer.from(r.url), Buffer.from(JSON.stringify(r.headers)), ...r.body]).toString('latin1');
    for (const [what, encoding, value] of forbidden) {
      assert.equal(text.includes(value), false, `${what} (${encoding}) was sent: ${r.method} ${r.url}`);
    }
    if (r.method !== 'CONNECT' && new URL(r.url).host === origin.host) {
      assert.equal(/sls_|sla_/.test(r.url), false, `a token in a URL: ${r.url}`);
      checked++;
    }
  }
  assert.ok(checked > 20, `requests to the server seen by the proxy: ${checked}`);
});
