// Validates an OpenAPI document with @apidevtools/swagger-parser (which
// checks OpenAPI 3.1 against its JSON Schema and resolves every $ref).
// Usage: node validate.mjs FILE
import SwaggerParser from '@apidevtools/swagger-parser';

const file = process.argv[2];
if (!file) {
  console.error('usage: node validate.mjs FILE');
  process.exit(2);
}
try {
  const doc = await SwaggerParser.validate(file);
  console.log(`${file}: valid OpenAPI ${doc.openapi} (${Object.keys(doc.paths || {}).length} paths)`);
} catch (err) {
  console.error(`${file}: not valid OpenAPI: ${err.message}`);
  process.exit(1);
}
