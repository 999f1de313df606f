import { EventEmitter } from 'node:events';

/**
 * One committed change to a record in the Salesforce sandbox, in the terms of a Change Data
 * Capture header: the Pub/Sub endpoint (issue 20, point 7) publishes these as change events.
 */
export interface SandboxRecordChange {
  /** `Contact`, `Lead`, `Opportunity`, `Agent_Approval__c`. */
  entityName: string;
  recordIds: string[];
  changeType: 'CREATE' | 'UPDATE' | 'DELETE';
  /** The fields the change set (for UPDATE) with their new values. */
  changedFields: Record<string, string | null>;
  /** `com/salesforce/api/rest/<ver>;client=<id>` for API writes that named a client, as Salesforce sends it; '' otherwise. */
  changeOrigin: string;
  commitUser: string;
  commitTimestamp: number;
  transactionKey: string;
}

/** The sandbox's record changes, in commit order; the Pub/Sub endpoint listens here. Kept simple: an emitter. */
export class RecordChanges extends EventEmitter<{ change: [SandboxRecordChange] }> {
  publish(change: SandboxRecordChange): void {
    this.emit('change', change);
  }
}
