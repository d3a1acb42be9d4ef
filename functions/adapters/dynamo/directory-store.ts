import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Agent, ApiKeyRecord, PhoneType, Tenant, User } from '../../core/model.ts';
import {
  type DirectoryStore,
  type ModemReport,
  PRESENCE_RESET_GAP_MS,
  type PresenceUpdate,
} from '../../core/ports/directory.ts';
import { fromItem as challengeFromItem } from './challenge-store.ts';
import { isConditionalCheckFailed } from './errors.ts';
import { toGuard } from './guard-store.ts';
import {
  AGENT_PREFIX,
  agentItem,
  challengeItem,
  guardItem,
  keyItem,
  modemReportItem,
  modemReportPrefix,
  tenantItem,
  userItem,
} from './keys.ts';
import { queryPages } from './query.ts';

type Item = Record<string, unknown>;

const toKey = (item: Item): ApiKeyRecord => ({
  prefix: String(item.prefix),
  kind: item.kind as ApiKeyRecord['kind'],
  tenantId: String(item.tenantId ?? ''),
  createdAt: String(item.createdAt),
  ...(typeof item.revokedAt === 'string' && { revokedAt: item.revokedAt }),
});

export const toTenant = (item: Item): Tenant => ({
  id: String(item.tenantId),
  name: String(item.name),
  status: item.status === 'suspended' || item.status === 'deleted' ? item.status : 'active',
  defaultCountry: String(item.defaultCountry),
  // Items written before these fields existed: only the home country, and no room for synced users.
  allowedCountries: Array.isArray(item.allowedCountries)
    ? item.allowedCountries.map(String)
    : [String(item.defaultCountry)],
  userLimit: typeof item.userLimit === 'number' ? item.userLimit : 0,
  passcode: item.passcode as Tenant['passcode'],
  messageTemplate: String(item.messageTemplate),
  defaultModemGroup: String(item.defaultModemGroup),
  ...(item.security !== undefined && { security: item.security as Tenant['security'] }),
  ...(item.ceilings !== null &&
    typeof item.ceilings === 'object' && { ceilings: item.ceilings as Tenant['ceilings'] }),
  ...(typeof item.webOtpOrigin === 'string' && { webOtpOrigin: item.webOtpOrigin }),
  ...(typeof item.messageLogRetentionDays === 'number' && {
    messageLogRetentionDays: item.messageLogRetentionDays,
  }),
  ...(item.usernames !== null &&
    typeof item.usernames === 'object' && { usernames: item.usernames as Tenant['usernames'] }),
  ...(item.adDomains !== null &&
    typeof item.adDomains === 'object' && { adDomains: item.adDomains as Tenant['adDomains'] }),
});

const isPin = (v: unknown): v is { hash: string; length: number } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { hash?: unknown }).hash === 'string' &&
  typeof (v as { length?: unknown }).length === 'number';

const toUser = (item: Item): User => ({
  tenantId: String(item.tenantId),
  username: String(item.username),
  mobile: typeof item.mobile === 'string' ? item.mobile : null,
  secondaryMobile: typeof item.secondaryMobile === 'string' ? item.secondaryMobile : null,
  email: typeof item.email === 'string' ? item.email : null,
  ...(typeof item.mobileType === 'string' && { mobileType: item.mobileType as PhoneType }),
  ...(typeof item.secondaryMobileType === 'string' && {
    secondaryMobileType: item.secondaryMobileType as PhoneType,
  }),
  ...(item.groupPolicyId !== undefined && {
    groupPolicyId: typeof item.groupPolicyId === 'string' ? item.groupPolicyId : null,
  }),
  ...(item.locked === true && { locked: true }),
  ...(item.overrides !== null &&
    typeof item.overrides === 'object' && { overrides: item.overrides as User['overrides'] }),
  ...(isPin(item.pin) && { pin: { hash: item.pin.hash, length: item.pin.length } }),
});

