import { useState } from 'react';
import { Button, Flex, Heading, Input, MultiSelect, Select, Text, TextArea } from '@hubspot/ui-extensions';
import type { ContentRule, Policy } from '../../../../shared/policy.ts';
import { MATRIX_ROLES } from '../lib/views/policy-matrix.ts';
import {
  CONTENT_RULE_KINDS,
  DRAFT_ACTION_NAMES,
  RAISE_TIER_NAMES,
  contentRuleSummary,
  linesFromText,
  listFromText,
  newContentRule,
  withContentRule,
  withOptional,
} from '../lib/views/policy-rules.ts';

const options = (values: readonly string[]) => values.map((value) => ({ label: value, value }));

interface ContentRulesProps {
  policy: Policy;
  editable: boolean;
  onChange: (policy: Policy) => void;
}

/**
 * Content rules for drafts (issue 21): a banned phrase or pattern, a required line (an unsubscribe
 * link), or merge fields beyond those allowed raise a draft's tier, never lower it. Publishing
 * checks each rule with the server's own schema, whose sentences show beside the publish button.
 */
export function ContentRules({ policy, editable, onChange }: ContentRulesProps) {
  const rules = policy.content ?? [];
  return (
    <Flex direction="column" gap="xs">
      <Heading>Content rules for drafts</Heading>
      {rules.length === 0 ? <Text>No content rule: a draft's action tier alone decides.</Text> : null}
      {rules.map((rule, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a rule has no identity but its place (and the list's length, so removing one refreshes the rest)
        <Flex key={`${index}/${rules.length}`} direction="column" gap="xs">
          <Text format={{ fontWeight: 'demibold' }}>{contentRuleSummary(rule)}</Text>
          {editable ? (
            <ContentRuleFields
              index={index}
              rule={rule}
              onChange={(next) => onChange(withContentRule(policy, index, next))}
            />
          ) : null}
        </Flex>
      ))}
      {editable ? (
        <Button
          testId="add-content-rule"
          size="xs"
          onClick={() => onChange(withContentRule(policy, rules.length, newContentRule()))}
        >
          Add content rule
        </Button>
      ) : null}
    </Flex>
  );
}

function ContentRuleFields(props: { index: number; rule: ContentRule; onChange: (rule: ContentRule | null) => void }) {
  const { index, rule, onChange } = props;
  const name = (field: string) => `content.${index}.${field}`;
  return (
    <Flex gap="sm" wrap="wrap" align="end">
      <Input
        name={name('name')}
        label="Name"
        value={rule.name}
        onChange={(text: string) => onChange({ ...rule, name: text })}
      />
      <Select
        name={name('kind')}
        label="Kind"
        options={options(CONTENT_RULE_KINDS)}
        value={rule.kind}
        onChange={(kind) => onChange({ ...rule, kind: kind as ContentRule['kind'] })}
      />
      {rule.kind === 'personalisation' ? (
        <Input
          name={name('allowedFields')}
          label="Merge fields allowed (comma-separated)"
          value={(rule.allowedFields ?? []).join(', ')}
          onChange={(text: string) => onChange(withOptional(rule, 'allowedFields', listFromText(text) ?? []))}
        />
      ) : (
        <>
          <LinesArea
            name={name('phrases')}
            label="Phrases, one a line (whole words, any case)"
            value={rule.phrases}
            onChange={(phrases) => onChange(withOptional(rule, 'phrases', phrases))}
          />
          <LinesArea
            name={name('patterns')}
            label="Patterns, one a line (RE2 regular expressions)"
            value={rule.patterns}
            onChange={(patterns) => onChange(withOptional(rule, 'patterns', patterns))}
          />
        </>
      )}
      <Select
        name={name('raiseTo')}
        label="Raise to"
        options={options(RAISE_TIER_NAMES)}
        value={rule.raiseTo}
        onChange={(raiseTo) => onChange({ ...rule, raiseTo: raiseTo as ContentRule['raiseTo'] })}
      />
      <MultiSelect
        name={name('actions')}
        label="Drafts (none: all)"
        options={options(DRAFT_ACTION_NAMES)}
        value={rule.actions ?? []}
        onChange={(actions) =>
          onChange(
            withOptional(
              rule,
              'actions',
              actions.length > 0 ? (actions as NonNullable<ContentRule['actions']>) : undefined,
            ),
          )
        }
      />
      <MultiSelect
        name={name('roles')}
        label="Agent roles (none: all)"
        options={options(MATRIX_ROLES)}
        value={rule.roles ?? []}
        onChange={(roles) =>
          onChange(
            withOptional(rule, 'roles', roles.length > 0 ? (roles as NonNullable<ContentRule['roles']>) : undefined),
          )
        }
      />
      <Button testId={`remove-content-rule-${index}`} size="xs" variant="secondary" onClick={() => onChange(null)}>
        Remove
      </Button>
    </Flex>
  );
}

/** A list typed one item a line; the text stays as typed (a new line not yet filled in), the list leaves blanks out. */
function LinesArea(props: {
  name: string;
  label: string;
  value: readonly string[] | undefined;
  onChange: (value: string[] | undefined) => void;
}) {
  const [text, setText] = useState((props.value ?? []).join('\n'));
  return (
    <TextArea
      name={props.name}
      label={props.label}
      rows={3}
      value={text}
      onChange={(next: string) => {
        setText(next);
        props.onChange(linesFromText(next));
      }}
    />
  );
}
