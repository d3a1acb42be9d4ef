import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { CHALLENGE_FROM, DELIVERY_FROM, LIVE_STATUSES } from '../../core/challenge-transitions.ts';
import { deliveryChannel, deliveryRoute } from '../../core/channels/registry.ts';
import type { Challenge, Delivery, DeliveryStatus } from '../../core/model.ts';
import type { AuditEntry } from '../../core/ports/audit.ts';
import type {
  AttemptOutcome,
  ChallengeStore,
  FailStepOptions,
  FailStepResult,
} from '../../core/ports/challenges.ts';
import { AUDIT_RETENTION_SECONDS, auditRecordItem } from './audit-store.ts';
import { conditionalUpdate, isConditionalCheckFailed } from './errors.ts';
import { challengeAuditPartition, challengeItem, logShard, messageLogPartition } from './keys.ts';

/** Items stay readable for a day after expiry so clients can still ask how a login ended. */
const RETAIN_AFTER_EXPIRY_SECONDS = 24 * 3600;

/** The live statuses as expression values, for `#status IN (…)`. */
const LIVE = LIVE_STATUSES.map((status) => `:${status}`);
const liveValues = Object.fromEntries(LIVE_STATUSES.map((status) => [`:${status}`, status]));

/**
 * What only a live challenge needs: the code's hash, the personal passcode, how codes are typed, the IP it is
 * bound to and the sealed text for the next rule. An ended challenge (accepted, locked or superseded) answers
 * every later verify from its status and nonces, and its readers (message log, audit log, views) show none of
 * these, so the write that ends it drops them: the item is kept up to 400 days as the login's audit entry.
 */
// `#pin` (the copy of the user's PIN hash) needs LIVE_NAMES in the expression's attribute names.
const LIVE_ONLY = 'REMOVE sealed, codeHash, personal, alphabet, boundIp, #pin';
const LIVE_NAMES = { '#pin': 'pin' } as const;

/** The accept's audit fields: who accepted, how, and the gsi3 keys that list it in the tenant's audit log. */
const ACCEPT_AUDIT_SET =
  'acceptedBy = :actor, acceptMethod = :method, gsi3pk = :auditPk, gsi3sk = :auditSk, #ttl = :auditTtl';

function acceptAuditValues(
  tenantId: string,
  challengeId: string,
  nowIso: string,
  actor: string | undefined,
  method: 'sent' | 'personal' | 'totp',
) {
  return {
    ':actor': actor ?? 'system',
    ':method': method,
    ':auditPk': challengeAuditPartition(tenantId, nowIso.slice(0, 7), logShard(challengeId)),
    ':auditSk': `${nowIso}#${challengeId}`,
    ':auditTtl': Math.ceil(Date.parse(nowIso) / 1000) + AUDIT_RETENTION_SECONDS,
  };
}

type Stored = Omit<Challenge, 'deliveries'> & { deliveries: Record<string, Delivery> };

export function fromItem(item: Record<string, AttributeValue>): Challenge {
  const raw = unmarshall(item) as Stored & {
    pk: string;
    sk: string;
    ttl: number;
    acceptedAt?: string;
    supersededAt?: string;
    acceptedBy?: string;
    acceptMethod?: string;
    createdBy?: string;
    gsi1pk?: string;
    gsi1sk?: string;
    gsi3pk?: string;
    gsi3sk?: string;
    gsi2pk?: string;
    gsi2sk?: string;
  };
  const {
    pk: _pk,
    sk: _sk,
    ttl: _ttl,
    acceptedAt: _a,
    supersededAt: _s,
    acceptedBy: _by,
    acceptMethod: _m,
    createdBy: _cb,
    gsi1pk: _g,
    gsi1sk: _gs,
    gsi3pk: _g3,
    gsi3sk: _gs3,
    gsi2pk: _m2,
    gsi2sk: _ms2,
    deliveries,
    ...rest
  } = raw;
  // A step queued by a failover write knows only its number: its channel and route are its rule's.
  const withRule = (d: Delivery): Delivery => {
    const rule = rest.chain?.[d.step];
    if (d.channel || !rule) return d;
    return { ...d, channel: deliveryChannel(rule), route: deliveryRoute(rule) };
  };
  return {
    ...rest,
    // An ended challenge no longer holds its code's hash (see LIVE_ONLY): an empty one matches no code.
    codeHash: rest.codeHash ?? '',
    deliveries: Object.values(deliveries ?? {})
      .map(withRule)
      .sort((a, b) => a.step - b.step),
  };
}

