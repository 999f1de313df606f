/** Structured log lines on stderr. Callers pass ids and counts, never tokens or record values. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  const write = (level: string, message: string, fields: Record<string, unknown> = {}) =>
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  return { info: (message, fields) => write('info', message, fields), error: (message, fields) => write('error', message, fields) };
}

export const silentLogger: Logger = { info: () => {}, error: () => {} };
