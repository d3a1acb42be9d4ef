/**
 * What can go wrong talking to AD, as named errors carrying the RPC contract's code, and the translation of AD's
 * refusals of a new password into a reason and a message a user can act on.
 */
import type { PasswordPolicyReason, RpcErrorCode } from '../../functions/contracts/rpc.ts';

export class AdError extends Error {
  override name = 'AdError';
  constructor(
    readonly code: RpcErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No domain controller of a domain answered (or none would talk TLS with us). */
export class AdUnavailableError extends AdError {
  override name = 'AdUnavailableError';
  constructor(domain: string, detail: string, options?: { cause?: unknown }) {
    super('ad_unavailable', `no domain controller of ${domain} answered: ${detail}`, options);
  }
}

/** The service account's own bind was refused: a configuration problem, not the user's. */
export class AdServiceBindError extends AdError {
  override name = 'AdServiceBindError';
  constructor(domain: string, options?: { cause?: unknown }) {
    super(
      'invalid_credentials',
      `the service account of ${domain} was refused: check bindDn and its password`,
      options,
    );
  }
}

export class AdPasswordPolicyError extends AdError {
  override name = 'AdPasswordPolicyError';
  constructor(
    readonly reason: PasswordPolicyReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('password_policy', message, options);
  }
}

/** The LDAP result code of an ldapts error, if it is one. */
export function ldapCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * AD's diagnostic for a refused password (`0000052D: Constraint violation - check_password_restrictions: the
 * password is too short. It should be equal or longer than 7 characters!` from Samba; Windows says less) mapped
 * to the rule that refused it. Windows gives only 0000052D for every rule, so its answers come out `unknown`
 * with a message that lists the rules.
 */
export function passwordPolicyError(err: unknown): AdPasswordPolicyError | undefined {
  const code = ldapCode(err);
  const text = err instanceof Error ? err.message : String(err);
  // 19 constraintViolation, 53 unwillingToPerform: the two codes AD refuses a password with
  if (code !== 19 && code !== 53 && !/0000052D/i.test(text)) return undefined;
  if (!/0000052D|password|unicodePwd/i.test(text)) return undefined;
  if (/too short/i.test(text)) {
    const min = /longer than (\d+)/i.exec(text)?.[1];
    return new AdPasswordPolicyError(
      'too_short',
      `The new password is too short.${min ? ` It must have at least ${min} characters.` : ''}`,
      { cause: err },
    );
  }
  if (/complex/i.test(text))
    return new AdPasswordPolicyError(
      'complexity',
      'The new password is not complex enough. Mix upper- and lower-case letters, digits and symbols, and do not use your name.',
      { cause: err },
    );
  if (/history|used before|recently/i.test(text))
    return new AdPasswordPolicyError(
      'history',
      'You used this password before. Choose one you have not used recently.',
      { cause: err },
    );
  if (/too young|minimum password age|min.?pwd.?age|min.?age/i.test(text))
    return new AdPasswordPolicyError(
      'min_age',
      'Your password was changed too recently to change it again. Try again later.',
      { cause: err },
    );
  return new AdPasswordPolicyError(
    'unknown',
    'The directory refused the new password. It may be too short, not complex enough, or used before.',
    { cause: err },
  );
}
