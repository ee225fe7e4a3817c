/**
 * `make` runs on the first call and its promise is shared by every later call while it holds; a rejection is
 * not kept, so the next call tries again (a storage client that failed to build at one delivery, a registry whose
 * SDK import failed, must not stay broken for the life of the worker).
 */
export function lazyOnce<T>(make: () => T | Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= Promise.resolve()
      .then(make)
      .catch((e: unknown) => {
        pending = undefined;
        throw e;
      }));
}
