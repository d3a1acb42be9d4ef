import { type IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { jobsTopic, type SmsJob } from '../../contracts/index.ts';
import type { JobPublisher } from '../../core/ports/agents.ts';

/** Publishes jobs through AWS IoT Core's data plane over HTTPS: no MQTT connection to hold open in a Lambda. */
export class IotJobPublisher implements JobPublisher {
  constructor(
    private readonly client: IoTDataPlaneClient,
    /** The stage whose agents' topics the jobs go to. */
    private readonly stage: string,
  ) {}

  async publishJob(tenantId: string, agentId: string, job: SmsJob): Promise<void> {
    await this.client.send(
      new PublishCommand({
        topic: jobsTopic({ stage: this.stage, tenantId, agentId }),
        qos: 1,
        payload: new TextEncoder().encode(JSON.stringify(job)),
      }),
    );
  }
}
