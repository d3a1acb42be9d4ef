/**
 * The auth client API as the RADIUS front calls it (DESIGN.md "Auth client API"): a challenge for leg 1, a
 * verify for leg 2. The agent is one more auth client, with a tenant auth key of its own.
 */
import type { SessionFacts } from './first-factor.ts';

export type StartResult =
  | { kind: 'created'; challengeId: string; expiresAt: string; destination: string }
  /** The cloud refused this login (locked, rate limited, no route): the user gets a Reject. */
  | { kind: 'refused'; code: string }
  /** The cloud could not be asked: no answer, so that the gateway retries or fails over. */
  | { kind: 'unavailable' };

export interface RadiusAttributes {
  class?: string;
  filterId?: string;
}

export type VerifyOutcome =
  | { kind: 'accept'; radius?: RadiusAttributes }
  | { kind: 'reject'; reason: string; attemptsLeft: number }
  | { kind: 'unavailable' };

export interface AuthApiOptions {
  apiUrl: string;
  authKey: string;
  timeoutMs?: number;
  onProblem?: (problem: string, fields: Record<string, unknown>) => void;
}

export class AuthApi {
  private readonly base: string;
  constructor(private readonly options: AuthApiOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
  }

  private async post(path: string, body: unknown): Promise<{ status: number; body: unknown } | undefined> {
    try {
      const res = await fetch(`${this.base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.authKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      return { status: res.status, body: await res.json().catch(() => undefined) };
    } catch (error) {
      this.options.onProblem?.('auth API unreachable', {
        path: path.split('/')[2],
        error: (error as Error).name,
      });
      return undefined;
    }
  }

  async start(username: string, client: SessionFacts): Promise<StartResult> {
    const res = await this.post('/v1/challenges', { username, client });
    if (!res) return { kind: 'unavailable' };
    const body = res.body as Record<string, unknown> | undefined;
    if (res.status === 201 && typeof body?.challengeId === 'string' && typeof body.expiresAt === 'string')
      return {
        kind: 'created',
        challengeId: body.challengeId,
        expiresAt: body.expiresAt,
        destination: typeof body.destination === 'string' ? body.destination : '',
      };
    const code = errorCode(body);
    if (res.status >= 500) {
      this.options.onProblem?.('challenge failed', { status: res.status, code });
      return { kind: 'unavailable' };
    }
    if (res.status === 401 || res.status === 400)
      this.options.onProblem?.('challenge refused', { status: res.status, code });
    return { kind: 'refused', code: code ?? `http_${res.status}` };
  }

  async verify(challengeId: string, passcode: string, client: { ip?: string }): Promise<VerifyOutcome> {
    const res = await this.post(`/v1/challenges/${encodeURIComponent(challengeId)}/verify`, {
      passcode,
      ...(client.ip && { client: { ip: client.ip } }),
    });
    if (!res) return { kind: 'unavailable' };
    const body = res.body as Record<string, unknown> | undefined;
    if (res.status === 200 && body?.result === 'accept') {
      const radius = readRadius(body.radius);
      return radius ? { kind: 'accept', radius } : { kind: 'accept' };
    }
    if (res.status === 200 && body?.result === 'reject')
      return {
        kind: 'reject',
        reason: typeof body.reason === 'string' ? body.reason : 'wrong',
        attemptsLeft: typeof body.attemptsLeft === 'number' ? body.attemptsLeft : 0,
      };
    if (res.status >= 500) {
      this.options.onProblem?.('verify failed', { status: res.status, code: errorCode(body) });
      return { kind: 'unavailable' };
    }
    return { kind: 'reject', reason: errorCode(body) ?? `http_${res.status}`, attemptsLeft: 0 };
  }
}

function errorCode(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code.slice(0, 64) : undefined;
}

function readRadius(value: unknown): RadiusAttributes | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const out: RadiusAttributes = {};
  if (typeof v.class === 'string' && v.class.length > 0) out.class = v.class;
  if (typeof v.filterId === 'string' && v.filterId.length > 0) out.filterId = v.filterId;
  return Object.keys(out).length > 0 ? out : undefined;
}
