/**
 * The demo tenant a newcomer gets from `npm start`: two users, one key of each kind, and one edge agent.
 * Writes are idempotent, so a second start finds everything in place and keeps what it had.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { CONFIG_PREFIX } from '../adapters/dynamo/config-store.ts';
import { DynamoKeyStore } from '../adapters/dynamo/key-store.ts';
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

async function get(client: DynamoDBClient, table: string, key: Record<string, string>) {
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: marshall(key), ConsistentRead: true }),
  );
  return out.Item ? unmarshall(out.Item) : undefined;
}

/** The hashes of the keys the seed handed out last, so a key it replaces is revoked, not left working. */
const seedKeysItem = (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'SEEDKEYS' });

/**
 * Keeps the keys in `previous` (`.local/stack.json`) while they are live; mints a key of each kind it has no
 * live one for, and revokes the key that one replaces. The tenant keeps one seeded key of each kind however
 * often the stack restarts without its `stack.json`; keys minted through the admin API are left alone.
 */
export async function seedTenant(
  client: DynamoDBClient,
  table: string,
  options: { tenantId?: string; previous?: Partial<DemoSeed> | undefined; users?: User[] } = {},
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
  const handedOut = (await get(client, table, seedKeysItem(tenantId)))?.hashes as
    | Partial<Record<KeyKind, string>>
    | undefined;
  const hashes = {} as Record<KeyKind, string>;
  const keyStore = new DynamoKeyStore(client, table);
  for (const kind of kinds) {
    const keyTenant = kind === 'operator' ? '' : tenantId;
    const prior = options.previous?.keys?.[kind];
    const parsed = parseKey(prior);
    const fits = parsed && parsed.kind === kind && parsed.tenantId === keyTenant;
    const stored = fits ? await get(client, table, keyItem(parsed.hash)) : undefined;
    // A key revoked through the admin API stays revoked: a new one takes its place.
    const reuse = fits && typeof stored?.revokedAt !== 'string';
    const minted = reuse
      ? { key: prior!, hash: parsed.hash, prefix: prior!.slice(0, prior!.lastIndexOf('.') + 5) }
      : mintKey(kind, keyTenant);
    if (!stored || !reuse) {
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
    }
    const replaced = handedOut?.[kind];
    if (replaced && replaced !== minted.hash)
      await keyStore.revoke(replaced, keyTenant, new Date().toISOString());
    keys[kind] = minted.key;
    hashes[kind] = minted.hash;
  }
  await put(client, table, { ...seedKeysItem(tenantId), hashes });

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
