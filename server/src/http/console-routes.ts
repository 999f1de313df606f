import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { auditVerifyRequestSchema } from '../../../shared/admin-api.ts';
import { recordRefSchema } from '../../../shared/crm-names.ts';
import {
  auditSeqParamSchema,
  batchesQuerySchema,
  consoleAuditExportQuerySchema,
  consoleAuditQuerySchema,
  consoleBatchDecisionSchema,
  INBOX_CHANGED_EVENT,
  type ConsoleLinkView,
  consoleLinkRequestSchema,
  consoleLinkSchema,
  inboxQuerySchema,
  SIGN_IN_PATH,
  type SessionView,
  signInQuerySchema,
  signInUrl,
} from '../../../shared/console-api.ts';
import { extensionDraftDecisionSchema } from '../../../shared/extension-decisions-api.ts';
import { extensionDecisionSchema, heldEntryDecisionSchema } from '../../../shared/extension-api.ts';
import { createRollbackSchema } from '../../../shared/rollback-api.ts';
import { decideBatch, decideEntry } from '../services/change-sets/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import {
  auditAction,
  authenticateConsoleSession,
  batchesPage,
  consoleAuditExport,
  consoleAuditSearch,
  draftAudit,
  inboxVersion,
  inboxView,
  issueSignInLink,
  peekSignInLink,
  signInWithLink,
  signOut,
} from '../services/console/index.ts';
import { verifyAudit } from '../services/governance/index.ts';
import { cardView, personActor, requirePermission } from '../services/extension/index.ts';
import { decideAction, decideApproval } from '../services/held/index.ts';
import { dryRunRollback, getRollback, rollbackReport, startRollback } from '../services/rollbacks/index.ts';
import {
  clearSessionCookie,
  type ConsoleOrigin,
  fromThisOrigin,
  landingPath,
  refuseCrossSiteWrites,
  sessionToken,
  setSessionCookie,
} from './console-session.ts';
import { parseInput, statusFor, toAppError } from './errors.ts';
import { consoleSecurityHeaders, signInPage, signInRefusedPage } from './console-static.ts';
import { AppError } from '../errors.ts';
import { defineRoute, errorResponses, json, streamTo } from './route.ts';
import { idParam } from './params.ts';

const ROLLBACK_POLL_MS = 500;
/** How often the inbox's event stream looks at the workspace's audit head. */
const INBOX_POLL_MS = 250;
/** A comment line now and then keeps proxies from closing an idle stream. */
const KEEP_ALIVE_MS = 15_000;
/** How often a stream checks its session again: a person signed out or without the role any more stops hearing. */
const SESSION_CHECK_MS = 5_000;

/** With PGlite the CLI cannot open the database the server holds: the admin token asks the server instead. */
export const consoleLinkRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/admin/console-links',
    operationId: 'createConsoleLink',
    summary: 'A one-time sign-in link to the web console for a person of the workspace (15 minutes).',
    security: 'admin',
    body: { schema: consoleLinkRequestSchema, what: 'The console link request' },
    responses: {
      '201': { description: 'The link, shown once.', content: json(consoleLinkSchema) },
      ...errorResponses({
        400: 'The person has no role in this workspace, or nobody has one yet (VALIDATION_FAILED).',
        401: 'Missing or unknown admin token (UNAUTHENTICATED).',
      })(400, 401),
    },
    handle: async ({ caller: workspace, body, context: { deps, publicUrl } }, res) => {
      const link = await issueSignInLink(deps, { workspaceId: workspace.id, crmUserId: body.crmUserId });
      const view: ConsoleLinkView = {
        // Behind a proxy the request's Host is the proxy's view of this server, not the person's.
        url: signInUrl(publicUrl ?? `${res.req.protocol}://${res.req.get('host')}`, link.token),
        crmUserId: link.crmUserId,
        role: link.role,
        expiresAt: link.expiresAt.toISOString(),
      };
      res.status(201).json(view);
    },
  }),
];

