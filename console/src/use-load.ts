import { useCallback, useEffect, useRef, useState } from 'react';

export type Load<T> = { state: 'loading' } | { state: 'ready'; data: T } | { state: 'failed'; message: string };

/** Fetch state as data, never thrown into React; a stale answer (from before `key` changed) is dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): [Load<T>, () => Promise<void>] {
  const [result, setResult] = useState<Load<T>>({ state: 'loading' });
  const latest = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // Settles once the answer is shown (or dropped as stale), for a caller that waits for fresh data.
  const reload = useCallback(async () => {
    const request = ++latest.current;
    await loadRef.current().then(
      (data) => request === latest.current && setResult({ state: 'ready', data }),
      (error: unknown) =>
        request === latest.current && setResult({ state: 'failed', message: (error as Error).message }),
    );
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload again whenever the key (the query) changes
  useEffect(() => {
    reload();
  }, [key]);
  return [result, reload];
}
