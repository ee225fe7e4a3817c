/** A counting semaphore: at most `max` tasks run at once; the rest wait in FIFO order. */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createLimiter(max: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}

/**
 * Global limit plus one per subscription: ARM throttles per (principal, subscription), so a tenant with one
 * huge subscription must not drain its bucket while other subscriptions wait.
 */
export function createScopedLimiter(globalMax: number, perScopeMax: number) {
  const global = createLimiter(globalMax);
  const scopes = new Map<string, Limiter>();
  return {
    run<T>(scope: string, task: () => Promise<T>): Promise<T> {
      let l = scopes.get(scope.toLowerCase());
      if (!l) {
        l = createLimiter(perScopeMax);
        scopes.set(scope.toLowerCase(), l);
      }
      return l.run(() => global.run(task));
    },
  };
}
export type ScopedLimiter = ReturnType<typeof createScopedLimiter>;
