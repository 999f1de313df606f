import { useCallback, useRef, useState } from 'react';

/**
 * One request at a time from a control: a double click or a second Enter sends nothing until the
 * first is answered (a decision sent twice answered the person with a refusal of the second).
 */
export function useInFlight(): [boolean, (work: () => Promise<unknown>) => Promise<void>] {
  const running = useRef(false);
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (work: () => Promise<unknown>) => {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    try {
      await work();
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, []);
  return [busy, run];
}
