// The server's life cycle with the real binary: HTTPS with --tls-cert/--tls-key (and a client
// that checks the certificate), and graceful shutdown on SIGTERM, which lets a running
// download finish within the grace period, refuses new connections, and cuts a stalled upload
// cleanly so that it resumes after a restart from what arrived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { writeFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Server, runCli, tempDir, lastLine } from '../lib/server.mjs';

const TUS = { 'Tus-Resumable': '1.0.0' };
const sha = (b) => createHash('sha256').update(b).digest('hex');

async function uploadBytes(url, data) {
  const created = await fetch(`${url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(data.length) } });
  const location = created.headers.get('location');
  const res = await fetch(location, {
    method: 'PATCH',
    headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
    body: data,
  });
  assert.equal(res.status, 204);
  return res.headers.get('satload-file-id');
}

test('HTTPS: put and get over TLS with a checked certificate; an unknown certificate is refused', async () => {
  const dir = tempDir('satload-tls-');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const server = await new Server({ args: ['--tls-cert', cert, '--tls-key', key] }).start();
  try {
    assert.match(server.url, /^https:\/\//);
    const file = path.join(dir, 'secret.txt');
    writeFileSync(file, randomBytes(300000));
    const env = { SATLOAD_HOME: tempDir('satload-home-'), SSL_CERT_FILE: cert };
    const put = await runCli(['put', file, '--server', server.url], { env });
    assert.equal(put.code, 0, put.stderr);
    const link = lastLine(put.stdout);
    assert.match(link, /^https:\/\/127\.0\.0\.1:\d+\/f\//);
    const out = path.join(dir, 'copy.txt');
    const get = await runCli(['get', link, '-o', out], { env });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(sha(readFileSync(out)), sha(readFileSync(file)));
    // Without trusting the certificate the client refuses, with one line on stderr.
    const untrusted = await runCli(['put', file, '--server', server.url], {
      env: { SATLOAD_HOME: tempDir('satload-home-'), SSL_CERT_FILE: '/nonexistent.pem' },
    });
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /certif|verif|TLS|SSL/i);
    // Plain HTTP to the TLS port is not answered as HTTP.
    const plain = await fetch(server.url.replace('https:', 'http:') + '/healthz').then(() => 'answered', () => 'refused');
    assert.equal(plain, 'refused');
  } finally {
    await server.stop();
  }
});

test('SIGTERM lets a running download finish, refuses new connections, and exits 0', async () => {
  const server = await new Server({ args: ['--shutdown-grace', '20s'] }).start();
  const data = randomBytes(48 * 1024 * 1024);
  const id = await uploadBytes(server.url, data);
  const { port } = new URL(server.url);
  const received = [];
  let res;
  await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/d/${id}` }, (r) => { res = r; r.pause(); resolve(); }).on('error', reject);
  });
  // The download has started and is paused (the client is slow); now ask the server to stop.
  server.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  const fresh = await new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: Number(port) }, () => { s.destroy(); resolve('accepted'); });
    s.on('error', () => resolve('refused'));
  });
  assert.equal(fresh, 'refused', 'no new connections while draining');
  const body = await new Promise((resolve, reject) => {
    res.on('data', (d) => received.push(d));
    res.on('end', () => resolve(Buffer.concat(received)));
    res.on('error', reject);
    res.resume();
  });
  assert.equal(body.length, data.length);
  assert.equal(sha(body), sha(data));
  const exit = await server.exited;
  assert.equal(exit.code, 0);
  assert.match(server.log, /received signal/);
});

test('SIGTERM cuts a stalled upload after the grace period; it resumes after a restart', async () => {
  const dataDir = tempDir('satload-grace-');
  let server = await new Server({ dataDir, args: ['--shutdown-grace', '1s'] }).start();
  const total = 4 * 1024 * 1024;
  const data = randomBytes(total);
  const created = await fetch(`${server.url}/files`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(total) } });
  const uploadPath = new URL(created.headers.get('location')).pathname;
  const { port } = new URL(server.url);
  const sock = net.connect({ host: '127.0.0.1', port: Number(port) });
  await new Promise((r) => sock.on('connect', r));
  sock.on('error', () => {});
  const sent = 1024 * 1024 + 17;
  sock.write(`PATCH ${uploadPath} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n` +
    `Content-Type: application/offset+octet-stream\r\nContent-Length: ${total}\r\n\r\n`);
  sock.write(data.subarray(0, sent));
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  server.proc.kill('SIGTERM');
  const exit = await server.exited;
  const tookMs = Date.now() - started;
  sock.destroy();
  assert.equal(exit.code, 0);
  assert.ok(tookMs < 10000, `shutdown took ${tookMs} ms with a 1 s grace`);

  server = await new Server({ dataDir }).start();
  try {
    const head = await fetch(`${server.url}${uploadPath}`, { method: 'HEAD', headers: TUS });
    assert.equal(Number(head.headers.get('upload-offset')), sent, 'the bytes that arrived were kept');
    const rest = await fetch(`${server.url}${uploadPath}`, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': String(sent), 'Content-Type': 'application/offset+octet-stream' },
      body: data.subarray(sent),
    });
    assert.equal(rest.status, 204);
    const id = rest.headers.get('satload-file-id');
    const got = Buffer.from(await (await fetch(`${server.url}/d/${id}`)).arrayBuffer());
    assert.equal(sha(got), sha(data));
  } finally {
    await server.stop();
  }
});
