/** True when DynamoDB refused a conditional write: a lost race or an unexpected state, not a failure. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
