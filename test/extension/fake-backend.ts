import type { Fetcher, FetchInit } from '../../extension/src/app/lib/api.ts';

export interface RecordedCall {
  path: string;
  init: FetchInit | undefined;
}

type Answer = { status?: number; body: unknown } | ((call: RecordedCall) => { status?: number; body: unknown });

/**
 * Stands in for `hubspot.fetch` → our backend, the platform boundary: answers by "METHOD path"
 * (path without its query), records every call, and answers 404 to anything unrouted.
 */
export function fakeBackend(routes: Record<string, Answer>): { fetcher: Fetcher; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fetcher: Fetcher = async (path, init) => {
    const call = { path, init };
    calls.push(call);
    const route = routes[`${init?.method ?? 'GET'} ${path.split('?')[0]}`];
    const answer =
      typeof route === 'function'
        ? route(call)
        : (route ?? { status: 404, body: { error: { code: 'NOT_FOUND', message: `No route ${path}` } } });
    const status = answer.status ?? 200;
    return { ok: status < 400, status, json: async () => answer.body };
  };
  return { fetcher, calls };
}

interface TextNode {
  nodeType: string;
  text?: string | null;
  childNodes?: TextNode[];
}

/** Every piece of text the extension rendered, in order: what a person would read. */
export function allText(node: TextNode): string {
  if (node.nodeType === 'text') return node.text ?? '';
  return (node.childNodes ?? []).map(allText).join(' ');
}

/**
 * Types into an input as a person would. The SDK's `trigger` types its argument as the handler
 * itself rather than the handler's argument, so the call is made through a plain signature.
 */
export function typeInto(node: { trigger: (...args: never[]) => void }, value: string): void {
  (node.trigger as (event: 'onChange', argument: string) => void)('onChange', value);
}
