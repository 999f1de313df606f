import { Router, type Request } from 'express';
import { heldEntryDecisionSchema, proxyOnlyQuerySchema } from '../../../shared/extension-api.ts';
import {
  bulkDecisionSchema,
  bulkSelectionSchema,
  extensionDraftDecisionSchema,
} from '../../../shared/extension-decisions-api.ts';
import { decideSelectedRecords, previewBulkDecision, type ExtensionCaller } from '../services/extension/index.ts';
import { decideAction } from '../services/held/index.ts';
import { decideEntry } from '../services/change-sets/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import { parseInput } from './errors.ts';
import { jsonBody } from './extension-request.ts';
import { idParam } from './params.ts';

/**
 * The HubSpot app's decisions beyond one approval (issue 8), mounted inside the extension
 * router (raw bodies, HubSpot's signature checked by `authenticate` before anything is read):
 * a held draft, creation or association from the record card, and the index pages' bulk action.
 */
export function extensionDecisionRoutes(
  deps: ServiceDeps,
  authenticate: (req: Request) => Promise<ExtensionCaller>,
): Router {
  const router = Router();

  // The draft service applies the approvals' who-may-decide rules to the signed person; an unknown or other workspace's id is 404.
  router.post('/drafts/:id/decisions', async (req, res) => {
    const { workspace, caller, person } = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    const decision = parseInput(extensionDraftDecisionSchema, jsonBody(req), 'The decision');
    res.json(
      await decideAction(deps, {
        workspace,
        actionId: idParam(req.params.id, 'draft'),
        request: { ...decision, actingUserId: caller.userId },
        via: 'hubspot_app',
        person,
      }),
    );
  });

  // A held creation or association from the record card (issue 21), by the same rules as the admin API's decision.
  for (const kind of ['creation', 'association'] as const)
    router.post(`/${kind}s/:id/decisions`, async (req, res) => {
      const { workspace, caller, person } = await authenticate(req);
      parseInput(proxyOnlyQuerySchema, req.query, 'The query');
      const decision = parseInput(heldEntryDecisionSchema, jsonBody(req), 'The decision');
      res.json(
        await decideEntry(deps, {
          kind,
          workspace,
          id: idParam(req.params.id, kind),
          request: { ...decision, actingUserId: caller.userId },
          via: 'hubspot_app',
          person,
        }),
      );
    });

  // POST rather than GET: a selection of hundreds of ids does not fit a query string.
  router.post('/bulk/preview', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    res.json(
      await previewBulkDecision(
        deps,
        workspace,
        caller,
        parseInput(bulkSelectionSchema, jsonBody(req), 'The selection'),
      ),
    );
  });

  router.post('/bulk/decisions', async (req, res) => {
    const authenticated = await authenticate(req);
    parseInput(proxyOnlyQuerySchema, req.query, 'The query');
    res.json(
      await decideSelectedRecords(
        deps,
        authenticated,
        parseInput(bulkDecisionSchema, jsonBody(req), 'The bulk decision'),
      ),
    );
  });

  return router;
}
