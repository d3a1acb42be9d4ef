/**
 * The demo tenant a newcomer gets from `npm start`: two users, one key of each kind, and one edge agent.
 * Writes are idempotent, so a second start finds everything in place and keeps what it had.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { CONFIG_PREFIX } from '../adapters/dynamo/config-store.ts';
import {
  agentItem,
  configItem,
  keyItem,
  keyListPartition,
  TENANT_LIST,
  tenantItem,
  userItem,
} from '../adapters/dynamo/keys.ts';
import { mintKey, parseKey } from '../core/api-keys.ts';
import { newId } from '../core/ids.ts';
import type { KeyKind, Tenant, User } from '../core/model.ts';
import { DEFAULT_PASSCODE } from '../core/passcode.ts';
import { secretHash } from '../core/secrets.ts';

export interface DemoSeed {
  tenantId: string;
  keys: Record<KeyKind, string>;
  agent: { agentId: string; secret: string; modemGroups: string[] };
  users: User[];
}

export const DEMO_TENANT_ID = 'demo';
export const DEMO_MODEM_GROUP = 'default';

export function demoTenant(tenantId = DEMO_TENANT_ID): Tenant {
  return {
    id: tenantId,
    name: 'Demo Corp',
    status: 'active',
    defaultCountry: 'DK',
    allowedCountries: ['DK', 'SE', 'NO', 'DE', 'GB'],
    userLimit: 1000,
    passcode: DEFAULT_PASSCODE,
    messageTemplate:
      'Your login code is {code}. It expires in {minutes} minutes. Login from {ip} via {client}.',
    defaultModemGroup: DEMO_MODEM_GROUP,
  };
}

export function demoUsers(tenantId = DEMO_TENANT_ID): User[] {
  return [
    {
      tenantId,
      username: 'alice',
      mobile: '+4520123456',
      mobileType: 'fixed_line_or_mobile',
      secondaryMobile: '+4530123456',
      secondaryMobileType: 'fixed_line_or_mobile',
      email: 'alice@corp.example.test',
    },
    {
      tenantId,
      username: 'bob',
      mobile: '+4520654321',
      mobileType: 'fixed_line_or_mobile',
      secondaryMobile: null,
      email: 'bob@corp.example.test',
    },
  ];
}

async function put(client: DynamoDBClient, table: string, item: Record<string, unknown>) {
  await client.send(
    new PutItemCommand({ TableName: table, Item: marshall(item, { removeUndefinedValues: true }) }),
  );
}

/** Mints fresh keys unless `previous` has working ones for this tenant (kept in `.local/stack.json`). */
export async function seedTenant(
  client: DynamoDBClient,
  table: string,
  options: { tenantId?: string; previous?: Partial<DemoSeed>; users?: User[] } = {},
): Promise<DemoSeed> {
  const tenantId = options.tenantId ?? DEMO_TENANT_ID;
  const tenant = demoTenant(tenantId);
  await put(client, table, {
    ...tenantItem(tenantId),
    ...TENANT_LIST,
    gsi1sk: tenantId,
    tenantId,
    ...tenant,
    createdAt: new Date().toISOString(),
  });
  // The default modem group as an object, so load-balancing rules can name it.
  const createdAt = new Date().toISOString();
  await put(client, table, {
    ...configItem(tenantId, CONFIG_PREFIX.modemGroup, DEMO_MODEM_GROUP),
    tenantId,
    configKind: 'modemGroup',
    name: DEMO_MODEM_GROUP,
    description: "The demo edge agent's simulated modems",
    createdAt,
    updatedAt: createdAt,
  });

  const kinds: KeyKind[] = ['auth', 'sync', 'admin', 'operator'];
  const keys = {} as Record<KeyKind, string>;
  for (const kind of kinds) {
    const prior = options.previous?.keys?.[kind];
    const parsed = parseKey(prior);
    const fits = parsed && parsed.kind === kind && parsed.tenantId === (kind === 'operator' ? '' : tenantId);
    const minted = fits
      ? { key: prior!, hash: parsed.hash, prefix: prior!.slice(0, prior!.lastIndexOf('.') + 5) }
      : mintKey(kind, kind === 'operator' ? '' : tenantId);
    const keyTenant = kind === 'operator' ? '' : tenantId;
    const createdAt = new Date().toISOString();
    await put(client, table, {
      ...keyItem(minted.hash),
      kind,
      tenantId: keyTenant,
      prefix: minted.prefix,
      createdAt,
      // Listed under the tenant (gsi1), like keys minted through the admin API.
      gsi1pk: keyListPartition(keyTenant),
      gsi1sk: `${createdAt}#${minted.prefix}`,
    });
    keys[kind] = minted.key;
  }

  const users = options.users ?? demoUsers(tenantId);
  for (const user of users) await put(client, table, { ...userItem(tenantId, user.username), ...user });

  const priorAgent = options.previous?.agent;
  const agent = {
    agentId: priorAgent?.agentId ?? 'edge-1',
    secret: priorAgent?.secret ?? newId(24),
    modemGroups: [DEMO_MODEM_GROUP],
  };
  await registerAgent(client, table, tenantId, agent);
  return { tenantId, keys, agent, users };
}

/** Registers (or re-registers) an edge agent of the tenant with its credentials and modem groups. */
export async function registerAgent(
  client: DynamoDBClient,
  table: string,
  tenantId: string,
  agent: { agentId: string; secret: string; modemGroups: string[] },
): Promise<void> {
  await put(client, table, {
    ...agentItem(tenantId, agent.agentId),
    tenantId,
    agentId: agent.agentId,
    secretHash: secretHash(agent.secret),
    modemGroups: agent.modemGroups,
    state: 'unknown',
  });
}
