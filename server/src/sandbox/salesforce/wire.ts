/** A request to the local Salesforce and its answer, as the route modules see them. */
export interface SfRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  rawBody: string;
}

export interface SfResponse {
  status: number;
  body?: unknown;
  /** A SOAP answer, sent as text/xml instead of `body`. */
  xml?: string;
  /** A Bulk API 2.0 result, sent as text/csv instead of `body`. */
  csv?: string;
  /** The identity service's plain refusals (`Bad_OAuth_Token`), sent as text/plain instead of `body`. */
  text?: string;
  headers?: Record<string, string>;
}
