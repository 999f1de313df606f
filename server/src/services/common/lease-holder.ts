import os from 'node:os';
import { randomUUID } from 'node:crypto';

/** Names this process in a lease (host, pid, random): rollbacks and change sets are held under it. */
export function leaseHolderName(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