export const toAgent = (item: Item): Agent => ({
  tenantId: String(item.tenantId),
  agentId: String(item.agentId),
  secretHash: typeof item.secretHash === 'string' ? item.secretHash : '',
  modemGroups: Array.isArray(item.modemGroups) ? item.modemGroups.map(String) : [],
  state: item.state === 'online' || item.state === 'offline' ? item.state : 'unknown',
  ...(typeof item.stateAt === 'string' && { stateAt: item.stateAt }),
  ...(item.modems !== null && typeof item.modems === 'object' && { modems: item.modems as Agent['modems'] }),
  ...(typeof item.displayName === 'string' && { displayName: item.displayName }),
  ...(typeof item.thingName === 'string' && { thingName: item.thingName }),
  ...(Array.isArray(item.jobVersions) && { jobVersions: item.jobVersions.map(Number) }),
  ...(typeof item.certificateRef === 'string' && { certificateRef: item.certificateRef }),
  ...(typeof item.certificateFingerprint === 'string' && {
    certificateFingerprint: item.certificateFingerprint,
  }),
  ...(typeof item.enrolledAt === 'string' && { enrolledAt: item.enrolledAt }),
});

/** How long a modem's reports are kept for its history. */
const MODEM_HISTORY_SECONDS = 24 * 3600;

