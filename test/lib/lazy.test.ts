import { describe, expect, it } from 'vitest';
import { lazyOnce } from '../../src/lib/lazy.js';

describe('lazyOnce', () => {
  it('builds once and shares the result, also between concurrent first calls', async () => {
    let builds = 0;
    const get = lazyOnce(async () => ({ n: ++builds }));
    const [a, b] = await Promise.all([get(), get()]);
    expect(a).toBe(b);
    expect(await get()).toBe(a);
    expect(builds).toBe(1);
  });

  it('does not keep a failure: the next call builds again', async () => {
    let builds = 0;
    const get = lazyOnce(() => {
      builds++;
      if (builds === 1) throw new Error('storage SDK failed to load');
      return 'client';
    });
    await expect(get()).rejects.toThrow('storage SDK failed to load');
    expect(await get()).toBe('client');
    expect(await get()).toBe('client');
    expect(builds).toBe(2);
  });
});
