/**
 * Where the domain reports what happened. functions/adapters/log.ts writes it as one-line JSON with secrets
 * dropped and phone numbers masked; the domain passes fields as they are and relies on that.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
