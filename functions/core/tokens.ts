/**
 * The lifecycle of a tenant's OATH tokens, and the code check a challenge's TOTP rule relies on.
 *
 * - An authenticator app is enrolled by the admin API: the seed, its `otpauth://` URI and QR code are shown
 *   once, and the enrolment stays `pending` (the chain does not count it, verify ignores it) until the first
 *   good code confirms it. A re-enrolment replaces a pending one; an active one only on an explicit
 *   `replace`, and then only once the new one is confirmed, so the user is never left without a working app.
 * - Hardware tokens come from PSKC into the inventory (`unassigned`), all or nothing, and are assigned to a
 *   user by serial. Revoking erases the seed: a revoked token never verifies again and cannot be reassigned.
 * - Verify reads the user's tokens once and, per token whose code matches, makes one conditional write that
 *   moves its counter or time step forward, so a code is accepted once however many verifications race.
 *
 * Every change is audited, never with a seed or a code.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { renderSVG } from 'uqr';
import {
  base32Encode,
  hotp,
  matchingCounters,
  matchingSteps,
  otpauthUri,
  SECRET_BYTES,
  type TotpService,
  type TotpVerifyResult,
  tokenCipherContext,
} from './channels/totp.ts';
import type { Clock } from './clock.ts';
import { DomainError, NotFoundError } from './errors.ts';
import type { AuditLog } from './ports/audit.ts';
import type { CredentialCipher } from './ports/credentials.ts';
import type { OathToken, TokenState, TokenStore } from './ports/tokens.ts';
import { PskcError, parsePskc } from './pskc.ts';

/** How far ahead of its counter an HOTP token's code is looked for at login, and at resynchronisation. */
export const HOTP_WINDOW = 10;
export const HOTP_RESYNC_WINDOW = 1000;

export interface TokenServiceDeps {
  store: TokenStore;
  cipher: CredentialCipher;
  clock: Clock;
  audit: AuditLog;
  /** Whether the user exists in the tenant; tokens are enrolled and assigned only to existing users. */
  userExists: (tenantId: string, username: string) => Promise<boolean>;
  /** Shown in the authenticator app, e.g. the tenant's name. */
  issuer: (tenantId: string) => string;
  random?: (bytes: number) => Buffer;
}

export type TokenView = Omit<
  OathToken,
  'tenantId' | 'sealedSecret' | 'counter' | 'lastStep' | 'importId' | 'period'
> & { period?: number };

export function tokenView(token: OathToken): TokenView {
  const { tenantId: _t, sealedSecret: _s, counter: _c, lastStep: _l, importId: _i, period, ...rest } = token;
  return { ...rest, ...(token.kind === 'totp' && { period }) };
}

const auditTarget = (token: OathToken) => `token:${token.tokenId}`;
const summary = (token: OathToken) => ({
  tokenId: token.tokenId,
  kind: token.kind,
  source: token.source,
  serial: token.serial ?? null,
});

export class TokenService implements TotpService {
  constructor(private readonly deps: TokenServiceDeps) {}

