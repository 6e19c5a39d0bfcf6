import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** An API Gateway v2 answer with a JSON body; `headers` come after the content type. */
export const jsonResponse = (
  statusCode: number,
  body: Record<string, unknown>,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