/**
 * The sign-in link (issue 19). Opening it (GET) spends nothing: it shows who it signs in and a
 * button that posts the token back, and only that POST, from a page of this server, spends the link
 * and sets the session cookie. So a link preview, a mail scanner or another site's `<img>` spends
 * nobody's link, and another site's form cannot sign a visitor in as the attacker (login CSRF).
 * Mounted before the JSON body guard: the button sends a form.
 */
export function consoleSignInRoutes(deps: ServiceDeps, origin: ConsoleOrigin): Router {
  const router = Router();

  // A browser gets the sentence on a page; API clients keep the JSON error.
  const refuse = (req: Request, res: Response, next: NextFunction, error: unknown) => {
    const refusal = toAppError(error);
    if (refusal.code === 'INTERNAL' || req.accepts(['json', 'html']) !== 'html') return next(error);
    consoleSecurityHeaders(req, res, () => {
      res.setHeader('Referrer-Policy', 'no-referrer');
      const sentence =
        refusal.code === 'VALIDATION_FAILED'
          ? 'This sign-in link is incomplete or damaged: copy the whole link and open it again.'
          : refusal.message;
      res.status(statusFor(refusal.code)).type('html').send(signInRefusedPage(sentence));
    });
  };

  router.get(SIGN_IN_PATH, async (req, res, next) => {
    try {
      const query = parseInput(signInQuerySchema, req.query, 'The sign-in link');
      const link = await peekSignInLink(deps, query.token);
      // Referrer-Policy stays the console's same-origin: under no-referrer (as on a refusal) the
      // button's POST would carry `Origin: null`, which the POST refuses.
      consoleSecurityHeaders(req, res, () => {
        // The token is in this page's URL and form: keep both out of caches.
        res.setHeader('Cache-Control', 'no-store');
        res.type('html').send(signInPage({ action: SIGN_IN_PATH, token: query.token, next: query.next, ...link }));
      });
    } catch (error) {
      refuse(req, res, next, error);
    }
  });

  router.post(SIGN_IN_PATH, express.urlencoded({ extended: false, limit: '8kb' }), async (req, res, next) => {
    try {
      // Browsers send Origin on every POST, and Sec-Fetch-Site where they know it: the button on our
      // own page sends this server's origin; another site's form or script is refused here.
      const fetchSite = req.get('sec-fetch-site');
      if (!fromThisOrigin(req, origin) || (fetchSite !== undefined && fetchSite !== 'same-origin'))
        throw new AppError(
          'FORBIDDEN',
          'This sign-in was sent from another site, so nobody was signed in: open your own sign-in link and press Sign in on its page.',
          { details: { reason: 'cross_site_request' } },
        );
      const form = parseInput(signInQuerySchema, req.body ?? {}, 'The sign-in form');
      const previous = sessionToken(req);
      if (previous) await signOut(deps, previous);
      const session = await signInWithLink(deps, form.token);
      setSessionCookie(req, res, origin, session.sessionToken, session.expiresAt);
      // The sign-in page's URL holds the token: the landing page must not get it as its Referer.
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.redirect(303, landingPath(form.next));
    } catch (error) {
      refuse(req, res, next, error);
    }
  });

  return router;
}

/**
 * The web console's API (issue 19). Every call resolves the session to a person and
 * their role now, and each permission is checked here whatever the console chose to show.
 */
