import { useCallback, useEffect, useRef, useState } from 'react';

export type Load<T> = { state: 'loading' } | { state: 'ready'; data: T } | { state: 'failed'; message: string };

/**
 * Fetch state as data, never thrown into React; a stale answer (from before `key` changed) is dropped.
 * Once `key` (the query) changes, what was loaded for the old one is no longer shown: a search's
 * old rows under its new filter could be taken for, and opened as, what the filter found.
 * `reload` keeps the current data on screen until the fresh answer replaces it.
 */
export function useLoad<T>(load: () => Promise<T>, key: string): [Load<T>, () => Promise<void>] {
  const [result, setResult] = useState<{ key: string; load: Load<T> }>({ key, load: { state: 'loading' } });
  const latest = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const keyRef = useRef(key);
  keyRef.current = key;
  // Settles once the answer is shown (or dropped as stale), for a caller that waits for fresh data.
  const reload = useCallback(async () => {
    const request = ++latest.current;
    const forKey = keyRef.current;
    await loadRef.current().then(
      (data) => request === latest.current && setResult({ key: forKey, load: { state: 'ready', data } }),
      (error: unknown) =>
        request === latest.current &&
        setResult({ key: forKey, load: { state: 'failed', message: (error as Error).message } }),
    );
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload again whenever the key (the query) changes
  useEffect(() => {
    reload();
  }, [key]);
  return [result.key === key ? result.load : { state: 'loading' }, reload];
}
