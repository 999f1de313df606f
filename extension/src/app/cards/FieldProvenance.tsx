import { Flex, Heading, Text } from '@hubspot/ui-extensions';
import type { FieldProvenance as Provenance } from '../../../../shared/extension-api.ts';
import { showValue } from '../lib/views/proposal-view.ts';
import { visibleText } from '../lib/views/display-text.ts';

/** Per governed property an agent set through the app, who set it and why (issue 21). */
export function FieldProvenance({ fields }: { fields: Provenance[] }) {
  if (fields.length === 0) return null;
  return (
    <Flex direction="column" gap="xs">
      <Heading>Who set these fields</Heading>
      {fields.map((field) => (
        <Flex key={field.property} direction="column" gap="flush">
          <Text testId={`provenance-${field.property}`}>{`${field.property}: ${showValue(field.value).text}`}</Text>
          <Text testId={`provenance-${field.property}-why`} variant="microcopy">
            {provenanceText(field)}
          </Text>
        </Flex>
      ))}
    </Flex>
  );
}

/** "enricher · clearbit, 92% confident · Company site lists a new title · policy v3 · approved by 501 · change c1". */
export function provenanceText(field: Provenance): string {
  const parts = [field.agent.name];
  const { source, confidence, reason } = field.evidence ?? {};
  if (source) parts.push(confidence === undefined ? source : `${source}, ${Math.round(confidence * 100)}% confident`);
  if (reason) parts.push(reason);
  parts.push(`policy v${field.policyVersion}`);
  if (field.approvedBy.length > 0) parts.push(`approved by ${field.approvedBy.join(' and ')}`);
  parts.push(`change ${field.changeId}`);
  return visibleText(parts.join(' · '));
}
