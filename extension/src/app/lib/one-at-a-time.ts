import type * as React from 'react';

type ReactHooks = Pick<typeof React, 'useRef' | 'useState' | 'useCallback'>;

/**
 * Builds the hook that lets a screen send one request at a time, from the React each feature
 * bundles (as `createUseBackendData`). In HubSpot a button's `disabled` reaches the page only
 * after the extension renders again, so a double click arrives as two clicks: the second now sends
 * nothing (a decision sent twice was refused the second time, and the person saw "Not decided"
 * after it was decided).
 */
export function createUseOneAtATime(react: ReactHooks) {
  // biome-ignore lint/correctness/noComponentHookFactories: built once per feature at module load, never in a render.
  return function useOneAtATime(): {
    busy: boolean;
    /** Runs `work` unless another is running; `undefined` when it did not run. */
    run: <T>(work: () => Promise<T>) => Promise<T | undefined>;
  } {
    const running = react.useRef(false);
    const [busy, setBusy] = react.useState(false);
    const run = react.useCallback(async <T>(work: () => Promise<T>): Promise<T | undefined> => {
      if (running.current) return undefined;
      running.current = true;
      setBusy(true);
      try {
        return await work();
      } finally {
        running.current = false;
        setBusy(false);
      }
    }, []);
    return { busy, run };
  };
}
