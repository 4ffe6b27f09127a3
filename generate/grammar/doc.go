// Package grammar turns a JSON schema into a GBNF grammar for llama.cpp's
// grammar sampler, so that constrained generation yields a document that
// parses and validates whatever the model's weights, and checks documents
// against the same schema subset (Validate).
//
// The subset: type (one or a list), object with properties, required and
// additionalProperties (false, true or absent: only declared properties are
// generated), nested objects, array with items, minItems and maxItems,
// enum, const, string with minLength and maxLength, integer, number,
// boolean, null, anyOf and oneOf (generated as alternatives), and $ref to
// "#/$defs/..." or "#/definitions/...". Annotations (title, description,
// default, examples, $schema, $id, $comment) are ignored. Keywords that
// would constrain output in a way the grammar cannot enforce (pattern,
// format, minimum, prefixItems, ...) are refused with an error that names
// them and wraps data.ErrUnsupported.
//
// Generated documents are compact (no whitespace between tokens) and
// numbers are bounded (at most 16 integer digits, 16 fraction digits and a
// 2-digit exponent) so that a constrained generation always has a way to
// end and every number fits a float64. Property order follows the schema.
package grammar
