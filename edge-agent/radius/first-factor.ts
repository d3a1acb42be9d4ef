/**
 * The first factor of a RADIUS login: the user's directory password, checked before any passcode is sent, so
 * that knowing a username is not enough to send its owner SMS.
 *
 * - `cloud`: the cloud's password check API, which asks the tenant's AD connector.
 * - `ldap`: a bind against AD from this box, when the agent holds the AD configuration itself.
 * - `off`: the gateway checked the password already (then every Access-Request starts a challenge).
 */
export type FirstFactorResult = 'valid' | 'invalid' | 'locked' | 'unavailable';

/** What the login is known to come from; the cloud puts it in the audit trail and rate limits. */
export interface SessionFacts {
  ip?: string;
  name?: string;
}

export interface FirstFactor {
  check(username: string, password: string, facts: SessionFacts): Promise<FirstFactorResult>;
}

export class FirstFactorOff implements FirstFactor {
  async check(): Promise<FirstFactorResult> {
    return 'valid';
  }
}

export interface CloudPasswordCheckOptions {
  apiUrl: string;
  authKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  onProblem?: (problem: string, fields: Record<string, unknown>) => void;
}

/**
 * `POST /v1/password-checks`: `200 {"result":"valid"}` or `200 {"result":"invalid","attemptsLeft":N}`,
 * `423 user_locked`, `429 rate_limited`, `503 directory_unavailable`. A rate-limited check counts as locked
 * (the user is refused for now and no challenge starts); anything unexpected is `unavailable`.
 */
export class CloudPasswordCheck implements FirstFactor {
  private readonly url: string;
  constructor(private readonly options: CloudPasswordCheckOptions) {
    this.url = `${options.apiUrl.replace(/\/+$/, '')}/v1/password-checks`;
  }

  async check(username: string, password: string, facts: SessionFacts): Promise<FirstFactorResult> {
    const doFetch = this.options.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.authKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password, client: facts }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      this.options.onProblem?.('password check failed', { error: (error as Error).name });
      return 'unavailable';
    }
    const body = (await res.json().catch(() => undefined)) as { result?: unknown } | undefined;
    if (res.status === 200 && body?.result === 'valid') return 'valid';
    if (res.status === 200 && body?.result === 'invalid') return 'invalid';
    if (res.status === 423 || res.status === 429) return 'locked';
    if (res.status !== 503)
      this.options.onProblem?.('password check answered unexpectedly', { status: res.status });
    return 'unavailable';
  }
}

/** Binds as the user; resolves on success, throws the LDAP client's error otherwise. */
export type LdapBind = (username: string, password: string) => Promise<void>;

/**
 * AD's bind failure (result code 49) says why in its diagnostic, `… data 775, …`: 775 is a locked account;
 * 52e (wrong password), 530–533, 701, 773 (disabled, expired, must change) are all a refused password here.
 */
export function classifyBindError(error: unknown): FirstFactorResult {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = e?.code;
  if (code !== 49) return 'unavailable';
  const data = /data ([0-9a-f]{3})/i.exec(String(e?.message ?? ''))?.[1]?.toLowerCase();
  return data === '775' ? 'locked' : 'invalid';
}

export class LdapBindFirstFactor implements FirstFactor {
  constructor(private readonly bind: LdapBind) {}

  async check(username: string, password: string): Promise<FirstFactorResult> {
    // An LDAP simple bind with an empty password is an anonymous bind, which succeeds (RFC 4513 §5.1.2).
    if (password.length === 0 || username.length === 0) return 'invalid';
    try {
      await this.bind(username, password);
      return 'valid';
    } catch (error) {
      return classifyBindError(error);
    }
  }
}
