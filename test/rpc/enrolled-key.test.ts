/**
 * Enrolment keeps the key the agent made on its box, and RPC secrets sealed for it open with the agent's
 * private key alone. An agent that logs in with a password has no key, so nothing secret is sent to it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeKeyAndCsr } from '../../edge-agent/enroll/csr.ts';
import { DynamoRpcAgentDirectory } from '../../functions/adapters/dynamo/rpc-store.ts';
import { createLogger } from '../../functions/adapters/log.ts';
import { LOCAL_STAGE, open, rpcSealContext, seal, thingName } from '../../functions/contracts/index.ts';
import { sealable } from '../../functions/core/rpc.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, startLocalStack, TABLE_NAME } from '../../functions/local/stack.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ edge: false, log: createLogger({}, { level: 'error' }) });
});
afterAll(async () => stack?.stop());

const call = async (key: string | undefined, route: string, body?: unknown) => {
  const res = await fetch(`${stack.json.apiUrl}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(key && { authorization: `Bearer ${key}` }), 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown>;
};

it('stores the enrolled public key, which seals secrets only that agent opens', async () => {
  const tenantId = stack.seed.tenantId;
  const registered = await call(stack.json.adminKey, '/v1/agents', {
    agentId: 'branch-7',
    modemGroups: ['default'],
  });
  const token = (registered.enrolment as { token: string }).token;
  const { keyPem, csrPem } = makeKeyAndCsr(thingName({ stage: LOCAL_STAGE, tenantId, agentId: 'branch-7' }));
  await call(undefined, '/v1/enrolments', { token, csr: csrPem });

  const dynamo = localDynamo(stack.dynamoEndpoint);
  try {
    const agents = await new DynamoRpcAgentDirectory(dynamo, TABLE_NAME).list(tenantId);
    const enrolled = agents.find((a) => a.agentId === 'branch-7');
    expect(enrolled?.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(sealable(enrolled!)).toBe(true);
    const ctx = rpcSealContext('req_abcdefgh', 'ad.setPassword', 'newPassword');
    expect(open(keyPem, seal(enrolled!.publicKeyPem!, 'N3w pässword', ctx), ctx)).toBe('N3w pässword');
    // the demo agent logs in with a password: no key, so nothing is sealed for it
    const demo = agents.find((a) => a.agentId === stack.seed.agent.agentId);
    expect(demo?.publicKeyPem).toBeUndefined();
    expect(sealable(demo!)).toBe(false);
  } finally {
    dynamo.destroy();
  }
});
