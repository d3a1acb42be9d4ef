/** Turns validation failures (zod's, or the domain services') into messages beside the fields concerned. */
import type * as z from 'zod';
import { DomainError, InvalidRequestError } from '../../functions/core/errors.ts';
import type { FieldErrors } from '../layout/components.tsx';

export function zodErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const path = issue.path.join('.');
    out[path] ??= issue.message;
  }
  return out;
}

/**
 * A domain error as field messages: an InvalidRequestError's issues by path (`rules.1.route: …`), a message
 * that names a rule ("Rule 2 (sms) names …") beside that rule's route, anything else for the form as a whole.
 * Errors that are not the user's to fix are thrown on.
 */
export function domainErrors(error: unknown): FieldErrors {
  if (error instanceof InvalidRequestError) {
    const out: FieldErrors = {};
    for (const issue of error.issues) out[issue.path] ??= issue.message;
    const lead = /^([\w.]+): (.*)$/.exec(error.message);
    if (error.issues.length === 0 && lead) out[lead[1]!] = lead[2]!;
    if (Object.keys(out).length === 0) out[''] = error.message;
    return out;
  }
  if (error instanceof DomainError && error.code !== 'rate_limited') {
    const rule = /^Rule (\d+) \(/.exec(error.message);
    if (rule) return { [`rules.${Number(rule[1]) - 1}.route`]: error.message, '': error.message };
    return { '': error.message };
  }
  throw error;
}

/** A whole number from a form field, or the text itself so the schema reports it. */
export const numberOf = (value: string | undefined): number | string | undefined =>
  value === undefined || value.trim() === ''
    ? undefined
    : /^-?\d+$/.test(value.trim())
      ? Number(value)
      : value;
