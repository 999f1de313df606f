/** Agent tools: what an agent asks about itself and its records before it proposes (the MCP tools of issue 22). Other folders import this feature only from here. */
export { type PermissionsView, whatMayIChange } from './what-may-i-change.ts';
export { pendingRecordProposals, type RecordProposal } from './record-proposals.ts';
export { readRecords } from './read-records.ts';
