/** Puts an RPC request on one agent's `rpc/req` topic (QoS 1): over IoT Core's data plane in AWS, MQTT locally. */
import { type IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import type { MqttClient } from 'mqtt';
import { type RpcRequest, rpcRequestTopic } from '../../contracts/index.ts';
import type { RpcPublisher } from '../../core/ports/rpc.ts';

export class IotRpcPublisher implements RpcPublisher {
  constructor(
    private readonly client: IoTDataPlaneClient,
    /** The stage whose agents' topics the requests go to. */
    private readonly stage: string,
  ) {}

  async publishRequest(tenantId: string, agentId: string, request: RpcRequest): Promise<void> {
    await this.client.send(
      new PublishCommand({
        topic: rpcRequestTopic({ stage: this.stage, tenantId, agentId }),
        qos: 1,
        payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
    );
  }
}

export class MqttRpcPublisher implements RpcPublisher {
  constructor(
    private readonly client: MqttClient,
    /** The stage whose agents' topics the requests go to. */
    private readonly stage: string,
  ) {}

  async publishRequest(tenantId: string, agentId: string, request: RpcRequest): Promise<void> {
    await this.client.publishAsync(
      rpcRequestTopic({ stage: this.stage, tenantId, agentId }),
      JSON.stringify(request),
      {
        qos: 1,
      },
    );
  }
}
