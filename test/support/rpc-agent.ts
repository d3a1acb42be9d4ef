/**
 * The agent's side of the RPC, as a peer for tests of the cloud: a real MQTT client that logs in to the local
 * broker with an agent's credentials, subscribes to its `rpc/req`, opens sealed secrets with its own P-256 key,
 * and answers on its `rpc/res` through a handler the test sets. It also announces its AD domains in
 * `agent.online`, as the edge agent does.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import mqtt from 'mqtt';
import { DynamoRpcAgentDirectory } from '../../functions/adapters/dynamo/rpc-store.ts';
import {
  eventsTopic,
  LOCAL_STAGE,
  open,
  parseRpcRequest,
  type RpcReply,
  type RpcRequest,
  rpcRequestTopic,
  rpcResponseTopic,
  rpcSealContext,
  type Sealed,
  thingName,
} from '../../functions/contracts/index.ts';
import { localDynamo } from '../../functions/local/aws-local.ts';
import { type LocalStack, TABLE_NAME } from '../../functions/local/stack.ts';

export type RpcHandler = (
  request: RpcRequest,
  agent: RpcAgentPeer,
) => RpcReply | RpcReply[] | undefined | Promise<RpcReply | RpcReply[] | undefined>;

export interface RpcAgentPeer {
  tenantId: string;
  agentId: string;
  client: mqtt.MqttClient;
  privateKey: KeyObject;
  requests: RpcRequest[];
  handler: RpcHandler;
  /** Opens a sealed field of a request with the agent's key. */
  openField(request: RpcRequest, field: string, sealed: Sealed): string;
  /** Publishes a raw reply on the agent's own rpc/res topic. */
  reply(reply: RpcReply): Promise<void>;
  close(): Promise<void>;
}

export async function startRpcAgent(
  stack: LocalStack,
  options: {
    agentId: string;
    secret: string;
    adDomains: string[];
    /** Store the agent's public key (as enrolment does); default true. */
    enrolKey?: boolean;
    handler?: RpcHandler;
  },
): Promise<RpcAgentPeer> {
  const tenantId = stack.seed.tenantId;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  if (options.enrolKey !== false) {
    const dynamo = localDynamo(stack.dynamoEndpoint);
    await new DynamoRpcAgentDirectory(dynamo, TABLE_NAME).setPublicKey(
      tenantId,
      options.agentId,
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    dynamo.destroy();
  }
  const address = { stage: LOCAL_STAGE, tenantId, agentId: options.agentId };
  const client = await mqtt.connectAsync(stack.json.mqttUrl, {
    clientId: thingName(address),
    username: thingName(address),
    password: options.secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const peer: RpcAgentPeer = {
    tenantId,
    agentId: options.agentId,
    client,
    privateKey,
    requests: [],
    handler: options.handler ?? (() => undefined),
    openField: (request, field, sealed) =>
      open(privateKey, sealed, rpcSealContext(request.id, request.method, field)),
    reply: async (reply) => {
      await client.publishAsync(rpcResponseTopic(address), JSON.stringify(reply), { qos: 1 });
    },
    close: () => client.endAsync(true),
  };
  client.on('message', (topic, payload) => {
    if (topic !== rpcRequestTopic(address)) return;
    const parsed = parseRpcRequest(JSON.parse(payload.toString('utf8')), new Date());
    if (!parsed.ok) return;
    peer.requests.push(parsed.request);
    void (async () => {
      const out = await peer.handler(parsed.request, peer);
      for (const reply of out === undefined ? [] : Array.isArray(out) ? out : [out]) await peer.reply(reply);
    })();
  });
  await client.subscribeAsync(rpcRequestTopic(address), { qos: 1 });
  await client.publishAsync(
    eventsTopic(address),
    JSON.stringify({
      v: 1,
      type: 'agent.online',
      at: new Date().toISOString(),
      version: 'test',
      modemGroups: [],
      adDomains: options.adDomains,
    }),
    { qos: 1 },
  );
  return peer;
}

export { until } from './wait.ts';
