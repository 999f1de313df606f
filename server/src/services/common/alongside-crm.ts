/**
 * Starts `databaseWork` once the CRM requests started so far have left, and waits for both.
 * A request needs a turn of the event loop to reach its socket, and PGlite runs on this thread:
 * database work started at the same moment would hold the request back (by 40 to 55 ms in a
 * rollback step, measured) and add to the latency the CRM already costs.
 */
export async function alongsideCrm<R, D>(crmRequests: Promise<R>, databaseWork: () => D): Promise<[R, Awaited<D>]> {
  crmRequests.catch(() => undefined); // awaited below; a failure must not go unhandled while the request leaves
  await new Promise((resolve) => setTimeout(resolve, 0));
  return Promise.all([crmRequests, databaseWork()]);
}
