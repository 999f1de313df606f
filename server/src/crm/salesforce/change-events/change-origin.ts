import type { ChangeOriginFacts } from '../../../domain/crm-change-origin.ts';

/** The client Salesforce's own pages declare (`com/salesforce/api/soap/<v>;client=SfdcInternalAPI/`): a person's edit. */
const UI_CLIENT = 'SfdcInternalAPI/';
const ORIGIN = /^com\/salesforce\/api\/([a-z]+)\/[0-9.]+(?:;client=(.*))?$/;

/**
 * A change event's `changeOrigin` read into our facts: empty is a change made inside the org
 * (automation, the database's own jobs); `…;client=<id>` is an API call that declared its client
 * in `Sforce-Call-Options` (ours among them); Salesforce's pages declare `SfdcInternalAPI/`.
 */
export function readChangeOrigin(changeOrigin: string): Omit<ChangeOriginFacts, 'userKind'> {
  const match = ORIGIN.exec(changeOrigin.trim());
  if (!match) return { channel: 'internal', apiClient: null };
  const client = match[2] ?? null;
  if (client === UI_CLIENT) return { channel: 'ui', apiClient: null };
  return { channel: 'api', apiClient: client === '' ? null : client };
}
