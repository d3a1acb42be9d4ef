/**
 * The local broker's logins, against a real directory in dynalite: the cloud side with this run's service
 * password, an agent with its registered secret while its tenant is active, and nobody else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTenantStore } from '../../functions/adapters/dynamo/tenant-store.ts';
import type { BrokerOptions } from '../../functions/local/broker.ts';
import { brokerAuthenticator, SERVICE_USERNAME } from '../../functions/local/broker-auth.ts';
import { type CloudFixture, startCloud, TABLE } from '../support/cloud.ts';

let cloud: CloudFixture;
let authenticate: BrokerOptions['authenticate'];
const SERVICE_PASSWORD = 'this-run-only';

beforeAll(async () => {
  cloud = await startCloud();
  authenticate = brokerAuthenticator({
    directory: cloud.stores.directory,
    stage: 'local',
    servicePassword: SERVICE_PASSWORD,
  });
});

afterAll(async () => {
  await cloud.close();
});

const login = (username: string, password: string | undefined) =>
  authenticate(username, password === undefined ? undefined : Buffer.from(password), username);

describe('broker logins', () => {
  it('lets the cloud side in as service with this run’s password only', async () => {
    expect(await login(SERVICE_USERNAME, SERVICE_PASSWORD)).toEqual({ kind: 'service' });
    expect(await login(SERVICE_USERNAME, `${SERVICE_PASSWORD}x`)).toBeNull();
    expect(await login(SERVICE_USERNAME, undefined)).toBeNull();
  });

  it('lets an agent in with its own secret, as itself', async () => {
    const { tenantId, agent } = cloud.seed;
    expect(await login(`local:${tenantId}:${agent.agentId}`, agent.secret)).toEqual({
      kind: 'agent',
      stage: 'local',
      tenantId,
      agentId: agent.agentId,
    });
  });

  it('refuses another agent’s secret, unknown agents and malformed user names', async () => {
    const { tenantId, agent } = cloud.seed;
    const other = cloud.other;
    expect(await login(`local:${tenantId}:${agent.agentId}`, other.agent.secret)).toBeNull();
    expect(await login(`local:${tenantId}:${agent.agentId}`, '')).toBeNull();
    expect(await login(`local:${tenantId}:no-such-agent`, agent.secret)).toBeNull();
    expect(await login(`local:${other.tenantId}:${agent.agentId}`, agent.secret)).toBeNull();
    // the dotted form was never a legal IoT thing name
    for (const name of [
      tenantId,
      // the unstaged name, and the same agent in another stage (whose directory this is not)
      `${tenantId}:${agent.agentId}`,
      `prod:${tenantId}:${agent.agentId}`,
      `${tenantId}:`,
      `:${agent.agentId}`,
      `${tenantId}:${agent.agentId}:x`,
      `${tenantId}.${agent.agentId}`,
    ])
      expect(await login(name, agent.secret)).toBeNull();
  });

  it('refuses the agents of a tenant that is not active, and lets them back in once it is', async () => {
    const { tenantId, agent } = cloud.other;
    const tenants = new DynamoTenantStore(cloud.dynamo, TABLE);
    await tenants.update(tenantId, { status: 'suspended' });
    expect(await login(`local:${tenantId}:${agent.agentId}`, agent.secret)).toBeNull();
    await tenants.update(tenantId, { status: 'active' });
    expect(await login(`local:${tenantId}:${agent.agentId}`, agent.secret)).toMatchObject({ kind: 'agent' });
  });
});
