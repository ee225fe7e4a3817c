import { describe, expect, it } from 'vitest';
import { reconcileBound } from '../../scripts/bench/reconcileBound.js';

const ARM = { readBucket: 250, readRefillPerSec: 25, writeBucket: 200, writeRefillPerSec: 10 };

describe('reconcileBound', () => {
  it('is the latency bound when no bucket exceeds its size', () => {
    const b = reconcileBound([{ key: 'p|s1', kind: 'read', calls: 200 }, { key: 'p|s2', kind: 'read', calls: 120 }], 50, 16, ARM);
    expect(b.latencyBoundSeconds).toBeCloseTo((320 * 0.05) / 16);
    expect(b.throttleBoundSeconds).toBe(0);
    expect(b.boundBy).toBe('latency');
    expect(b.boundSeconds).toBeCloseTo(1);
  });

  it('is set by the busiest bucket once its calls exceed the bucket size', () => {
    const b = reconcileBound([{ key: 'p|s1', kind: 'read', calls: 1250 }, { key: 'p|s1', kind: 'write', calls: 300 }], 1, 64, ARM);
    // reads: (1250 − 250) / 25 = 40 s; writes: (300 − 200) / 10 = 10 s
    expect(b.throttleBoundSeconds).toBeCloseTo(40);
    expect(b.busiestBucket).toBe('read p|s1');
    expect(b.boundBy).toBe('throttle');
    expect(b.boundSeconds).toBeCloseTo(40);
  });

  it('counts deletes against the write bucket refill', () => {
    const b = reconcileBound([{ key: 'p|s1', kind: 'delete', calls: 260 }], 0, 1, ARM);
    expect(b.boundSeconds).toBeCloseTo(6);
  });
});
