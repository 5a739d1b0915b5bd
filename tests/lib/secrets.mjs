// Derives every key a link implies (DESIGN.md "keys" and RFC 8188) and scans files for any
// textual form of them, to prove the server never holds a readable secret.
import { hkdfSync } from 'node:crypto';
import { openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export function b64urlDecode(text) {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export function deriveKeys(secretText) {
  const secret = b64urlDecode(secretText);
  const derive = (info) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), Buffer.from(info), 16));
  return { secret, content: derive('satload/v1 content'), metadata: derive('satload/v1 metadata') };
}

// RFC 8188 content-encryption key and nonce for a body whose header starts `header`.
export function recordKeys(ikm, header) {
  const salt = header.subarray(0, 16);
  return {
    cek: Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16)),
    nonce: Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12)),
  };
}

// The forms a careless program might write a key in.
export function forms(bytes) {
  const hex = bytes.toString('hex');
  const b64 = bytes.toString('base64');
  return [
    bytes,
    Buffer.from(hex),
    Buffer.from(hex.toUpperCase()),
    Buffer.from(b64),
    Buffer.from(b64.replace(/=+$/, '')),
    Buffer.from(b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
  ];
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) yield* walk(p);
    else if (st.isFile()) yield p;
  }
}

// Returns the list of `needle` hits as "file: which", scanning in blocks with overlap.
export function scanForNeedles(paths, needles) {
  const hits = [];
  const maxLen = Math.max(...needles.map((n) => n.bytes.length));
  const block = Buffer.alloc(8 * 1024 * 1024 + maxLen);
  const files = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) files.push(...walk(p)); else files.push(p);
  }
  for (const file of files) {
    const fd = openSync(file, 'r');
    let carry = 0;
    let pos = 0;
    try {
      while (true) {
        const n = readSync(fd, block, carry, block.length - carry, pos);
        if (n === 0) break;
        pos += n;
        const view = block.subarray(0, carry + n);
        for (const needle of needles) {
          if (view.indexOf(needle.bytes) !== -1) hits.push(`${file}: ${needle.name}`);
        }
        carry = Math.min(maxLen - 1, view.length);
        view.copy(block, 0, view.length - carry, view.length);
      }
    } finally {
      closeSync(fd);
    }
  }
  return [...new Set(hits)];
}
