// RFC 8188 "aes128gcm" on WebCrypto, the same format as src/crypto/ece.h: header codec,
// per-record encryption and decryption (so any record, and so any byte range, can be handled
// alone), a body decoder fed in chunks of any size, and the layout arithmetic.
//
// satload's encoder writes every record full (recordSize - 17 plaintext bytes) except the
// last, and never pads; a plaintext that is an exact multiple of a record (0 included) ends
// with a record carrying only the last delimiter. The decoders accept any valid RFC 8188 body
// (padding, a full last record), as other encoders such as the npm http_ece package write.

export const SALT_BYTES = 16;
export const KEY_BYTES = 16; // AES-128
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const HEADER_BASE_BYTES = 21; // salt(16) + rs(4) + idlen(1)
export const RECORD_OVERHEAD_BYTES = TAG_BYTES + 1; // tag + delimiter
export const MIN_RECORD_SIZE = 18; // tag + one byte (RFC 8188 section 2.1)
// Our own limit, so a hostile header cannot make a reader buffer gigabytes per record.
export const MAX_RECORD_SIZE = 16 * 1024 * 1024;
export const DEFAULT_RECORD_SIZE = 64 * 1024;
export const MAX_KEY_ID_BYTES = 255;
export const DELIMITER_MORE = 0x01;
export const DELIMITER_LAST = 0x02;

// RFC 8188 sections 2.2 and 2.3: the info strings include their terminating zero byte.
const CEK_INFO = new TextEncoder().encode('Content-Encoding: aes128gcm\0');
const NONCE_INFO = new TextEncoder().encode('Content-Encoding: nonce\0');

export type EceErrorCode =
  | 'malformed_header' // fewer bytes than the header declares, or a record size out of range
  | 'authentication_failed' // a record's tag did not verify: wrong key, flipped bit, reordering
  | 'bad_padding' // a record decrypted but its delimiter or padding is invalid
  | 'truncated' // the body ended before a record with the last delimiter
  | 'trailing_data'; // bytes after the last record

export class EceError extends Error {
  constructor(
    readonly code: EceErrorCode,
    readonly record: number,
  ) {
    super(describe(code, record));
    this.name = 'EceError';
  }
}

function describe(code: EceErrorCode, record: number): string {
  switch (code) {
    case 'malformed_header':
      return 'malformed encryption header';
    case 'authentication_failed':
      return `record ${record} failed authentication (wrong key, or corrupted data)`;
    case 'bad_padding':
      return `record ${record} has an invalid delimiter or padding`;
    case 'truncated':
      return `encrypted body is truncated at record ${record}`;
    case 'trailing_data':
      return `unexpected data after the last record (record ${record})`;
  }
}

// WebCrypto and Blob take ArrayBuffer-backed views; ours always are (never a
// SharedArrayBuffer), which TypeScript cannot see through stream chunk types.
export function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

// Best effort: JavaScript gives no guarantee that no copy remains, but the buffers we hold do
// not keep key bytes longer than needed.
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}

export interface Header {
  salt: Uint8Array;
  recordSize: number;
  keyId: Uint8Array;
}

export function headerSize(header: Header): number {
  return HEADER_BASE_BYTES + header.keyId.length;
}

function recordSizeValid(rs: number): boolean {
  return Number.isInteger(rs) && rs >= MIN_RECORD_SIZE && rs <= MAX_RECORD_SIZE;
}

// Parses the header at the start of `data`; throws EceError('malformed_header').
export function parseHeader(data: Uint8Array): Header {
  if (data.length < HEADER_BASE_BYTES) throw new EceError('malformed_header', 0);
  const rs = ((data[16]! << 24) | (data[17]! << 16) | (data[18]! << 8) | data[19]!) >>> 0;
  const idlen = data[20]!;
  if (!recordSizeValid(rs) || data.length < HEADER_BASE_BYTES + idlen) {
    throw new EceError('malformed_header', 0);
  }
  return {
    salt: data.slice(0, SALT_BYTES),
    recordSize: rs,
    keyId: data.slice(HEADER_BASE_BYTES, HEADER_BASE_BYTES + idlen),
  };
}

