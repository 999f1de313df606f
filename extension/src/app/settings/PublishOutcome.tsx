import { Alert, Text } from '@hubspot/ui-extensions';
import type { PolicyWarning } from '../../../../shared/admin-api.ts';

/** Why the last publish did not take effect: the server's own sentences, or dual control holding it. */
export type PublishProblem =
  | { kind: 'invalid'; message: string; issues: string[] }
  | { kind: 'second_admin'; requestId: string; reasons: string[] }
  | { kind: 'failed'; message: string };

/** Reads a refused publish: POLICY_INVALID lists its issues, SECOND_ADMIN_REQUIRED names the request waiting. */
export function publishProblem(result: { code: string; message: string; details?: unknown }): PublishProblem {
  const details = (result.details ?? {}) as { issues?: unknown; requestId?: unknown; reasons?: unknown };
  if (result.code === 'POLICY_INVALID' && Array.isArray(details.issues))
    return { kind: 'invalid', message: result.message, issues: details.issues.map(String) };
  if (result.code === 'SECOND_ADMIN_REQUIRED' && typeof details.requestId === 'string') {
    const reasons = Array.isArray(details.reasons)
      ? details.reasons.map((reason) => String((reason as { message?: unknown }).message ?? reason))
      : [];
    return { kind: 'second_admin', requestId: details.requestId, reasons };
  }
  return { kind: 'failed', message: result.message };
}

export function PublishOutcome({ problem }: { problem: PublishProblem }) {
  switch (problem.kind) {
    case 'invalid':
      return (
        <Alert title="The policy was not published: fix these first" variant="danger">
          {problem.issues.map((issue) => (
            <Text key={issue}>{issue}</Text>
          ))}
        </Alert>
      );
    case 'second_admin':
      return (
        <Alert title="A second admin must confirm this change" variant="warning">
          <Text>{problem.reasons.join(' ')}</Text>
          <Text>{`It waits as request ${problem.requestId}: another owner or RevOps admin confirms it under "Waiting for a second admin" on this page. Nothing changed until then.`}</Text>
        </Alert>
      );
    case 'failed':
      return (
        <Alert title="The policy was not published" variant="danger">
          {problem.message}
        </Alert>
      );
  }
}

/** A publish that took effect but names properties the portal lacks (a typo): their rules match nothing until it has them. */
export function PublishWarnings({ version, warnings }: { version: number; warnings: readonly PolicyWarning[] }) {
  return (
    <Alert title={`Version ${version} is in force, but names properties the portal does not have`} variant="warning">
      {warnings.map((warning) => (
        <Text key={`${warning.objectType} ${warning.property}`}>{warning.message}</Text>
      ))}
    </Alert>
  );
}
