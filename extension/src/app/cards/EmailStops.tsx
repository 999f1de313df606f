import { Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { EmailStop } from '../../../../shared/extension-api.ts';
import { emailStopText } from '../lib/views/email-stops.ts';

/**
 * On a contact, why no agent may email it again (issue 21): each stop with the email whose outcome
 * reported it. A stop holds for every agent, whatever the policy says.
 */
export function EmailStops({ stops }: { stops: EmailStop[] }) {
  if (stops.length === 0) return null;
  return (
    <Flex direction="column" gap="xs">
      <Heading>No agent may email this contact</Heading>
      {stops.map((stop) => (
        <Text key={`${stop.reason}:${stop.actionId}`} testId={`email-stop-${stop.reason}`}>
          {emailStopText(stop)}
        </Text>
      ))}
    </Flex>
  );
}
