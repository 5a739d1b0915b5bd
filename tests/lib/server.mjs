// Starts and stops real `satload serve` processes for functional and interop tests: a fresh
// data directory, a free loopback port, and the server's stderr kept as its log.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const BIN = process.env.SATLOAD_BIN;
if (!BIN) throw new Error('SATLOAD_BIN must name the satload binary (make test sets it)');

// Every temporary directory of a test file is removed when its process exits (tests write
// files of a GiB and more); SATLOAD_KEEP_TMP=1 keeps them for a post-mortem.
const made = [];
process.on('exit', () => {
  if (process.env.SATLOAD_KEEP_TMP === '1') return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'satload-') {
  const base = process.env.SATLOAD_TEST_TMP || tmpdir();
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(path.join(base, prefix));
  made.push(dir);
  return dir;
}

// The scale-out stage of `make test` runs suites again with every store in PostgreSQL
// (SATLOAD_TEST_DB_URL, a server URL) and the blobs in an S3 bucket (SATLOAD_TEST_BLOBS_URL,
// an s3:// URL whose bucket name is a prefix). Each data directory gets a schema and a bucket
// of its own, named after it, so a server restarted on the same directory finds its data.
export const SCALE_DB = process.env.SATLOAD_TEST_DB_URL || '';
export const SCALE_BLOBS = process.env.SATLOAD_TEST_BLOBS_URL || '';
export function backendArgs(dataDir) {
  const names = scaleNames(dataDir);
  const args = [];
  if (names.schema) args.push('--db', `${SCALE_DB}${SCALE_DB.includes('?') ? '&' : '?'}schema=${names.schema}`);
  if (names.bucket) args.push('--blobs', `s3://${names.bucket}${new URL(SCALE_BLOBS.replace(/^s3:/, 'http:')).search}`);
  return args;
}

function scaleNames(dataDir) {
  const tag = path.basename(dataDir).toLowerCase().replace(/[^a-z0-9]/g, '');
  const out = {};
  if (SCALE_DB) out.schema = `t_${tag}`;
  if (SCALE_BLOBS) {
    const u = new URL(SCALE_BLOBS.replace(/^s3:/, 'http:'));
    out.bucket = `${u.hostname}-${tag}`;
    out.endpoint = u.searchParams.get('endpoint');
    out.region = u.searchParams.get('region') || 'us-east-1';
  }
  return out;
}

function s3Signing(names) {
  // curl 7.88 signs the payload hash header only when it is given.
  return ['--silent', '--show-error', '--fail', '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD',
    '--aws-sigv4', `aws:amz:${names.region}:s3`,
    '--user', `${process.env.AWS_ACCESS_KEY_ID}:${process.env.AWS_SECRET_ACCESS_KEY}`];
}

function bucketKeys(names, prefix = '') {
  const list = spawnSync('curl', [...s3Signing(names), `${names.endpoint}/${names.bucket}?list-type=2&max-keys=1000&prefix=${encodeURIComponent(prefix)}`],
    { encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`listing the bucket failed: ${list.stderr}`);
  if (/<IsTruncated>true</.test(list.stdout)) throw new Error('the bucket holds more objects than one listing');
  return [...list.stdout.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
}

// How many blob files the server of `dataDir` stores, complete or partial: every file under
// its blobs directory, or every object in its bucket.
export function storedBlobCount(dataDir) {
  const names = scaleNames(dataDir);
  if (names.bucket) return bucketKeys(names).length;
  const count = (dir) => readdirSync(dir, { withFileTypes: true })
    .reduce((n, e) => n + (e.isDirectory() ? count(path.join(dir, e.name)) : 1), 0);
  const root = path.join(dataDir, 'blobs');
  return existsSync(root) ? count(root) : 0;
}

// Copies of everything the server of `dataDir` keeps outside it: a plain-text dump of its
// PostgreSQL schema and every object of its bucket (curl signs the requests with SigV4), in a
// new directory, for scans that prove what the server never stores.
export function snapshotBackends(dataDir) {
  const out = tempDir('satload-stored-');
  const names = scaleNames(dataDir);
  if (names.schema) {
    const dump = spawnSync('pg_dump', ['--schema', names.schema, '--no-owner', '-f', path.join(out, 'db.sql'), SCALE_DB],
      { encoding: 'utf8' });
    if (dump.status !== 0) throw new Error(`pg_dump failed: ${dump.stderr}`);
  }
  if (names.bucket) {
    bucketKeys(names).forEach((key, i) => {
      const get = spawnSync('curl', [...s3Signing(names), '-o', path.join(out, `object-${i}`), `${names.endpoint}/${names.bucket}/${key}`]);
      if (get.status !== 0) throw new Error(`reading ${key} failed: ${get.stderr}`);
    });
  }
  return out;
}

// A running server. `log` accumulates everything it printed.
export class Server {
  // `backends: false`: no --db/--blobs of the scale-out stage (the test names its own).
  constructor({ dataDir, args = [], env = {}, wrap = null, backends = true } = {}) {
    this.backends = backends;
    this.dataDir = dataDir ?? tempDir('satload-data-');
    this.args = args;
    this.env = env;
    this.wrap = wrap; // e.g. ['strace', '-f', ...]: a command to run the server under
    this.log = '';
    this.proc = null;
    this.url = null;
  }

  async start(timeoutMs = 15000) {
    const serveArgs = ['serve', '--listen', '127.0.0.1:0', '--data', this.dataDir, ...(this.backends ? backendArgs(this.dataDir) : []), ...this.args];
    const [cmd, argv] = this.wrap ? [this.wrap[0], [...this.wrap.slice(1), BIN, ...serveArgs]] : [BIN, serveArgs];
    this.proc = spawn(cmd, argv, { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    const onData = (d) => { this.log += d.toString(); };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = this.log.match(/listening on (https?:\/\/[^\s]+)/);
      if (m) {
        this.url = m[1];
        return this;
      }
      if (this.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`server did not start:\n${this.log}`);
  }

  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    if (this.wrap) {
      // Signal the server itself, not the wrapper (strace would detach and leave it running);
      // the wrapper exits when its child does.
      const pid = this.proc.pid;
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const child of children) process.kill(Number(child), signal);
    } else {
      this.proc.kill(signal);
    }
    return this.exited;
  }

  async kill() { return this.stop('SIGKILL'); }

  // Every place this server stores things: its data directory and, in the scale-out stage,
  // copies of its database schema and bucket (snapshotBackends).
  storedPaths() {
    return SCALE_DB || SCALE_BLOBS ? [this.dataDir, snapshotBackends(this.dataDir)] : [this.dataDir];
  }

  async metric(name) {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
    if (!m) throw new Error(`metric ${name} not found`);
    return Number(m[1]);
  }
}

// Runs the satload CLI to completion. Returns {code, stdout, stderr}.
export function runCli(args, { env = {}, input, timeoutMs = 600000, cwd } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(BIN, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (input !== undefined) proc.stdin.end(input); else proc.stdin.end();
  });
}

// Starts the CLI and returns the child, for tests that kill it mid-way.
export function spawnCli(args, { env = {} } = {}) {
  const proc = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.output = { stdout: '', stderr: '' };
  proc.stdout.on('data', (d) => { proc.output.stdout += d; });
  proc.stderr.on('data', (d) => { proc.output.stderr += d; });
  proc.done = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return proc;
}

export function lastLine(text) {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1];
}

// `<base>/f/<id>[?r=..]#<secret>` → parts.
export function parseLink(link) {
  const u = new URL(link);
  const m = u.pathname.match(/^\/f\/([A-Za-z0-9_-]{22})$/);
  if (!m) throw new Error(`not a satload link: ${link}`);
  return { base: u.origin, id: m[1], secret: u.hash.slice(1) };
}

export { readFileSync, writeFileSync, rmSync, spawnSync };
