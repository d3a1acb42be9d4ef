import {
  type DynamoDBClient,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';

/** True when DynamoDB refused a conditional write: a lost race or an unexpected state, not a failure. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** The write's result, or undefined when its condition did not hold; any other error is thrown. */
export async function unlessConditionFails<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return undefined;
    throw error;
  }
}

/** A conditional UpdateItem: true when it landed, false when its condition did not hold. */
export async function conditionalUpdate(
  client: DynamoDBClient,
  input: UpdateItemCommandInput,
): Promise<boolean> {
  return (await unlessConditionFails(client.send(new UpdateItemCommand(input)))) !== undefined;
}
