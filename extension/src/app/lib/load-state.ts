import type * as React from 'react';
import type { CallResult, Fetcher, FetchInit } from './api.ts';
import { callBackend } from './api.ts';

/** What a screen shows while it loads its data: a tagged union, so each state renders on purpose. */
export type LoadState<T> =
  | { kind: 'loading' }
  | { kind: 'ready'; data: T }
  | { kind: 'forbidden'; message: string }
  | { kind: 'error'; message: string };

export function toLoadState<T>(result: CallResult<T>): LoadState<T> {
  if (result.ok) return { kind: 'ready', data: result.data };
  if (result.status === 401 || result.status === 403) return { kind: 'forbidden', message: result.message };
  return { kind: 'error', message: result.message };
}

type ReactHooks = Pick<typeof React, 'useEffect' | 'useRef' | 'useState' | 'useCallback'>;

/**
 * Builds the data hook from the React each feature bundles (HubSpot installs packages per
 * feature folder, so shared code takes React in rather than importing it). Stale answers are
 * dropped by request number: a slow first load never overwrites a later reload. A read whose
 * question is too long for a query string (the bulk action's selection) is a POST with a body.
 */
export function createUseBackendData(react: ReactHooks) {
  // biome-ignore lint/correctness/noComponentHookFactories: built once per feature at module load, never in a render.
  return function useBackendData<T>(
    fetcher: Fetcher,
    path: string | null,
    body?: FetchInit['body'],
  ): { state: LoadState<T>; reload: () => void } {
    const [state, setState] = react.useState<LoadState<T>>({ kind: 'loading' });
    const [generation, setGeneration] = react.useState(0);
    const latest = react.useRef(0);
    // By value: a body built anew on each render must not fetch again.
    const bodyKey = body === undefined ? undefined : JSON.stringify(body);
    react.useEffect(() => {
      if (path === null) return;
      const request = ++latest.current;
      void callBackend<T>(
        fetcher,
        path,
        bodyKey === undefined ? undefined : { method: 'POST', body: JSON.parse(bodyKey) as FetchInit['body'] },
      ).then((result) => {
        if (request === latest.current) setState(toLoadState(result));
      });
    }, [fetcher, path, bodyKey, generation]);
    const reload = react.useCallback(() => setGeneration((value) => value + 1), []);
    return { state, reload };
  };
}
