import { setImmediate } from 'node:timers/promises';

/**
 * Statements sent on a transaction without waiting for each, so the database works while we go
 * on building the next; `settled` waits for them all and rethrows the first failure in the order sent. Until then
 * a failure is held here rather than left unhandled (which would end the process).
 */
export class InFlight {
  private readonly sent: Promise<unknown>[] = [];

  send(statement: Promise<unknown>): void {
    statement.catch(() => {});
    this.sent.push(statement);
  }

  /**
   * One turn of the event loop, so what was sent is written to the database's connection (which
   * works on it at once) before the next stretch of work keeps the loop busy.
   */
  async deliver(): Promise<void> {
    await setImmediate();
  }

  get count(): number {
    return this.sent.length;
  }

  async settled(): Promise<void> {
    // The first failure in the order sent, not in time: on a pipelined Postgres connection the
    // statements after a failed one fail too ("transaction is aborted", 25P02), and those can
    // reject first, hiding the cause from the log (issue 17).
    const results = await Promise.allSettled(this.sent.splice(0));
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  }
}
