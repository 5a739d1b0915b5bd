// Starts and stops real `satload serve` processes for functional and interop tests: a fresh
// data directory, a free loopback port, and the server's stderr kept as its log.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
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

// A running server. `log` accumulates everything it printed.
export class Server {
  constructor({ dataDir, args = [], env = {}, wrap = null } = {}) {
    this.dataDir = dataDir ?? tempDir('satload-data-');
    this.args = args;
    this.env = env;
    this.wrap = wrap; // e.g. ['strace', '-f', ...]: a command to run the server under
    this.log = '';
    this.proc = null;
    this.url = null;
  }

  async start(timeoutMs = 15000) {
    const serveArgs = ['serve', '--listen', '127.0.0.1:0', '--data', this.dataDir, ...this.args];
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
