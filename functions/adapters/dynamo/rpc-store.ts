/**
 * Pending RPCs (`RPC#<tenant>#<id>`, a partition each like challenges, gone by TTL once expired) and the RPC's
 * view of a tenant's agents: their announced AD domains and enrolled public key, on the `AGENT#<id>` item.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { RpcReply } from '../../contracts/rpc.ts';
import type { PendingRpc, RpcAgent, RpcAgentDirectory, RpcStore } from '../../core/ports/rpc.ts';
import { conditionalUpdate } from './errors.ts';
import { AGENT_PREFIX, agentItem, tenantItem } from './keys.ts';
import { queryPages } from './query.ts';

export const rpcItem = (tenantId: string, id: string) => ({ pk: `RPC#${tenantId}#${id}`, sk: 'RPC' });

export class DynamoRpcStore implements RpcStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(pending: PendingRpc): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          {
            ...rpcItem(pending.tenantId, pending.id),
            tenantId: pending.tenantId,
            id: pending.id,
            agentId: pending.agentId,
            method: pending.method,
            createdAt: pending.createdAt,
            expiresAt: pending.expiresAt,
            ttl: Math.ceil(Date.parse(pending.expiresAt) / 1000),
          },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(tenantId: string, id: string): Promise<PendingRpc | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(rpcItem(tenantId, id)),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const item = unmarshall(out.Item);
    // TTL deletes late: an expired item is as good as gone.
    if (typeof item.expiresAt !== 'string' || item.tenantId !== tenantId) return undefined;
    const reply = item.reply === undefined ? undefined : RpcReply.safeParse(item.reply);
    return {
      tenantId,
      id,
      agentId: String(item.agentId),
      method: item.method as PendingRpc['method'],
      createdAt: String(item.createdAt),
      expiresAt: item.expiresAt,
      ...(reply?.success && { reply: reply.data }),
      ...(typeof item.answeredAt === 'string' && { answeredAt: item.answeredAt }),
    };
  }

  answer(tenantId: string, id: string, agentId: string, reply: PendingRpc['reply'], nowIso: string) {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(rpcItem(tenantId, id)),
      UpdateExpression: 'SET reply = :reply, answeredAt = :now',
      ConditionExpression:
        'attribute_exists(pk) AND agentId = :agent AND attribute_not_exists(answeredAt) AND expiresAt > :now',
      ExpressionAttributeValues: marshall(
        { ':reply': reply, ':now': nowIso, ':agent': agentId },
        { removeUndefinedValues: true },
      ),
    });
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);

export class DynamoRpcAgentDirectory implements RpcAgentDirectory {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async list(tenantId: string): Promise<RpcAgent[]> {
    const agents: RpcAgent[] = [];
    for await (const out of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ProjectionExpression: 'agentId, #state, adDomains, agentPublicKey',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: marshall({ ':pk': tenantItem(tenantId).pk, ':prefix': AGENT_PREFIX }),
    }))
      for (const raw of out.Items ?? []) {
        const item = unmarshall(raw);
        agents.push({
          agentId: String(item.agentId),
          state: item.state === 'online' || item.state === 'offline' ? item.state : 'unknown',
          adDomains: strings(item.adDomains),
          ...(typeof item.agentPublicKey === 'string' && { publicKeyPem: item.agentPublicKey }),
        });
      }
    return agents;
  }

  noteDomains(tenantId: string, agentId: string, domains: string[], heardAt: string): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(agentItem(tenantId, agentId)),
      UpdateExpression: 'SET adDomains = :domains, adDomainsAt = :at',
      ConditionExpression:
        'attribute_exists(pk) AND (attribute_not_exists(adDomainsAt) OR adDomainsAt <= :at)',
      ExpressionAttributeValues: marshall({ ':domains': domains, ':at': heardAt }),
    });
  }

  /** Stores the key an agent enrolled with (enrolment does this; the local stack's tests do it for password agents). */
  async setPublicKey(tenantId: string, agentId: string, publicKeyPem: string): Promise<boolean> {
    return conditionalUpdate(this.client, {
      TableName: this.table,
      Key: marshall(agentItem(tenantId, agentId)),
      UpdateExpression: 'SET agentPublicKey = :key',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: marshall({ ':key': publicKeyPem }),
    });
  }
}
