import { Alert, Button, ButtonRow, Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { SettingsView } from '../../../../shared/extension-api.ts';
import { isOwnRequest, requestSummary } from '../lib/views/access.ts';

/**
 * Changes that dual control holds until a second owner or RevOps admin confirms them. The one
 * who asked sees theirs waiting and may cancel it; another admin confirms it here.
 */
export function PendingRequests({
  view,
  onDecide,
}: {
  view: SettingsView;
  onDecide: (requestId: string, decision: 'confirm' | 'cancel') => void;
}) {
  if (view.governanceRequests.length === 0) return null;
  const { permissions, userId } = view.caller;
  return (
    <Flex direction="column" gap="xs">
      <Heading>Waiting for a second admin</Heading>
      {view.governanceRequests.map((request) => (
        <Alert key={request.id} title={`Request ${request.id}`} variant="warning">
          <Text>{requestSummary(request)}</Text>
          {isOwnRequest(request, userId) ? (
            <Text variant="microcopy">You asked for this change: another owner or RevOps admin must confirm it.</Text>
          ) : null}
          {permissions.confirmGovernance ? (
            <ButtonRow>
              {isOwnRequest(request, userId) ? null : (
                <Button
                  testId={`confirm-${request.id}`}
                  size="xs"
                  variant="primary"
                  onClick={() => onDecide(request.id, 'confirm')}
                >
                  Confirm
                </Button>
              )}
              <Button
                testId={`cancel-${request.id}`}
                size="xs"
                variant="secondary"
                onClick={() => onDecide(request.id, 'cancel')}
              >
                Cancel
              </Button>
            </ButtonRow>
          ) : null}
        </Alert>
      ))}
    </Flex>
  );
}
