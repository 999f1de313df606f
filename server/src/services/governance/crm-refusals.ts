import { createHash } from 'node:crypto';
import type { CrmVendor } from '../../../../shared/crm-names.ts';
import { newestCrmEventField } from '../../store/audit-store.ts';
import { findCrmConnection } from '../../store/workspace-store.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';

const CONNECTION_REFUSED = 'crm.connection_refused';

/** Tells one sealing of a connection's credentials from the next and reveals nothing of them: the ciphertext's SHA-256, cut to 16 hex characters. */
function credentialsVersion(sealed: string): string {
  return createHash('sha256').update(sealed).digest('hex').slice(0, 16);
}

/**
 * The CRM refused our credentials outside a write (issue 20): a change stream's sign-in, or a token
 * minted or refreshed for a call. Audited once per credentials, whichever server saw it and however
 * often: under the chain lock, a refusal of the credentials the newest such event names is not
 * recorded again, and neither is one of credentials already replaced (`workspace update`) or of a
 * connection already gone. New credentials refused are recorded again. Never a credential or a
 * token in the event: their version is a digest of the sealed text. Returns whether it was recorded.
 */
export async function recordCrmConnectionRefused(
  deps: ServiceDeps,
  workspaceId: string,
  refusal: { crm: CrmVendor; credentialsEnc: string; reason: string; seenBy: 'change-stream' | 'crm-adapter' },
): Promise<boolean> {
  return withAuditChain(deps.db, workspaceId, deps.clock, async (tx, audit) => {
    const connection = await findCrmConnection(tx, workspaceId, refusal.crm);
    if (!connection || connection.credentialsEnc !== refusal.credentialsEnc) return false;
    const version = credentialsVersion(connection.credentialsEnc);
    const recorded = await newestCrmEventField(tx, {
      workspaceId,
      type: CONNECTION_REFUSED,
      crm: refusal.crm,
      field: 'credentialsVersion',
    });
    if (recorded === version) return false;
    audit.append({
      type: CONNECTION_REFUSED,
      actor: { type: 'system', name: refusal.seenBy },
      data: { crm: refusal.crm, accountId: connection.accountId, reason: refusal.reason, credentialsVersion: version },
    });
    return true;
  });
}
