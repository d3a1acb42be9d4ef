import type { MqttClient } from 'mqtt';
import { jobsTopic, type SmsJob } from '../../contracts/index.ts';
import type { JobPublisher } from '../../core/ports/agents.ts';

/** Publishes jobs through a plain MQTT connection (the local broker, or any MQTT 3.1.1/5 broker). */
export class MqttJobPublisher implements JobPublisher {
  constructor(private readonly client: MqttClient) {}

  async publishJob(tenantId: string, agentId: string, job: SmsJob): Promise<void> {
    await this.client.publishAsync(jobsTopic({ tenantId, agentId }), JSON.stringify(job), { qos: 1 });
  }
}