export function serializeHeader(header: Header): Uint8Array {
  if (!recordSizeValid(header.recordSize)) throw new RangeError('record size out of range');
  if (header.salt.length !== SALT_BYTES) throw new RangeError('salt must be 16 bytes');
  if (header.keyId.length > MAX_KEY_ID_BYTES) throw new RangeError('key id too long');
  const out = new Uint8Array(headerSize(header));
  out.set(header.salt, 0);
  new DataView(out.buffer).setUint32(16, header.recordSize, false);
  out[20] = header.keyId.length;
  out.set(header.keyId, HEADER_BASE_BYTES);
  return out;
}

export function newHeader(recordSize = DEFAULT_RECORD_SIZE, salt?: Uint8Array): Header {
  return {
    salt: salt ?? globalThis.crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
    recordSize,
    keyId: new Uint8Array(0),
  };
}

// Ciphertext layout of a body written by satload's encoder (full records, no padding).
// Sizes are JavaScript numbers: exact up to 2^53 bytes, far above any upload limit.
export class Layout {
  constructor(
    readonly headerBytes: number = HEADER_BASE_BYTES,
    readonly recordSize: number = DEFAULT_RECORD_SIZE,
  ) {
    if (!recordSizeValid(recordSize)) throw new RangeError('record size out of range');
  }

  static of(header: Header): Layout {
    return new Layout(headerSize(header), header.recordSize);
  }

  get plaintextPerRecord(): number {
    return this.recordSize - RECORD_OVERHEAD_BYTES;
  }

  recordCount(plaintextBytes: number): number {
    return Math.floor(plaintextBytes / this.plaintextPerRecord) + 1;
  }

  ciphertextSize(plaintextBytes: number): number {
    return this.headerBytes + plaintextBytes + this.recordCount(plaintextBytes) * RECORD_OVERHEAD_BYTES;
  }

  // Inverse of ciphertextSize; null when no plaintext size maps to this size.
  plaintextSize(ciphertextBytes: number): number | null {
    if (ciphertextBytes < this.headerBytes) return null;
    const body = ciphertextBytes - this.headerBytes;
    const fullRecords = Math.floor(body / this.recordSize);
    const lastRecordBytes = body % this.recordSize;
    // Our last record is never full, and it is at least the overhead.
    if (lastRecordBytes < RECORD_OVERHEAD_BYTES) return null;
    return fullRecords * this.plaintextPerRecord + (lastRecordBytes - RECORD_OVERHEAD_BYTES);
  }

  recordOffset(index: number): number {
    return this.headerBytes + index * this.recordSize;
  }
}

// Imports 16 IKM bytes as a non-extractable HKDF key (the only form the ciphers take).
export async function importIkm(raw: Uint8Array): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey('raw', buf(raw), 'HKDF', false, ['deriveBits', 'deriveKey']);
}

// The content-encryption key and base nonce of one body (IKM and salt), and the records
// they encrypt and decrypt. Records are independent: any index, in any order, concurrently.
export class RecordCipher {
  private constructor(
    private readonly key: CryptoKey,
    private readonly baseNonce: Uint8Array,
    readonly header: Header,
  ) {}

