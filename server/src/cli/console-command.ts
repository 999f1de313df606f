import { httpUrlOf } from '../config.ts';
import type { ConsoleLinkView } from '../../../shared/console-api.ts';
import { parseWith, withRuntime, workspaceOf, type CommandOutput } from './command-kit.ts';
import type { CommandSpec } from './parse.ts';

/** A one-time sign-in link to the web console (issue 19), as `npm start` prints in demo mode. */
export const CONSOLE_LINK_COMMAND: CommandSpec<CommandOutput> = {
  name: 'console-link',
  summary:
    'Prints a one-time sign-in link to the web console for a person of the workspace (by default its highest-ranked one); it expires in 15 minutes.',
  usage: 'console-link --workspace ID [--person CRM_USER_ID] [--json]',
  options: { workspace: { type: 'string' }, person: { type: 'string' } },
  run: (context) =>
    withRuntime(context, async (deps) => {
      const [{ consoleLinkRequestSchema, signInUrl }, { issueSignInLink }] = await Promise.all([
        import('../../../shared/console-api.ts'),
        import('../services/console/index.ts'),
      ]);
      const person = context.values.person as string | undefined;
      const { crmUserId } = parseWith(
        consoleLinkRequestSchema,
        person === undefined ? {} : { crmUserId: person },
        'person',
      );
      const link = await issueSignInLink(deps, { workspaceId: await workspaceOf(deps, context), crmUserId });
      const serverUrl = context.config.publicUrl ?? httpUrlOf(context.config.host, context.config.port);
      const url = signInUrl(serverUrl, link.token);
      const value: ConsoleLinkView = {
        url,
        crmUserId: link.crmUserId,
        role: link.role,
        expiresAt: link.expiresAt.toISOString(),
      };
      return {
        kind: 'result',
        value,
        human: `${url}\n(signs in CRM user ${link.crmUserId} as ${link.role}; works once, until ${link.expiresAt.toISOString()})`,
      };
    }),
};
