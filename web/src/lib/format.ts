// Human-readable sizes, rates, durations and amounts for the pages, and a transfer-rate meter.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[i]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// msat as sat text: "1 sat", "1.5 sat", "0.001 sat" (at most 3 decimals, exact).
export function formatSat(msat: number): string {
  const whole = Math.floor(msat / 1000);
  const frac = msat % 1000;
  const text = frac === 0 ? `${whole}` : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
  return `${text} sat`;
}

export function formatDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString();
}

// Bytes per second over the last few seconds, for "rate" and "time left".
export class RateMeter {
  private samples: { t: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5000) {}

  // Records that `bytes` in total have moved by now.
  sample(bytes: number, now = performance.now()): void {
    this.samples.push({ t: now, bytes });
    while (this.samples.length > 2 && now - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }

  reset(): void {
    this.samples = [];
  }

  rate(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0]!;
    const b = this.samples[this.samples.length - 1]!;
    const dt = (b.t - a.t) / 1000;
    return dt > 0 ? (b.bytes - a.bytes) / dt : 0;
  }

  // "12 MiB of 40 MiB · 5.1 MiB/s · 6 s left"
  describe(done: number, total: number): string {
    const rate = this.rate();
    const parts = [`${formatBytes(done)} of ${formatBytes(total)}`];
    if (rate > 0) {
      parts.push(formatRate(rate));
      if (done < total) parts.push(`${formatDuration((total - done) / rate)} left`);
    }
    return parts.join(' · ');
  }
}

// "12", "0.5", "1.234" sat as msat; null for anything else (a sign, an exponent, more than
// three decimals, or a price past 2.1·10^18 msat, the server's bound).
export function parseSatToMsat(text: string): number | null {
  const m = /^(\d{1,16})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  const msat = Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0'));
  return Number.isSafeInteger(msat) ? msat : null;
}