  static async create(ikm: CryptoKey, header: Header): Promise<RecordCipher> {
    const subtle = globalThis.crypto.subtle;
    const key = await subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: buf(header.salt), info: CEK_INFO },
      ikm,
      { name: 'AES-GCM', length: KEY_BYTES * 8 },
      false,
      ['encrypt', 'decrypt'],
    );
    const nonce = await subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: buf(header.salt), info: NONCE_INFO },
      ikm,
      NONCE_BYTES * 8,
    );
    return new RecordCipher(key, new Uint8Array(nonce), header);
  }

  get recordSize(): number {
    return this.header.recordSize;
  }

  get plaintextPerRecord(): number {
    return this.header.recordSize - RECORD_OVERHEAD_BYTES;
  }

  // RFC 8188 section 2.3: base nonce XOR the 96-bit big-endian sequence number. Indexes are
  // below 2^53, so the top 5 bytes stay as they are.
  private nonce(index: number): Uint8Array {
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError('bad record index');
    const out = this.baseNonce.slice();
    let rest = index;
    for (let i = NONCE_BYTES - 1; i >= NONCE_BYTES - 7 && rest > 0; i--) {
      out[i]! ^= rest % 256;
      rest = Math.floor(rest / 256);
    }
    return out;
  }

  // Encrypts record `index`: `plaintext` is exactly plaintextPerRecord bytes unless `last`,
  // then at most that. Returns plaintext.length + 17 bytes.
  async encryptRecord(index: number, plaintext: Uint8Array, last: boolean): Promise<Uint8Array> {
    const ppr = this.plaintextPerRecord;
    if (last ? plaintext.length > ppr : plaintext.length !== ppr) {
      throw new RangeError(`record ${index}: ${plaintext.length} plaintext bytes, record holds ${ppr}`);
    }
    const padded = new Uint8Array(plaintext.length + 1);
    padded.set(plaintext);
    padded[plaintext.length] = last ? DELIMITER_LAST : DELIMITER_MORE;
    const out = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: buf(this.nonce(index)), tagLength: TAG_BYTES * 8 },
      this.key,
      padded,
    );
    padded.fill(0);
    return new Uint8Array(out);
  }

  // Decrypts record `index` (its whole ciphertext: recordSize bytes, fewer for the last).
  // Returns the plaintext without delimiter or padding and whether it was the last record.
  async decryptRecord(index: number, ciphertext: Uint8Array): Promise<{ plaintext: Uint8Array; last: boolean }> {
    if (ciphertext.length > this.recordSize) throw new EceError('trailing_data', index);
    if (ciphertext.length < RECORD_OVERHEAD_BYTES) throw new EceError('truncated', index);
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(
        await globalThis.crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: buf(this.nonce(index)), tagLength: TAG_BYTES * 8 },
          this.key,
          buf(ciphertext),
        ),
      );
    } catch {
      throw new EceError('authentication_failed', index);
    }
    // The delimiter is the last non-zero byte; only zeros (padding) may follow it.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0) throw new EceError('bad_padding', index);
    const delimiter = plain[end];
    if (delimiter !== DELIMITER_MORE && delimiter !== DELIMITER_LAST) throw new EceError('bad_padding', index);
    const last = delimiter === DELIMITER_LAST;
    // A short record that is not the last is what a cut body looks like.
    if (!last && ciphertext.length < this.recordSize) throw new EceError('truncated', index);
    return { plaintext: plain.subarray(0, end), last };
  }
}

// Bytes waiting to form a record, kept as the chunks that arrived (no quadratic copying).
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes of chunks[0] already taken
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Uint8Array {
    if (n > this.length) throw new RangeError('ByteQueue underflow');
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      this.length -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const m = Math.min(n - o, c.length - this.head);
      out.set(c.subarray(this.head, this.head + m), o);
      o += m;
      this.head += m;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.length -= n;
    return out;
  }
}

export interface BodyDecoderOptions {
  // Decrypt a body that starts at record `firstRecord` of a body with this header (a range
  // download): no header is expected in the input.
  header?: Header;
  firstRecord?: number;
}

// Decrypts a body arriving in chunks of any size: checks record order, the last delimiter,
// truncation and trailing data. Full records are decrypted as soon as they are complete.
export class BodyDecoder {
  private readonly queue = new ByteQueue();
  private cipher: RecordCipher | null = null;
  private index: number;
  private sawLast = false;
  private headerBytes: Uint8Array | null = null;

  constructor(
    private readonly ikm: CryptoKey,
    private readonly options: BodyDecoderOptions = {},
  ) {
    this.index = options.firstRecord ?? 0;
  }

  // The header, once the input has carried it (or as given for a range).
  get header(): Header | null {
    return this.cipher?.header ?? this.options.header ?? null;
  }

  // Appends to `out` the plaintext of every record this chunk completes.
  async push(chunk: Uint8Array, out: Uint8Array[]): Promise<void> {
    this.queue.push(chunk);
    if (!this.cipher && !(await this.start())) return;
    const rs = this.cipher!.recordSize;
    while (this.queue.length >= rs) {
      if (this.sawLast) throw new EceError('trailing_data', this.index);
      await this.decryptNext(this.queue.take(rs), out);
    }
  }

