import express, { type Request, type RequestHandler } from 'express';
import { parseJson } from '../../../shared/json-text.ts';
import { AppError, assertSafeJson, assertUniqueKeys } from '../errors.ts';

const JSON_TYPES = ['application/json', 'application/*+json'];

/** A body sent as anything but JSON would reach the routes as no body at all; say what is wrong instead. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (hasBody(req) && !req.is(JSON_TYPES))
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', unsupportedTypeSentence(req.get('content-type')), {
      details: { contentType: req.get('content-type') ?? null },
    });
  next();
};

/** An empty body (clients send `content-length: 0` on a bare POST) has no type or charset to check. */
function hasBody(req: Request): boolean {
  return req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
}

/** Names what came, since `curl -d` sends a form type unless told otherwise (issue 18). */
function unsupportedTypeSentence(contentType: string | undefined): string {
  const came = contentType === undefined ? 'without a Content-Type header' : `as ${contentType.split(';')[0]!.trim()}`;
  const hint = contentType?.startsWith('application/x-www-form-urlencoded')
    ? ' (curl -d sends that unless told otherwise)'
    : '';
  return `The body came ${came}${hint}: send it as JSON, with the header Content-Type: application/json.`;
}

/** Runs on every parsed JSON body before any route reads it (issue 17). */
export const refuseUnsafeJson: RequestHandler = (req, _res, next) => {
  if (req.body !== undefined) assertSafeJson(req.body, 'The request body');
  next();
};

/**
 * express.json's work, read with parseJson rather than JSON.parse, whose V8 bug could alter an
 * agent's keys on the way in (shared/json-text.ts). As express.json: an empty body is `{}`, and
 * only an object or an array is a body (its strict mode).
 */
export function jsonBody(limit: number): RequestHandler[] {
  const parse: RequestHandler = (req, _res, next) => {
    if (typeof req.body !== 'string') return next();
    const text = req.body.trim();
    let body: unknown;
    try {
      body = text === '' ? {} : parseJson(text);
    } catch {
      throw new AppError('MALFORMED_JSON', 'The request body is not valid JSON.');
    }
    if (body === null || typeof body !== 'object')
      throw new AppError('MALFORMED_JSON', 'The request body must be a JSON object or array.');
    assertUniqueKeys(text, 'The request body');
    req.body = body;
    next();
  };
  return [refuseOtherCharsets, express.text({ type: JSON_TYPES, limit, defaultCharset: 'utf-8' }), parse];
}

/**
 * express.text decodes any charset iconv knows, so a UTF-8 body labelled `charset=iso-8859-1` (the
 * default of some HTTP clients) was read as Latin-1 and "José" reached the CRM as "JosÃ©". JSON is
 * UTF-8 (RFC 8259), and only that is read (issue 17).
 */
const refuseOtherCharsets: RequestHandler = (req, _res, next) => {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.get('content-type') ?? '')?.[1];
  if (hasBody(req) && charset !== undefined && !/^utf-?8$/i.test(charset))
    throw new AppError(
      'VALIDATION_FAILED',
      `The request body must be UTF-8; it came as charset ${charset}. Send it as UTF-8 with Content-Type: application/json.`,
      { details: { contentType: req.get('content-type') } },
    );
  next();
};
