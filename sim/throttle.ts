/** Token-bucket limits like ARM's regional throttling (azure-facts §5). Deletes use the write numbers. */
export interface ThrottleLimits {
  readBucket: number;
  readRefillPerSec: number;
  writeBucket: number;
  writeRefillPerSec: number;
}
export const ARM_LIMITS: ThrottleLimits = { readBucket: 250, readRefillPerSec: 25, writeBucket: 200, writeRefillPerSec: 10 };

export type OperationKind = 'read' | 'write' | 'delete';

export type TakeResult = { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number; remaining: 0 };

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  constructor(private readonly limits: ThrottleLimits, private readonly now: () => number = Date.now) {}

  take(key: string, kind: OperationKind): TakeResult {
    const size = kind === 'read' ? this.limits.readBucket : this.limits.writeBucket;
    const refill = kind === 'read' ? this.limits.readRefillPerSec : this.limits.writeRefillPerSec;
    const k = `${key}|${kind}`;
    const t = this.now();
    const b = this.buckets.get(k) ?? { tokens: size, at: t };
    b.tokens = Math.min(size, b.tokens + ((t - b.at) / 1000) * refill);
    b.at = t;
    this.buckets.set(k, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, remaining: Math.floor(b.tokens) };
    }
    return { ok: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / refill)) };
  }
}

/** Resource Graph's per-principal quota: at most `queries` per `windowSeconds` window. */
export class WindowQuota {
  private readonly windows = new Map<string, { start: number; used: number }>();
  constructor(private readonly queries: number, private readonly windowSeconds: number, private readonly now: () => number = Date.now) {}
  take(key: string): TakeResult {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.windowSeconds * 1000) this.windows.set(key, (w = { start: t, used: 0 }));
    if (w.used < this.queries) {
      w.used += 1;
      return { ok: true, remaining: this.queries - w.used };
    }
    return { ok: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((w.start + this.windowSeconds * 1000 - t) / 1000)) };
  }
}
