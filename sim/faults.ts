/** Injected failures, drawn before a request is handled. Probabilities are 0..1 and are tried in the listed order. */
export interface FaultConfig {
  rate429?: number;
  rate429NoRetryAfter?: number;
  rate500?: number;
  rate503?: number;
  /** 409 Conflict (`AnotherOperationInProgress`), which the SDK does not retry. */
  rate409?: number;
  rateReset?: number;
  rateSlow?: number;
  slowMs?: number;
  /** Retry-After on injected 429s (default 0, so SDK retries are immediate in tests). */
  retryAfterSeconds?: number;
  /** Which requests may fault; 'write' includes deletes (default 'all'). */
  only?: 'read' | 'write' | 'all';
  /** Only requests whose path matches may fault (default: any path). */
  paths?: RegExp;
}

export type Fault = '429' | '429-no-retry-after' | '409' | '500' | '503' | 'reset' | 'slow';

/** mulberry32: small, fast and deterministic for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function drawFault(f: FaultConfig | undefined, kind: 'read' | 'write' | 'delete', random: () => number, path = ''): Fault | undefined {
  if (!f) return undefined;
  if (f.paths && !f.paths.test(path)) return undefined;
  if (f.only === 'read' && kind !== 'read') return undefined;
  if (f.only === 'write' && kind === 'read') return undefined;
  const r = random();
  let acc = 0;
  const table: [Fault, number | undefined][] = [
    ['429', f.rate429], ['429-no-retry-after', f.rate429NoRetryAfter], ['409', f.rate409], ['500', f.rate500], ['503', f.rate503], ['reset', f.rateReset], ['slow', f.rateSlow],
  ];
  for (const [fault, p] of table) {
    acc += p ?? 0;
    if (r < acc) return fault;
  }
  return undefined;
}
