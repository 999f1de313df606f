import { setImmediate } from 'node:timers/promises';

/**
 * Statements sent on a transaction without waiting for each, so the database works while we go
 * on building the next; `settled` waits for them all and rethrows the first failure. Until then
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
    await Promise.all(this.sent.splice(0));
  }
}
