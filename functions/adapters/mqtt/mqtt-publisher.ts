import type { MqttClient } from 'mqtt';
import { jobsTopic, type SmsJob } from '../../contracts/index.ts';
import type { JobPublisher } from '../../core/ports/agents.ts';

/** Publishes jobs through a plain MQTT connection (the local broker, or any MQTT 3.1.1/5 broker). */
export class MqttJobPublisher implements JobPublisher {
  constructor(
    private readonly client: MqttClient,
    /** The stage whose agents' topics the jobs go to. */
    private readonly stage: string,
  ) {}

  async publishJob(tenantId: string, agentId: string, job: SmsJob): Promise<void> {
    const topic = jobsTopic({ stage: this.stage, tenantId, agentId });
    await this.client.publishAsync(topic, JSON.stringify(job), { qos: 1 });
  }
}
