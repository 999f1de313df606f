import { z } from 'zod';
import { parseWith, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import type { CommandSpec } from './parse.ts';

const crmUserIdSchema = z.string().regex(/^[0-9]{1,18}$/, 'must be a CRM user id (digits only)');

/** A one-time sign-in link to the web console (issue 19), as `npm start` prints in demo mode. */
export const CONSOLE_LINK_COMMAND: CommandSpec<CommandOutput> = {
  name: 'console-link',
  summary:
    'Prints a one-time sign-in link to the web console for a person of the workspace (by default its highest-ranked one); it expires in 15 minutes.',
  usage: 'console-link --workspace ID [--person CRM_USER_ID] [--json]',
  options: { workspace: { type: 'string' }, person: { type: 'string' } },
  run: (context) =>
    withRuntime(context, async (deps) => {
      const [{ signInUrl }, { issueSignInLink }] = await Promise.all([
        import('../../../shared/console-api.ts'),
        import('../services/console/index.ts'),
      ]);
      const person = context.values.person as string | undefined;
      const link = await issueSignInLink(deps, {
        workspaceId: await workspaceOf(deps, context),
        crmUserId: person === undefined ? undefined : parseWith(crmUserIdSchema, person, 'person'),
      });
      const serverUrl = context.config.publicUrl ?? `http://${context.config.host}:${context.config.port}`;
      const url = signInUrl(serverUrl, link.token);
      return {
        kind: 'result',
        value: { url, crmUserId: link.crmUserId, role: link.role, expiresAt: link.expiresAt.toISOString() },
        human: `${url}\n(signs in CRM user ${link.crmUserId} as ${link.role}; works once, until ${link.expiresAt.toISOString()})`,
      };
    }),
};
