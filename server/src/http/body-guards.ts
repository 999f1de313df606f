import type { RequestHandler } from 'express';
import { AppError, assertSafeJson } from '../errors.ts';

const JSON_TYPES = ['application/json', 'application/*+json'];

/** A body sent as anything but JSON would reach the routes as no body at all; say what is wrong instead. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  // An empty body (clients send `content-length: 0` on a bare POST) has no type to check.
  const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
  if (hasBody && !req.is(JSON_TYPES))
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', unsupportedTypeSentence(req.get('content-type')), {
      details: { contentType: req.get('content-type') ?? null },
    });
  next();
};

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
