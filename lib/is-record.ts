/** A JSON object (not null, not an array): what parsed request bodies must be before their fields are read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
