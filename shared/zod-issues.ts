import type { z } from 'zod';

/** One sentence per zod issue, naming its path, for API errors, CLI errors and policy validation alike. */
export function describeZodIssue(issue: z.core.$ZodIssue): { path: string; message: string } {
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  if (issue.code === 'unrecognized_keys')
    return { path, message: `has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` };
  if (issue.code === 'invalid_key')
    return { path, message: `is not an allowed name: ${issue.issues[0]?.message ?? 'invalid'}` };
  // zod names an optional discriminator's absence 'undefined', as if it were a value to send; a
  // union whose discriminator must be given keeps its own sentence (a schema's custom one included).
  const options =
    issue.code === 'invalid_union' && issue.discriminator !== undefined && 'options' in issue && issue.options;
  if (options && options.includes(undefined)) {
    const values = options.filter((option) => option !== undefined).map(String);
    return { path, message: `must be one of ${values.join(', ')} (or omitted)` };
  }
  return { path, message: issue.message };
}
