import type { FastifySchemaValidationError } from 'fastify';

const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** `/items/0/quantity` under `body` → `body.items[0].quantity`. */
function fieldName(part: string, instancePath: string): string {
  let name = PART_NAMES[part] ?? part;
  for (const segment of instancePath.split('/').slice(1)) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    name += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  return name;
}

function describe(part: string, err: FastifySchemaValidationError): string {
  const field = fieldName(part, err.instancePath);
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties':
      return `${field} has an unknown field "${String(params.additionalProperty)}"`;
    case 'required':
      return `${field}.${String(params.missingProperty)} is required`;
    case 'enum':
      return `${field} must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
    default:
      return `${field} ${err.message ?? 'is not valid'}`;
  }
}

/**
 * A readable sentence naming the offending field, built from the first schema error. For a union
 * (`anyOf`) the reason each alternative failed is listed, since any of them may be what the
 * client meant.
 */
export function validationMessage(part: string, errors: readonly FastifySchemaValidationError[]): string {
  const union = errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (union) {
    const branches = errors.filter((e) => e !== union && e.schemaPath.startsWith(`${union.schemaPath}/`));
    const reasons = branches.map((e) => describe(part, e)).join('; or ');
    return `${fieldName(part, union.instancePath)} matches none of the accepted shapes${reasons ? `: ${reasons}` : ''}`;
  }
  const first = errors[0];
  return first ? describe(part, first) : `${fieldName(part, '')} is not valid`;
}
