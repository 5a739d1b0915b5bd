// The ciphertext of a local file, produced on demand for any byte range: record i of the body
// depends only on (key, salt, i) and plaintext record i, so an upload can send, retry and
// resume any range without holding more than the range in memory. Re-encrypting a range gives
// the same bytes (same key, nonce and plaintext), so a retried range never reuses a nonce on
// different data.
import { Header, Layout, RecordCipher, serializeHeader } from './ece.js';

// Anything with Blob's random access (a File, a Blob, or a test double).
export interface RandomAccessBlob {
  readonly size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

// Records encrypted at once: bounds the work in flight within one read.
const RECORDS_IN_FLIGHT = 16;

export class EncryptedSource {
  readonly size: number; // ciphertext bytes
  private readonly layout: Layout;
  private readonly headerBytes: Uint8Array;

  private constructor(
    private readonly file: RandomAccessBlob,
    private readonly cipher: RecordCipher,
  ) {
    this.layout = Layout.of(cipher.header);
    this.headerBytes = serializeHeader(cipher.header);
    this.size = this.layout.ciphertextSize(file.size);
  }

  static async open(file: RandomAccessBlob, contentIkm: CryptoKey, header: Header): Promise<EncryptedSource> {
    return new EncryptedSource(file, await RecordCipher.create(contentIkm, header));
  }

  // Ciphertext bytes [start, end), end clamped to the size.
  async read(start: number, end: number): Promise<Uint8Array> {
    end = Math.min(end, this.size);
    if (!(Number.isSafeInteger(start) && start >= 0 && start <= end)) throw new RangeError('bad range');
    const out = new Uint8Array(end - start);
    if (out.length === 0) return out;
    const hb = this.layout.headerBytes;
    if (start < hb) out.set(this.headerBytes.subarray(start, Math.min(hb, end)), 0);
    if (end <= hb) return out;

    const rs = this.layout.recordSize;
    const ppr = this.layout.plaintextPerRecord;
    const plainSize = this.file.size;
    const count = this.layout.recordCount(plainSize);
    const first = Math.floor((Math.max(start, hb) - hb) / rs);
    const lastIndex = Math.min(count - 1, Math.floor((end - 1 - hb) / rs));
    // One read of the plaintext the records cover.
    const plainStart = first * ppr;
    const plainEnd = Math.min(plainSize, (lastIndex + 1) * ppr);
    const plain = new Uint8Array(await this.file.slice(plainStart, plainEnd).arrayBuffer());
    if (plain.length !== plainEnd - plainStart) throw new Error('the file changed while it was being read');

    for (let batch = first; batch <= lastIndex; batch += RECORDS_IN_FLIGHT) {
      const jobs: Promise<void>[] = [];
      for (let i = batch; i <= Math.min(lastIndex, batch + RECORDS_IN_FLIGHT - 1); i++) {
        const last = i === count - 1;
        const from = i * ppr - plainStart;
        const piece = plain.subarray(from, last ? plain.length : from + ppr);
        jobs.push(
          this.cipher.encryptRecord(i, piece, last).then((record) => {
            // Copy the part of record i that falls in [start, end).
            const recStart = this.layout.recordOffset(i);
            const a = Math.max(start, recStart);
            const b = Math.min(end, recStart + record.length);
            out.set(record.subarray(a - recStart, b - recStart), a - start);
          }),
        );
      }
      await Promise.all(jobs);
    }
    plain.fill(0);
    return out;
  }
}
