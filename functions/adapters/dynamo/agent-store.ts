/**
 * Agent records (the same `AGENT#<id>` item the router and the events function read) and one-time enrolment
 * tokens (`ENROL#<sha256>`, one item each, gone a day after they expire). Taking a token is one conditional
 * write, so however many enrolments race with one token, exactly one gets it.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  AgentRecord,
  AgentStore,
  EnrolmentTokenRecord,
  TokenTake,
} from '../../core/ports/agent-registry.ts';
import { toAgent } from './directory-store.ts';
import { conditionalUpdate, unlessConditionFails } from './errors.ts';
import { AGENT_PREFIX, agentItem, tenantItem } from './keys.ts';
import { queryPages } from './query.ts';

const tokenItem = (hash: string) => ({ pk: `ENROL#${hash}`, sk: 'ENROL' });
const TOKEN_KEPT_SECONDS = 24 * 3600;

const toRecord = (item: Record<string, unknown>): AgentRecord => ({
  ...toAgent(item),
  createdAt: typeof item.createdAt === 'string' ? item.createdAt : '',
  updatedAt: typeof item.updatedAt === 'string' ? item.updatedAt : String(item.createdAt ?? ''),
});

export class DynamoAgentStore implements AgentStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(agent: AgentRecord): Promise<boolean> {
    const { secretHash: _none, ...fields } = agent;
    const put = this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          { ...agentItem(agent.tenantId, agent.agentId), ...fields },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return (await unlessConditionFails(put)) !== undefined;
  }

  async get(tenantId: string, agentId: string): Promise<AgentRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(agentItem(tenantId, agentId)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? toRecord(unmarshall(out.Item)) : undefined;
  }

  async list(tenantId: string): Promise<AgentRecord[]> {
    const agents: AgentRecord[] = [];
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: marshall({ ':pk': tenantItem(tenantId).pk, ':prefix': AGENT_PREFIX }),
    }))
      for (const raw of out.Items ?? []) agents.push(toRecord(unmarshall(raw)));
    return agents;
  }

  async update(
    tenantId: string,
    agentId: string,
    change: { displayName?: string | null; modemGroups?: string[] },
    at: string,
  ): Promise<AgentRecord | undefined> {
    const sets = ['updatedAt = :at'];
    const removes: string[] = [];
    const values: Record<string, unknown> = { ':at': at };
    if (change.displayName === null) removes.push('displayName');
    else if (change.displayName !== undefined) {
      sets.push('displayName = :name');
      values[':name'] = change.displayName;
    }
    if (change.modemGroups !== undefined) {
      sets.push('modemGroups = :groups');
      values[':groups'] = change.modemGroups;
    }
    const out = await unlessConditionFails(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(agentItem(tenantId, agentId)),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall(values),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return out?.Attributes ? toRecord(unmarshall(out.Attributes)) : undefined;
  }

  async setCertificate(
    tenantId: string,
    agentId: string,
    certificate: {
      thingName: string;
      certificateRef: string;
      certificateFingerprint: string;
      publicKeyPem?: string;
    },
    at: string,
  ): Promise<false | { replaced?: string }> {
    const out = await unlessConditionFails(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(agentItem(tenantId, agentId)),
          UpdateExpression:
            'SET thingName = :thing, certificateRef = :ref, certificateFingerprint = :fp, enrolledAt = :at, updatedAt = :at' +
            (certificate.publicKeyPem ? ', agentPublicKey = :key' : ''),
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: marshall({
            ':thing': certificate.thingName,
            ':ref': certificate.certificateRef,
            ':fp': certificate.certificateFingerprint,
            ':at': at,
            ...(certificate.publicKeyPem && { ':key': certificate.publicKeyPem }),
          }),
          // the certificate this one replaces (one update: concurrent enrolments each learn their own)
          ReturnValues: 'UPDATED_OLD',
        }),
      ),
    );
    if (!out) return false;
    const old = out.Attributes ? unmarshall(out.Attributes) : {};
    return typeof old.certificateRef === 'string' && old.certificateRef !== certificate.certificateRef
      ? { replaced: old.certificateRef }
      : {};
  }

  async clearCertificate(tenantId: string, agentId: string, certificateRef: string, at: string) {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(agentItem(tenantId, agentId)),
      UpdateExpression: 'SET updatedAt = :at REMOVE certificateRef, certificateFingerprint, agentPublicKey',
      ConditionExpression: 'certificateRef = :ref',
      ExpressionAttributeValues: marshall({ ':ref': certificateRef, ':at': at }),
    });
  }

  async delete(tenantId: string, agentId: string): Promise<AgentRecord | undefined> {
    const out = await this.client.send(
      new DeleteItemCommand({
        TableName: this.table,
        Key: marshall(agentItem(tenantId, agentId)),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes ? toRecord(unmarshall(out.Attributes)) : undefined;
  }

  async putToken(hash: string, token: EnrolmentTokenRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          {
            ...tokenItem(hash),
            ...token,
            ttl: Math.floor(Date.parse(token.expiresAt) / 1000) + TOKEN_KEPT_SECONDS,
          },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getToken(hash: string): Promise<EnrolmentTokenRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(tokenItem(hash)), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const item = unmarshall(out.Item);
    return {
      tenantId: String(item.tenantId),
      agentId: String(item.agentId),
      expiresAt: String(item.expiresAt),
      ...(typeof item.usedAt === 'string' && { usedAt: item.usedAt }),
    };
  }

  async takeToken(hash: string, now: string): Promise<TokenTake> {
    const taken = await conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(tokenItem(hash)),
      UpdateExpression: 'SET usedAt = :now',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedAt) AND expiresAt > :now',
      ExpressionAttributeValues: marshall({ ':now': now }),
    });
    if (taken) return 'taken';
    const token = await this.getToken(hash);
    if (!token) return 'missing';
    return token.usedAt ? 'used' : 'expired';
  }

  async releaseToken(hash: string, usedAt: string): Promise<void> {
    await conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(tokenItem(hash)),
      UpdateExpression: 'REMOVE usedAt',
      ConditionExpression: 'usedAt = :used',
      ExpressionAttributeValues: marshall({ ':used': usedAt }),
    });
  }
}