export class DynamoChallengeStore implements ChallengeStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(
    challenge: Challenge,
    options: { audit?: AuditEntry; messageLogDays?: number } = {},
  ): Promise<void> {
    const { deliveries, ...rest } = challenge;
    // A known user's challenge is also its messages' entry in the tenant's message log (gsi2), listed for as
    // long as the tenant's retention says, and its own `challenge.created` audit entry (listed through the same
    // index entry), so it is kept as long as the audit log. A decoy sends nothing and is not listed: its
    // audit entry is an audit item, and the challenge lasts a day past its expiry.
    const keepUntil = challenge.userKnown
      ? Math.ceil(Date.parse(challenge.createdAt) / 1000) +
        Math.max(AUDIT_RETENTION_SECONDS, (options.messageLogDays ?? 30) * 24 * 3600)
      : 0;
    const item = {
      ...challengeItem(challenge.tenantId, challenge.id),
      ...rest,
      deliveries: Object.fromEntries(deliveries.map((d) => [String(d.step), d])),
      ...(challenge.userKnown && {
        gsi2pk: messageLogPartition(
          challenge.tenantId,
          challenge.createdAt.slice(0, 7),
          logShard(challenge.id),
        ),
        gsi2sk: `${challenge.createdAt}#${challenge.id}`,
      }),
      ttl: Math.max(
        keepUntil,
        Math.ceil(Date.parse(challenge.expiresAt) / 1000) + RETAIN_AFTER_EXPIRY_SECONDS,
      ),
    };
    // The `challenge.created` entry of a challenge listed through gsi2 is the item itself: who made it is all
    // it adds (the audit log renders the rest from the challenge). One write per login fewer.
    const folded = challenge.userKnown && options.audit?.action === 'challenge.created';
    if (folded) Object.assign(item, { createdBy: options.audit?.actor });
    if (!options.audit || folded) {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(item, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return;
    }
    // The challenge and its audit entry in one call. A batch write takes no condition, which is safe here:
    // the id is 128 random bits, so "the id exists" is not a case that happens.
    let requests = [item, auditRecordItem(options.audit)].map((i) => ({
      PutRequest: { Item: marshall(i, { removeUndefinedValues: true }) },
    }));
    for (let round = 0; requests.length > 0; round++) {
      if (round === 5) throw new Error('DynamoDB left writes unprocessed after retries');
      const out = await this.client.send(
        new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }),
      );
      requests = (out.UnprocessedItems?.[this.table] ?? []) as typeof requests;
      if (requests.length > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** round));
    }
  }

  /** A challenge from a raw item another query (the message log's) read. */
  fromStored(item: Record<string, AttributeValue>): Challenge {
    return fromItem(item);
  }

  async get(tenantId: string, challengeId: string, consistent = false): Promise<Challenge | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(challengeItem(tenantId, challengeId)),
        ConsistentRead: consistent,
      }),
    );
    // The item's own tenantId must agree with the key; a mismatch means it is not this tenant's.
    if (!out.Item) return undefined;
    const challenge = fromItem(out.Item);
    return challenge.tenantId === tenantId ? challenge : undefined;
  }

  async settleAttempt(
    tenantId: string,
    challengeId: string,
    seen: number,
    outcome: AttemptOutcome,
    options: { nonce: string; nowIso: string },
  ): Promise<boolean> {
    const { nowIso, nonce } = options;
    const next = seen + 1;
    // The slot: this write lands only if nobody else counted an attempt since the caller read `seen`.
    const slot = `attempts = :seen AND attempts < maxAttempts AND expiresAt > :now AND #status IN (${LIVE.join(', ')})`;
    if (outcome.kind === 'wrong') {
      const spent = next >= outcome.maxAttempts;
      return this.conditional({
        TableName: this.table,
        Key: marshall(challengeItem(tenantId, challengeId)),
        UpdateExpression: spent
          ? `SET attempts = :next, attemptNonce = :nonce, #status = :rejected ${LIVE_ONLY}`
          : 'SET attempts = :next, attemptNonce = :nonce',
        ConditionExpression: slot,
        ExpressionAttributeNames: spent ? { '#status': 'status', ...LIVE_NAMES } : { '#status': 'status' },
        ExpressionAttributeValues: marshall({
          ':next': next,
          ':seen': seen,
          ':now': nowIso,
          ':nonce': nonce,
          ...(spent && { ':rejected': 'rejected' }),
          ...liveValues,
        }),
      });
    }
    // The store checks once more what the caller already compared, so no bug above it can accept a wrong code.
    const proof =
      outcome.method === 'sent'
        ? 'codeHash = :hash'
        : outcome.method === 'personal'
          ? 'attribute_exists(personal)'
          : 'totp = :true';
    return this.conditional({
      TableName: this.table,
      Key: marshall(challengeItem(tenantId, challengeId)),
      // The item becomes the `challenge.accepted` audit entry (gsi3) and is kept as long as the audit log is.
      UpdateExpression:
        'SET #status = :accepted, attempts = :next, acceptedAt = :now, acceptNonce = :nonce, ' +
        `${ACCEPT_AUDIT_SET} ${LIVE_ONLY}`,
      ConditionExpression: `${slot} AND ${proof} AND userKnown = :true AND attribute_not_exists(refusal) AND (attribute_not_exists(boundIp) OR boundIp = :ip)`,
      // The copy of the user's PIN hash goes too: the item outlives PIN changes as an audit entry.
      ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl', ...LIVE_NAMES },
      ExpressionAttributeValues: marshall({
        ':accepted': 'accepted',
        ':next': next,
        ':seen': seen,
        ':now': nowIso,
        ':nonce': nonce,
        ':true': true,
        ':ip': outcome.clientIp ?? '',
        ...(outcome.method === 'sent' && { ':hash': outcome.codeHash }),
        ...acceptAuditValues(tenantId, challengeId, nowIso, outcome.actor, outcome.method),
        ...liveValues,
      }),
    });
  }

  async supersede(tenantId: string, challengeId: string, nowIso: string) {
    return this.conditional({
      TableName: this.table,
      Key: marshall(challengeItem(tenantId, challengeId)),
      UpdateExpression: `SET #status = :rejected, supersededAt = :now ${LIVE_ONLY}`,
      ConditionExpression: `attribute_exists(pk) AND expiresAt > :now AND #status IN (${LIVE.join(', ')})`,
      ExpressionAttributeNames: { '#status': 'status', ...LIVE_NAMES },
      ExpressionAttributeValues: marshall({ ':rejected': 'rejected', ':now': nowIso, ...liveValues }),
    });
  }

  async claimStep(tenantId: string, challengeId: string, delivery: Delivery, nowIso: string) {
    return this.conditional({
      TableName: this.table,
      Key: marshall(challengeItem(tenantId, challengeId)),
      UpdateExpression: 'SET deliveries.#step = :delivery',
      ConditionExpression:
        'attribute_exists(pk) AND userKnown = :true AND expiresAt > :now AND #status IN (:pending, :failed) ' +
        'AND (attribute_not_exists(deliveries.#step) OR deliveries.#step.#ds = :queued ' +
        'OR (deliveries.#step.#ds = :dispatched AND deliveries.#step.agentId = :agent))',
      ExpressionAttributeNames: { '#step': String(delivery.step), '#status': 'status', '#ds': 'status' },
      ExpressionAttributeValues: marshall(
        {
          ':delivery': delivery,
          ':true': true,
          ':now': nowIso,
          ':pending': 'pending',
          ':failed': 'failed',
          ':dispatched': 'dispatched',
          ':queued': 'queued',
          ':agent': delivery.agentId ?? '',
        },
        { removeUndefinedValues: true },
      ),
    });
  }

  async updateStep(
    tenantId: string,
    challengeId: string,
    step: number,
    agentId: string,
    update: { status: DeliveryStatus; at: string; modem?: string; reason?: string; totp?: boolean },
  ) {
    const from = DELIVERY_FROM[update.status];
    if (from.length === 0) return false;
    const sets = ['deliveries.#step.#ds = :ds', 'deliveries.#step.#at = :at'];
    const values: Record<string, unknown> = { ':ds': update.status, ':at': update.at, ':agent': agentId };
    if (update.totp) {
      // The user's authenticator app is the channel from now on: verify checks its code.
      sets.push('totp = :totp');
      values[':totp'] = true;
    }
    if (update.modem) {
      sets.push('deliveries.#step.modem = :modem');
      values[':modem'] = update.modem;
    }
    if (update.reason) {
      sets.push('deliveries.#step.reason = :reason');
      values[':reason'] = update.reason;
    }
    from.forEach((s, i) => {
      values[`:from${i}`] = s;
    });
    const stepCondition = `deliveries.#step.agentId = :agent AND deliveries.#step.#ds IN (${from.map((_, i) => `:from${i}`).join(', ')})`;
    const names = { '#step': String(step), '#ds': 'status', '#at': 'at' };
    const key = marshall(challengeItem(tenantId, challengeId));

    // First try to move the challenge's own status along with the step; if the challenge has moved on
    // (accepted, say), still record what happened to the step.
    const challengeFrom = CHALLENGE_FROM[update.status];
    const withStatus = await this.conditional({
      TableName: this.table,
      Key: key,
      UpdateExpression: `SET ${[...sets, '#status = :cs'].join(', ')}`,
      ConditionExpression: `${stepCondition} AND #status IN (${challengeFrom.map((_, i) => `:cf${i}`).join(', ')})`,
      ExpressionAttributeNames: { ...names, '#status': 'status' },
      ExpressionAttributeValues: marshall({
        ...values,
        ':cs': update.status,
        ...Object.fromEntries(challengeFrom.map((s, i) => [`:cf${i}`, s])),
      }),
    });
    if (withStatus) return true;
    return this.conditional({
      TableName: this.table,
      Key: key,
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: stepCondition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values),
    });
  }

  async failStep(
    tenantId: string,
    challengeId: string,
    step: number,
    options: FailStepOptions,
  ): Promise<FailStepResult> {
    const key = marshall(challengeItem(tenantId, challengeId));
    const names: Record<string, string> = { '#step': String(step), '#ds': 'status', '#at': 'at' };
    const values: Record<string, unknown> = {
      ':failedStep': 'failed',
      ':at': options.at,
      ':reason': options.reason,
    };
    const sets = [
      'deliveries.#step.#ds = :failedStep',
      'deliveries.#step.#at = :at',
      'deliveries.#step.reason = :reason',
    ];
    if (options.modem) {
      sets.push('deliveries.#step.modem = :modem');
      values[':modem'] = options.modem;
    }
    options.from.forEach((s, i) => {
      values[`:from${i}`] = s;
    });
    let stepCondition = `deliveries.#step.#ds IN (${options.from.map((_, i) => `:from${i}`).join(', ')})`;
    if (options.agentId !== undefined) {
      stepCondition += ' AND deliveries.#step.agentId = :agent';
      values[':agent'] = options.agentId;
    }
    const next = step + 1;

    // 1. A later rule exists: this step fails and the next one is queued, in one write that only one caller wins.
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: `SET ${[...sets, 'deliveries.#next = :next', '#status = :pending'].join(', ')}`,
          ConditionExpression:
            `${stepCondition} AND attribute_exists(#chain[${next}]) AND attribute_not_exists(deliveries.#next) ` +
            `AND expiresAt > :now AND #status IN (${LIVE.join(', ')})`,
          ExpressionAttributeNames: {
            ...names,
            '#next': String(next),
            '#chain': 'chain',
            '#status': 'status',
          },
          ExpressionAttributeValues: marshall({
            ...values,
            ':next': { step: next, status: 'queued', at: options.at },
            ':now': options.nowIso,
            ...liveValues,
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (out.Attributes) return { outcome: 'advanced', challenge: fromItem(out.Attributes) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // 2. The last rule failed: the chain is exhausted and the challenge failed (unless it already ended).
    const ended = await this.conditional({
      TableName: this.table,
      Key: key,
      UpdateExpression: `SET ${[...sets, '#status = :failed'].join(', ')} REMOVE sealed`,
      ConditionExpression: `${stepCondition} AND attribute_not_exists(#chain[${next}]) AND #status IN (:pending, :sent)`,
      ExpressionAttributeNames: { ...names, '#chain': 'chain', '#status': 'status' },
      ExpressionAttributeValues: marshall({
        ...values,
        ':failed': 'failed',
        ':pending': 'pending',
        ':sent': 'sent',
      }),
    });
    if (ended) return { outcome: 'ended' };
    // 3. The challenge moved on (accepted, expired, next step already queued): still record what happened.
    const recorded = await this.conditional({
      TableName: this.table,
      Key: key,
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: stepCondition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values),
    });
    return { outcome: recorded ? 'recorded' : 'none' };
  }

  private conditional(input: UpdateItemCommandInput): Promise<boolean> {
    return conditionalUpdate(this.client, input);
  }
}