  private nowIso() {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private async requireUser(tenantId: string, username: string) {
    if (!(await this.deps.userExists(tenantId, username))) throw new NotFoundError('The user');
  }

  private async secretOf(token: OathToken): Promise<Buffer> {
    if (!token.sealedSecret) throw new Error(`token ${token.tokenId} has no seed`);
    const opened = await this.deps.cipher.decrypt(
      token.sealedSecret,
      tokenCipherContext(token.tenantId, token.tokenId),
    );
    return Buffer.from(opened, 'base64');
  }

  private async userToken(tenantId: string, username: string, tokenId: string): Promise<OathToken> {
    const token = await this.deps.store.get(tenantId, tokenId);
    if (!token || token.username !== username.toLowerCase()) throw new NotFoundError('The token');
    return token;
  }

  /**
   * A new authenticator-app seed for the user, `pending` until confirmed. The seed, URI and QR code are in
   * this reply only; the store keeps the sealed seed.
   */
  async enrolApp(
    tenantId: string,
    actor: string,
    username: string,
    options: { replace?: boolean | undefined } = {},
  ) {
    await this.requireUser(tenantId, username);
    const owner = username.toLowerCase();
    const apps = (await this.deps.store.ofUser(tenantId, owner)).filter((t) => t.source === 'app');
    const active = apps.filter((t) => t.state === 'active');
    if (active.length > 0 && !options.replace)
      throw new DomainError(
        'token_exists',
        'The user has an active authenticator app; send {"replace":true} to enrol a new one (the old one works until the new one is confirmed).',
      );
    for (const pending of apps.filter((t) => t.state === 'pending'))
      await this.deps.store.discardPending(tenantId, pending.tokenId, owner);

    const random = this.deps.random ?? randomBytes;
    const params = { algorithm: 'sha1', digits: 6, period: 30 } as const;
    const secret = random(SECRET_BYTES[params.algorithm]);
    const tokenId = `app.${random(12).toString('base64url')}`;
    const now = this.nowIso();
    const token: OathToken = {
      tenantId,
      tokenId,
      kind: 'totp',
      source: 'app',
      state: 'pending',
      username: owner,
      ...params,
      counter: 0,
      lastStep: -1,
      sealedSecret: await this.deps.cipher.encrypt(
        secret.toString('base64'),
        tokenCipherContext(tenantId, tokenId),
      ),
      createdAt: now,
      assignedAt: now,
    };
    if (!(await this.deps.store.create(token))) throw new Error('token id collision');
    await this.deps.audit.record({
      tenantId,
      at: now,
      actor,
      action: 'token.enrolled',
      target: auditTarget(token),
      after: { ...summary(token), username: owner, state: 'pending' },
      details: { replacing: active.length > 0 },
    });
    const secretBase32 = base32Encode(secret);
    const uri = otpauthUri(secretBase32, { issuer: this.deps.issuer(tenantId), account: username }, params);
    return { ...tokenView(token), secret: secretBase32, uri, qrSvg: renderSVG(uri, { border: 2 }) };
  }

  /** The first good code of a pending enrolment makes it active, and retires any app it was to replace. */
  async confirm(tenantId: string, actor: string, username: string, tokenId: string, code: string) {
    const token = await this.userToken(tenantId, username, tokenId);
    if (token.state !== 'pending')
      throw new DomainError(
        'token_not_pending',
        `The token is ${token.state}, not waiting for confirmation.`,
      );
    const secret = await this.secretOf(token);
    const steps = matchingSteps(secret, normalise(code), this.deps.clock.now(), token);
    const now = this.nowIso();
    const step = steps.find((s) => s > token.lastStep);
    if (
      step === undefined ||
      !(await this.deps.store.activate(tenantId, tokenId, token.username!, step, now))
    )
      throw new DomainError(
        'wrong_code',
        'The code does not match the enrolled secret (or was used already).',
      );
    const replaced: string[] = [];
    for (const other of await this.deps.store.ofUser(tenantId, token.username!))
      if (other.source === 'app' && other.state === 'active' && other.tokenId !== tokenId)
        if (await this.deps.store.revoke(tenantId, other.tokenId, token.username!, now))
          replaced.push(other.tokenId);
    await this.deps.audit.record({
      tenantId,
      at: now,
      actor,
      action: 'token.confirmed',
      target: auditTarget(token),
      after: { ...summary(token), username: token.username, state: 'active' },
      ...(replaced.length > 0 && { details: { replaced: replaced.join(',') } }),
    });
    return tokenView({ ...token, state: 'active', lastStep: step, confirmedAt: now });
  }

  /**
   * A PSKC document into the inventory, all or nothing: every KeyPackage is checked and decrypted first, and
   * when a serial turns out to exist already, what this import wrote is removed again before the error.
   */
  async importPskc(
    tenantId: string,
    actor: string,
    xml: string,
    options: { transportKeyHex?: string; maxKeys: number },
  ) {
    const keys = parsePskc(xml, options);
    const now = this.nowIso();
    const importId = (this.deps.random ?? randomBytes)(12).toString('base64url');
    const tokens: OathToken[] = [];
    for (const key of keys) {
      const tokenId = `hw.${key.serial}`;
      tokens.push({
        tenantId,
        tokenId,
        kind: key.kind,
        source: 'pskc',
        state: 'unassigned',
        serial: key.serial,
        ...(key.manufacturer && { manufacturer: key.manufacturer }),
        algorithm: key.algorithm,
        digits: key.digits,
        period: key.kind === 'totp' ? key.period : 0,
        counter: key.kind === 'hotp' ? key.counter : 0,
        lastStep: -1,
        sealedSecret: await this.deps.cipher.encrypt(
          key.secret.toString('base64'),
          tokenCipherContext(tenantId, tokenId),
        ),
        importId,
        createdAt: now,
      });
      key.secret.fill(0);
    }
    const written: OathToken[] = [];
    for (let i = 0; i < tokens.length; i += 25) {
      const batch = tokens.slice(i, i + 25);
      const created = await Promise.all(batch.map((t) => this.deps.store.create(t)));
      written.push(...batch.filter((_, j) => created[j]));
      const clash = batch.find((_, j) => !created[j]);
      if (clash) {
        await Promise.all(written.map((t) => this.deps.store.discardImported(tenantId, t.tokenId, importId)));
        const key = keys.find((k) => k.serial === clash.serial)!;
        throw new PskcError(
          'duplicate_serial',
          'a token with this serial is already in the tenant; nothing was imported.',
          {
            index: key.index,
            keyId: key.keyId,
            serial: key.serial,
          },
        );
      }
    }
    await this.deps.audit.record({
      tenantId,
      at: now,
      actor,
      action: 'tokens.imported',
      target: `import:${importId}`,
      after: { serials: tokens.map((t) => t.serial) },
      details: { count: tokens.length },
    });
    return { imported: tokens.length, tokens: tokens.map(tokenView) };
  }

  async list(tenantId: string, options: { state?: TokenState; limit: number; cursor?: string }) {
    const page = await this.deps.store.list(tenantId, options);
    return { items: page.items.map(tokenView), ...(page.cursor && { cursor: page.cursor }) };
  }

  async listOfUser(tenantId: string, username: string) {
    await this.requireUser(tenantId, username);
    return { items: (await this.deps.store.ofUser(tenantId, username.toLowerCase())).map(tokenView) };
  }

  /** An inventory token to the user, by serial: active at once (the admin hands the device over). */
  async assign(tenantId: string, actor: string, username: string, serial: string) {
    await this.requireUser(tenantId, username);
    const tokenId = `hw.${serial}`;
    const token = await this.deps.store.get(tenantId, tokenId);
    if (!token) throw new NotFoundError('A token with this serial');
    const now = this.nowIso();
    const owner = username.toLowerCase();
    if (token.state !== 'unassigned' || !(await this.deps.store.assign(tenantId, tokenId, owner, now)))
      throw new DomainError(
        'token_unavailable',
        token.state === 'revoked'
          ? 'The token was revoked; a revoked token is never assigned again.'
          : 'The token is assigned already; revoke it first.',
      );
    await this.deps.audit.record({
      tenantId,
      at: now,
      actor,
      action: 'token.assigned',
      target: auditTarget(token),
      before: { state: 'unassigned' },
      after: { ...summary(token), username: owner, state: 'active' },
    });
    return tokenView({ ...token, state: 'active', username: owner, assignedAt: now });
  }

  /** The token leaves the user for good: its seed is erased, so it never verifies or gets assigned again. */
  async revoke(tenantId: string, actor: string, username: string, tokenId: string) {
    const now = this.nowIso();
    const before = await this.deps.store.revoke(tenantId, tokenId, username.toLowerCase(), now);
    if (!before) throw new NotFoundError('The token');
    await this.deps.audit.record({
      tenantId,
      at: now,
      actor,
      action: 'token.revoked',
      target: auditTarget(before),
      before: { ...summary(before), username: before.username, state: before.state },
      after: { state: 'revoked' },
    });
  }

  /**
   * Resynchronises an HOTP token that ran ahead of its counter (button pressed away from a login): two
   * consecutive codes found within `HOTP_RESYNC_WINDOW` set the counter just past them.
   */
  async resync(
    tenantId: string,
    actor: string,
    username: string,
    tokenId: string,
    code1: string,
    code2: string,
  ) {
    const token = await this.userToken(tenantId, username, tokenId);
    if (token.kind !== 'hotp' || token.state !== 'active')
      throw new DomainError('resync_failed', 'Only an active HOTP token is resynchronised.');
    const secret = await this.secretOf(token);
    const first = matchingCounters(
      secret,
      normalise(code1),
      token.counter,
      token.digits,
      token.algorithm,
      HOTP_RESYNC_WINDOW,
    );
    const second = normalise(code2);
    // Every candidate's successor is compared too, so the time taken says nothing about where a match was.
    let found: number | undefined;
    for (const counter of first) {
      const next = hotp(secret, counter + 1, token.digits, token.algorithm);
      if (constantEqual(next, second) && found === undefined) found = counter;
    }
    const now = this.nowIso();
    if (
      found === undefined ||
      !(await this.deps.store.moveCounter(tenantId, tokenId, token.username!, token.counter, found + 2))
    )
      throw new DomainError(
        'resync_failed',
        `The two codes are not consecutive codes of this token within ${HOTP_RESYNC_WINDOW} presses.`,
      );
    await this.deps.audit.record({
      tenantId,
      at: now,
      actor,
      action: 'token.resynced',
      target: auditTarget(token),
      after: summary(token),
      details: { skipped: found - token.counter },
    });
    return tokenView(token);
  }

  /**
   * One read of the user's tokens, then per active token whose code matches one conditional write; the first
   * that wins accepts. A code matched only at a step or counter already used is a replay.
   */
  async verify(tenantId: string, username: string, code: string): Promise<TotpVerifyResult> {
    const owner = username.toLowerCase();
    const tokens = (await this.deps.store.ofUser(tenantId, owner)).filter((t) => t.state === 'active');
    if (tokens.length === 0) return { result: 'reject', reason: 'not_enrolled' };
    if (!/^\d{6,8}$/.test(code)) return { result: 'reject', reason: 'wrong' };
    const now = this.deps.clock.now();
    let replayed = false;
    for (const token of tokens) {
      const secret = await this.secretOf(token);
      if (token.kind === 'totp') {
        const steps = matchingSteps(secret, code, now, token);
        if (steps.length === 0) continue;
        const step = steps.find((s) => s > token.lastStep);
        if (step !== undefined && (await this.deps.store.acceptStep(tenantId, token.tokenId, owner, step)))
          return { result: 'accept', step };
        replayed = true;
      } else {
        const counters = matchingCounters(
          secret,
          code,
          token.counter,
          token.digits,
          token.algorithm,
          HOTP_WINDOW,
        );
        if (counters.length === 0) continue;
        if (await this.deps.store.acceptCounter(tenantId, token.tokenId, owner, counters[0]!))
          return { result: 'accept', step: counters[0]! };
        replayed = true;
      }
    }
    return { result: 'reject', reason: replayed ? 'replayed' : 'wrong' };
  }

  async isEnrolled(tenantId: string, username: string): Promise<boolean> {
    return (await this.deps.store.ofUser(tenantId, username.toLowerCase())).some((t) => t.state === 'active');
  }
}

/** Admins read codes off a phone or a token's display: spaces and dashes are dropped. */
const normalise = (code: string) => code.replace(/[\s-]/g, '');

function constantEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