export class DynamoDirectoryStore implements DirectoryStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.client.send(
      // Strongly consistent, so that a revoked key stops working on the very next request.
      new GetItemCommand({ TableName: this.table, Key: marshall(keyItem(hash)), ConsistentRead: true }),
    );
    return out.Item ? toKey(unmarshall(out.Item)) : undefined;
  }

  async loadForRequest(
    keyHash: string,
    tenantId: string,
    want: { username?: string; challengeId?: string } = {},
  ) {
    const { username, challengeId } = want;
    const wanted = [
      keyItem(keyHash),
      tenantItem(tenantId),
      ...(username ? [userItem(tenantId, username), guardItem(tenantId, username)] : []),
      ...(challengeId ? [challengeItem(tenantId, challengeId)] : []),
    ];
    let keys = wanted.map((k) => marshall(k));
    const found: Item[] = [];
    const raws: Array<Record<string, AttributeValue>> = [];
    // BatchGetItem may return some keys unprocessed under throttling; ask again for just those.
    for (let round = 0; keys.length > 0 && round < 5; round++) {
      const out = await this.client.send(
        // Consistent: a revoked key and a fresh lock take effect on the very next request.
        new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const raw of out.Responses?.[this.table] ?? []) {
        found.push(unmarshall(raw));
        raws.push(raw);
      }
      keys = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
    }
    if (keys.length > 0) throw new Error('DynamoDB left keys unprocessed after retries');
    const pick = (k: { pk: string; sk: string }) => found.find((i) => i.pk === k.pk && i.sk === k.sk);
    const key = pick(wanted[0]!);
    const tenant = pick(wanted[1]!);
    const user = wanted[2] ? pick(wanted[2]) : undefined;
    const guard = wanted[3] ? pick(wanted[3]) : undefined;
    const challengeKey = challengeId ? wanted.at(-1)! : undefined;
    const at = challengeKey
      ? found.findIndex((i) => i.pk === challengeKey.pk && i.sk === challengeKey.sk)
      : -1;
    const parsed = at >= 0 ? challengeFromItem(raws[at]!) : undefined;
    return {
      ...(key && { key: toKey(key) }),
      ...(tenant && { tenant: toTenant(tenant) }),
      ...(user && { user: toUser(user) }),
      ...(guard && { guard: toGuard(guard) }),
      // The item's own tenantId must agree with the key's tenant; a mismatch means it is not this tenant's.
      ...(parsed?.tenantId === tenantId && { challenge: parsed }),
    };
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(tenantItem(tenantId)) }),
    );
    return out.Item ? toTenant(unmarshall(out.Item)) : undefined;
  }

  async getUser(tenantId: string, username: string): Promise<User | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(userItem(tenantId, username)) }),
    );
    return out.Item ? toUser(unmarshall(out.Item)) : undefined;
  }

  async listAgents(tenantId: string): Promise<Agent[]> {
    const agents: Agent[] = [];
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: marshall({ ':pk': tenantItem(tenantId).pk, ':prefix': AGENT_PREFIX }),
    })) {
      for (const raw of out.Items ?? []) agents.push(toAgent(unmarshall(raw)));
    }
    return agents;
  }

  async getAgent(tenantId: string, agentId: string): Promise<Agent | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(agentItem(tenantId, agentId)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? toAgent(unmarshall(out.Item)) : undefined;
  }

  async setAgentState(tenantId: string, agentId: string, state: Agent['state'], at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(agentItem(tenantId, agentId)),
          UpdateExpression: 'SET #state = :state, stateAt = :at',
          // Only known agents, and never let an older report overwrite a newer one.
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(stateAt) OR stateAt <= :at)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: marshall({ ':state': state, ':at': at }),
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw error;
    }
  }

  async setAgentJobVersions(tenantId: string, agentId: string, versions: number[]): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(agentItem(tenantId, agentId)),
          UpdateExpression: 'SET jobVersions = :v',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({ ':v': versions }),
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw error;
    }
  }

  async applyPresence(tenantId: string, agentId: string, presence: PresenceUpdate): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(agentItem(tenantId, agentId)),
          UpdateExpression:
            'SET #state = :state, stateAt = :at, presenceVersion = :v, presencePhase = :p, presenceTs = :ts',
          // Only known agents; see DirectoryStore.applyPresence for the order.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(presenceTs) OR presenceTs < :resetBefore OR ' +
            '(presenceTs <= :notOlderThan AND (presenceVersion < :v OR (presenceVersion = :v AND presencePhase < :p))))',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: marshall({
            ':state': presence.state,
            ':at': new Date(presence.timestamp).toISOString(),
            ':v': presence.version,
            ':p': presence.phase,
            ':ts': presence.timestamp,
            ':resetBefore': presence.timestamp - PRESENCE_RESET_GAP_MS,
            ':notOlderThan': presence.timestamp + PRESENCE_RESET_GAP_MS,
          }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async recordModemStatus(
    tenantId: string,
    agentId: string,
    status: ModemReport,
  ): Promise<{ applied: boolean; previous?: { healthy: boolean } }> {
    const latest = { group: status.group, healthy: status.healthy, queue: status.queue, at: status.at };
    const key = marshall(agentItem(tenantId, agentId));
    const setOne = async () => {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'SET modems.#m = :latest',
          // Only known agents, and an older report never overwrites a newer one.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(modems.#m) OR modems.#m.#at <= :at)',
          ExpressionAttributeNames: { '#m': status.modem, '#at': 'at' },
          ExpressionAttributeValues: marshall({ ':latest': latest, ':at': status.at }),
          // the replaced report, in the same atomic write: a change of health is a service event
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = out.Attributes ? unmarshall(out.Attributes) : undefined;
      const previous = (old?.modems as Record<string, { healthy?: unknown }> | undefined)?.[status.modem];
      return previous
        ? { applied: true, previous: { healthy: previous.healthy === true } }
        : { applied: true };
    };
    let result: { applied: boolean; previous?: { healthy: boolean } };
    try {
      result = await setOne();
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { applied: false };
      if ((error as { name?: string }).name !== 'ValidationException') throw error;
      // The agent's first report: the map does not exist yet.
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: 'SET modems = :map',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(modems)',
            ExpressionAttributeValues: marshall({ ':map': { [status.modem]: latest } }),
          }),
        );
        result = { applied: true };
      } catch (again) {
        if (!isConditionalCheckFailed(again)) throw again;
        result = await setOne().catch((last: unknown) => {
          if (!isConditionalCheckFailed(last)) throw last;
          return { applied: false };
        });
      }
    }
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          ...modemReportItem(tenantId, agentId, status.modem, status.at),
          tenantId,
          agentId,
          ...status,
          ttl: Math.ceil(Date.parse(status.at) / 1000) + MODEM_HISTORY_SECONDS,
        }),
      }),
    );
    return result;
  }

  async modemHistory(tenantId: string, agentId: string, modem: string, limit = 20): Promise<ModemReport[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: marshall({
          ':pk': tenantItem(tenantId).pk,
          ':prefix': modemReportPrefix(agentId, modem),
        }),
        ScanIndexForward: false,
        Limit: Math.min(Math.max(1, limit), 100),
      }),
    );
    return (out.Items ?? []).map((raw) => {
      const { pk: _pk, sk: _sk, ttl: _ttl, tenantId: _t, agentId: _a, ...report } = unmarshall(raw);
      return report as ModemReport;
    });
  }
}
