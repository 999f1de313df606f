/** Plumbing every feature uses: the dependencies a service is given, ids, leases, and the values written with every CRM change. Other folders import this feature only from here. */
export { type Actor, actorJson, type ChangeSetLease, type ServiceDeps } from './deps.ts';
export { isUuid, newId } from './ids.ts';
export { type HeldLease, keepRenewing, leaseHolderName } from './lease-holder.ts';
export { toCrmValue } from './property-values.ts';
export {
  APP_PROPERTY_GROUP,
  CREATE_REF_PROPERTY,
  NEEDS_REVIEW_PROPERTY,
  PROVENANCE_PROPERTIES,
  provenanceValues,
} from './provenance.ts';
export { type AnswerWhen, type WorkBehindAnswers, workBehindAnswers, writeNowOrBehind } from './behind-answers.ts';
export { type WorkspaceTurns, workspaceTurns } from './workspace-turns.ts';
export { alongsideCrm } from './alongside-crm.ts';
export { type AuditAppender, lockAuditChain, withAuditChain } from './audit-chain.ts';
export { type DeliveryFailure, deliveryFailure, type Outbound, OutboundRefused, outboundTo } from './outbound.ts';