  // At the end of input: decrypts a final short record and checks the body was complete.
  async finish(out: Uint8Array[]): Promise<void> {
    if (!this.cipher && !(await this.start())) throw new EceError('malformed_header', 0);
    if (this.queue.length > 0) {
      if (this.sawLast) throw new EceError('trailing_data', this.index);
      await this.decryptNext(this.queue.take(this.queue.length), out);
    }
    if (!this.sawLast) throw new EceError('truncated', this.index);
  }

  // Sets up the cipher once the header is known; false while more input is needed.
  private async start(): Promise<boolean> {
    let header = this.options.header;
    if (!header) {
      if (this.headerBytes === null) {
        if (this.queue.length < HEADER_BASE_BYTES) return false;
        this.headerBytes = this.queue.take(HEADER_BASE_BYTES).slice();
      }
      const idlen = this.headerBytes[20]!;
      if (this.queue.length < idlen) return false;
      const full = new Uint8Array(HEADER_BASE_BYTES + idlen);
      full.set(this.headerBytes);
      full.set(this.queue.take(idlen), HEADER_BASE_BYTES);
      header = parseHeader(full);
    }
    this.cipher = await RecordCipher.create(this.ikm, header);
    return true;
  }

  private async decryptNext(record: Uint8Array, out: Uint8Array[]): Promise<void> {
    const { plaintext, last } = await this.cipher!.decryptRecord(this.index, record);
    this.index++;
    if (last) this.sawLast = true;
    if (plaintext.length > 0) out.push(plaintext);
  }
}

// A TransformStream from an RFC 8188 body to its plaintext; errors with EceError.
export function decryptStream(ikm: CryptoKey, options: BodyDecoderOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new BodyDecoder(ikm, options);
  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      const out: Uint8Array[] = [];
      await decoder.push(chunk, out);
      for (const p of out) controller.enqueue(p);
    },
    async flush(controller) {
      const out: Uint8Array[] = [];
      await decoder.finish(out);
      for (const p of out) controller.enqueue(p);
    },
  });
}

// A TransformStream from plaintext to an RFC 8188 body in satload's layout (full records,
// the last one short or delimiter-only). Memory: at most one record of plaintext buffered.
export function encryptStream(ikm: CryptoKey, header: Header = newHeader()): TransformStream<Uint8Array, Uint8Array> {
  let cipher: RecordCipher;
  const queue = new ByteQueue();
  let index = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      cipher = await RecordCipher.create(ikm, header);
      controller.enqueue(serializeHeader(header));
    },
    async transform(chunk, controller) {
      queue.push(chunk);
      const ppr = cipher.plaintextPerRecord;
      // A full record goes out at once: the end of input is marked by the short (or empty)
      // record that flush writes, never by a full one.
      while (queue.length >= ppr) controller.enqueue(await cipher.encryptRecord(index++, queue.take(ppr), false));
    },
    async flush(controller) {
      controller.enqueue(await cipher.encryptRecord(index++, queue.take(queue.length), true));
    },
  });
}

// Whole-buffer helpers (metadata, tests).
export async function encrypt(ikm: CryptoKey, plaintext: Uint8Array, header: Header = newHeader()): Promise<Uint8Array> {
  const cipher = await RecordCipher.create(ikm, header);
  const layout = Layout.of(header);
  const out = new Uint8Array(layout.ciphertextSize(plaintext.length));
  out.set(serializeHeader(header));
  const ppr = layout.plaintextPerRecord;
  const count = layout.recordCount(plaintext.length);
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    const piece = plaintext.subarray(i * ppr, last ? plaintext.length : (i + 1) * ppr);
    out.set(await cipher.encryptRecord(i, piece, last), layout.recordOffset(i));
  }
  return out;
}

export async function decrypt(ikm: CryptoKey, body: Uint8Array): Promise<Uint8Array> {
  const decoder = new BodyDecoder(ikm);
  const parts: Uint8Array[] = [];
  await decoder.push(body, parts);
  await decoder.finish(parts);
  return concat(parts);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