export function consoleRoutes(
  deps: ServiceDeps,
  options: ConsoleOrigin & { checkpointPublicKey?: string | undefined } = {},
): Router {
  const router = Router();
  const authenticate = (req: Parameters<typeof sessionToken>[0]) => authenticateConsoleSession(deps, sessionToken(req));

  router.use('/console/api', refuseCrossSiteWrites(options));

  router.get('/console/api/session', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    const view: SessionView = { workspace: { id: workspace.id, name: workspace.name }, caller };
    res.json(view);
  });

  router.post('/console/api/sign-out', async (req, res) => {
    const token = sessionToken(req);
    if (token) await signOut(deps, token);
    clearSessionCookie(req, res, options);
    res.status(204).end();
  });

  router.get('/console/api/inbox', async (req, res) => {
    const caller = await authenticate(req);
    res.json(await inboxView(deps, caller, parseInput(inboxQuerySchema, req.query, 'The inbox query')));
  });

  // Live inbox (server-sent events): `inbox-changed` whenever the workspace's audit chain grows,
  // which every hold, decision, expiry and staleness does; the page then reads itself again.
  router.get('/console/api/inbox/events', async (req, res) => {
    const { workspace } = await authenticate(req);
    let seen = await inboxVersion(deps, workspace.id);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(`retry: 2000\n\n`);
    let closed = false;
    req.on('close', () => {
      closed = true;
    });
    let quietSince = Date.now();
    for (let polls = 1; !closed; polls++) {
      await new Promise((resolve) => setTimeout(resolve, INBOX_POLL_MS));
      if (closed) break;
      // Signed out or expired meanwhile (checked every few seconds): the stream ends, and the browser's reconnection is refused.
      if (polls % (SESSION_CHECK_MS / INBOX_POLL_MS) === 0 && !(await authenticate(req).catch(() => undefined))) break;
      const now = await inboxVersion(deps, workspace.id);
      if (now !== seen) {
        seen = now;
        quietSince = Date.now();
        res.write(`event: ${INBOX_CHANGED_EVENT}\ndata: ${JSON.stringify({ seq: now })}\n\n`);
      } else if (Date.now() - quietSince >= KEEP_ALIVE_MS) {
        quietSince = Date.now();
        res.write(': keep-alive\n\n');
      }
    }
    res.end();
  });

  // Many approvals at once, after the console showed the person the manifest (every item named).
  router.post('/console/api/approvals/batch-decisions', async (req, res) => {
    const { workspace, caller, person } = await authenticate(req);
    const decision = parseInput(consoleBatchDecisionSchema, req.body, 'The batch decision');
    res.json(
      await decideBatch(deps, {
        workspace,
        request: { ...decision, actingUserId: caller.userId },
        via: 'console',
        person,
        answer: 'decided',
      }),
    );
  });

  router.post('/console/api/approvals/:id/decisions', async (req, res) => {
    const authenticated = await authenticate(req);
    const approvalId = idParam(req.params.id, 'approval');
    const decision = parseInput(extensionDecisionSchema, req.body, 'The decision');
    res.json(
      await decideApproval(deps, {
        workspace: authenticated.workspace,
        approvalId,
        request: { ...decision, actingUserId: authenticated.caller.userId },
        via: 'console',
        person: authenticated.person,
        answer: 'decided',
      }),
    );
  });

  router.post('/console/api/drafts/:id/decisions', async (req, res) => {
    const { workspace, caller, person } = await authenticate(req);
    const decision = parseInput(extensionDraftDecisionSchema, req.body, 'The decision');
    res.json(
      await decideAction(deps, {
        workspace,
        actionId: idParam(req.params.id, 'draft'),
        request: { ...decision, actingUserId: caller.userId },
        via: 'console',
        person,
      }),
    );
  });

  // A held creation or association (issue 21): the whole entry, by the admin API's rules, as the session's person.
  for (const kind of ['creation', 'association'] as const)
    router.post(`/console/api/${kind}s/:id/decisions`, async (req, res) => {
      const { workspace, caller, person } = await authenticate(req);
      const decision = parseInput(heldEntryDecisionSchema, req.body, 'The decision');
      res.json(
        await decideEntry(deps, {
          kind,
          workspace,
          id: idParam(req.params.id, kind),
          request: { ...decision, actingUserId: caller.userId },
          via: 'console',
          person,
        }),
      );
    });

  router.get('/console/api/records/:objectType/:recordId', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    const record = parseInput(recordRefSchema, req.params, 'The record');
    res.json(await cardView(deps, workspace, caller, { ...record, page: 1, pageSize: 50 }));
  });

  router.get('/console/api/batches', async (req, res) => {
    const caller = await authenticate(req);
    res.json(await batchesPage(deps, caller, parseInput(batchesQuerySchema, req.query, 'The batches query')));
  });

  router.get('/console/api/audit', async (req, res) => {
    const caller = await authenticate(req);
    res.json(
      await consoleAuditSearch(deps, caller, parseInput(consoleAuditQuerySchema, req.query, 'The audit search')),
    );
  });

  router.get('/console/api/audit/export', async (req, res) => {
    const caller = await authenticate(req);
    const query = parseInput(consoleAuditExportQuerySchema, req.query, 'The audit export');
    const chunks = consoleAuditExport(deps, caller, query);
    res.type(query.format === 'csv' ? 'text/csv' : 'application/x-ndjson');
    res.setHeader('content-disposition', `attachment; filename="audit.${query.format}"`);
    await streamTo(res, chunks);
  });

  router.get('/console/api/audit/verify', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    requirePermission(caller, caller.permissions.searchAudit, 'verify the audit trail');
    res.json(await verifyAudit(deps, workspace.id));
  });

  // With the auditor's copy of the checkpoint file: the chain checked against each signed checkpoint too.
  router.post('/console/api/audit/verify', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    requirePermission(caller, caller.permissions.searchAudit, 'verify the audit trail');
    const body = parseInput(auditVerifyRequestSchema, req.body, 'The checkpoints');
    const trustedPublicKeys = [
      ...(options.checkpointPublicKey ? [options.checkpointPublicKey] : []),
      ...(body.publicKeys ?? []),
    ];
    if (trustedPublicKeys.length === 0)
      throw new AppError(
        'VALIDATION_FAILED',
        'This server has no checkpoint key: give publicKeys, the key(s) the checkpoints were signed with.',
      );
    res.json(await verifyAudit(deps, workspace.id, { checkpoints: body.checkpoints, trustedPublicKeys }));
  });

  router.get('/console/api/audit/events/:seq', async (req, res) => {
    const caller = await authenticate(req);
    res.json(
      await auditAction(deps, caller, parseInput(auditSeqParamSchema, req.params.seq, 'The audit event number')),
    );
  });

  router.get('/console/api/audit/drafts/:id', async (req, res) => {
    const caller = await authenticate(req);
    res.json(await draftAudit(deps, caller, idParam(req.params.id, 'draft')));
  });

  router.post('/console/api/rollbacks', async (req, res) => {
    const authenticated = await authenticate(req);
    const { workspace, caller } = authenticated;
    requirePermission(caller, caller.permissions.rollBack, 'roll back agents’ changes');
    const request = parseInput(createRollbackSchema, req.body, 'The rollback');
    if (request.dryRun) res.json(await dryRunRollback(deps, workspace.id, request));
    else res.status(202).json(await startRollback(deps, workspace.id, request, personActor(authenticated)));
  });

  // Live progress as server-sent events: one `progress` event per change, until the rollback completes or pauses.
  router.get('/console/api/rollbacks/:id/events', async (req, res) => {
    const following = async () => {
      const { workspace, caller } = await authenticate(req);
      requirePermission(caller, caller.permissions.rollBack || caller.permissions.searchAudit, 'follow a rollback');
      return workspace;
    };
    const workspace = await following();
    const id = idParam(req.params.id, 'rollback');
    let last = await getRollback(deps, workspace.id, id);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    sendEvent(res, last);
    let closed = false;
    req.on('close', () => {
      closed = true;
    });
    for (let polls = 1; !closed && last.status === 'running'; polls++) {
      await new Promise((resolve) => setTimeout(resolve, ROLLBACK_POLL_MS));
      if (polls % (SESSION_CHECK_MS / ROLLBACK_POLL_MS) === 0 && !(await following().catch(() => undefined))) break;
      const now = await getRollback(deps, workspace.id, id);
      if (now.done !== last.done || now.status !== last.status) sendEvent(res, now);
      last = now;
    }
    res.end();
  });

  router.get('/console/api/rollbacks/:id/report', async (req, res) => {
    const { workspace, caller } = await authenticate(req);
    requirePermission(caller, caller.permissions.rollBack || caller.permissions.searchAudit, 'read a rollback report');
    const chunks = rollbackReport(deps, workspace.id, idParam(req.params.id, 'rollback'), 'json');
    // The first chunk comes before any header, so an unknown rollback is still a plain 404.
    const first = await chunks.next();
    res.type('application/json');
    if (!first.done) res.write(first.value);
    for await (const chunk of chunks) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  });

  return router;
}

function sendEvent(res: Response, data: unknown): void {
  res.write(`event: progress\ndata: ${JSON.stringify(data)}\n\n`);
}
