import { describe, expect, it } from 'vitest';
import { createScopedLimiter } from '../../../src/lib/reconcile/limiter.js';

describe('createScopedLimiter', () => {
  it('never runs more than the per-scope and global limits at once', async () => {
    const limiter = createScopedLimiter(3, 2);
    const active = new Map<string, number>();
    let global = 0;
    let maxGlobal = 0;
    let maxScope = 0;
    const task = (scope: string) =>
      limiter.run(scope, async () => {
        global++;
        active.set(scope, (active.get(scope) ?? 0) + 1);
        maxGlobal = Math.max(maxGlobal, global);
        maxScope = Math.max(maxScope, active.get(scope) ?? 0);
        await new Promise((r) => setTimeout(r, 2));
        global--;
        active.set(scope, (active.get(scope) ?? 0) - 1);
      });
    await Promise.all(['a', 'a', 'a', 'a', 'b', 'b', 'b', 'c', 'c'].map(task));
    expect(maxScope).toBe(2);
    expect(maxGlobal).toBe(3);
  });
});
