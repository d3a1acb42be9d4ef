/**
 * The service-status log: one item per event under the tenant's own log partition, sorted by time, and in
 * gsi1 under the tenant and agent for one agent's events. Items expire by TTL.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  SERVICE_EVENT_RETENTION_DAYS,
  SERVICE_EVENT_TYPES,
  type ServiceEventRow,
} from '../../contracts/service-events.ts';
import type { ServiceEventStore } from '../../core/ports/service-events.ts';
import { InvalidServiceEventCursorError } from '../../core/service-events.ts';
import { serviceEventAgentPartition, serviceEventPartition } from './keys.ts';

/** `<at>#<agentId>#<type>#<digest of the fact>`: time-ordered, and the same fact is the same key. */
const SORT_KEY = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[A-Za-z0-9_-]{1,64}#[a-z.]+#[A-Za-z0-9_-]{16}$/;

const encode = (sk: string) => Buffer.from(sk).toString('base64url');
function decode(cursor: string, since: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!SORT_KEY.test(sk) || sk < since) throw new InvalidServiceEventCursorError();
  return sk;
}

export class DynamoServiceEventStore implements ServiceEventStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async record(tenantId: string, event: ServiceEventRow, id: string): Promise<void> {
    const digest = createHash('sha256').update(id).digest('base64url').slice(0, 16);
    const sk = `${event.at}#${event.agentId}#${event.type}#${digest}`;
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          {
            pk: serviceEventPartition(tenantId),
            sk,
            gsi1pk: serviceEventAgentPartition(tenantId, event.agentId),
            gsi1sk: sk,
            ...event,
            ttl: Math.ceil(Date.parse(event.at) / 1000) + SERVICE_EVENT_RETENTION_DAYS * 24 * 3600,
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }

  async list(
    tenantId: string,
    options: { since: string; limit: number; agentId?: string; cursor?: string },
  ): Promise<{ events: ServiceEventRow[]; cursor?: string }> {
    const pk = serviceEventPartition(tenantId);
    const after = options.cursor ? decode(options.cursor, options.since) : undefined;
    const byAgent = options.agentId !== undefined;
    const agentPk = byAgent ? serviceEventAgentPartition(tenantId, options.agentId as string) : undefined;
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        ...(byAgent
          ? {
              IndexName: 'gsi1',
              KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk >= :since',
              ExpressionAttributeValues: marshall({ ':pk': agentPk, ':since': options.since }),
            }
          : {
              KeyConditionExpression: 'pk = :pk AND sk >= :since',
              ExpressionAttributeValues: marshall({ ':pk': pk, ':since': options.since }),
            }),
        ScanIndexForward: false,
        Limit: options.limit,
        ...(after && {
          ExclusiveStartKey: marshall(
            byAgent ? { pk, sk: after, gsi1pk: agentPk, gsi1sk: after } : { pk, sk: after },
          ),
        }),
      }),
    );
    const events = (out.Items ?? []).map((raw) => toRow(unmarshall(raw)));
    const last = out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined;
    return typeof last?.sk === 'string' ? { events, cursor: encode(last.sk) } : { events };
  }
}

function toRow(item: Record<string, unknown>): ServiceEventRow {
  const type = SERVICE_EVENT_TYPES.find((t) => t === item.type) ?? 'agent.disconnected';
  return {
    at: String(item.at),
    type,
    agentId: String(item.agentId),
    ...(typeof item.modem === 'string' && { modem: item.modem }),
    ...(typeof item.group === 'string' && { group: item.group }),
    ...(typeof item.reason === 'string' && { reason: item.reason }),
  };
}
