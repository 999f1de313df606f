/** Console: the web console's sign-in links, sessions and the views only it has (issue 19). Other folders import this feature only from here. */
export { auditAction, consoleAuditExport, consoleAuditSearch } from './console-audit.ts';
export { batchesPage } from './console-batches.ts';
export { draftAudit } from './console-draft-audit.ts';
export { inboxVersion, inboxView } from './console-inbox.ts';
export { overviewView } from './console-overview.ts';
export {
  authenticateConsoleSession,
  CONSOLE_SESSION_TTL_MS,
  issueSignInLink,
  peekSignInLink,
  signInWithLink,
  signOut,
} from './console-sessions.ts';
export {
  type EmbeddedAppCheck,
  type EmbeddedAppRequest,
  type EmbeddedPostHeaders,
  startEmbeddedSession,
} from './embedded-sessions.ts';
