// The rules the exported SDL (schema/schema.graphql, and schema/schema.federation.graphql
// with federation-directives.graphql) must pass. Why each is kept, and why the others are
// dropped: docs/api.md, "Schema conventions". tests/test_schema_lint.py runs the linter.
module.exports = {
  rules: [
    // Every element explains itself, in GraphiQL's docs and in introspection.
    'types-have-descriptions',
    'fields-have-descriptions',
    'arguments-have-descriptions',
    'input-object-values-have-descriptions',
    'enum-values-have-descriptions',
    'deprecations-have-a-reason',
    'descriptions-are-capitalized',
    // GraphQL's naming conventions.
    'types-are-capitalized',
    'fields-are-camel-cased',
    'input-object-values-are-camel-cased',
    'enum-values-all-caps',
    'defined-types-are-used',
    // The Relay cursor connections spec, which the lists follow.
    'relay-connection-types-spec',
    'relay-connection-arguments-spec',
    'relay-page-info-spec',
    // Dropped: type-fields-sorted-alphabetically, input-object-fields-sorted-alphabetically,
    // interface-fields-sorted-alphabetically and enum-values-sorted-alphabetically. The
    // schema orders fields as the unified model does (id first, related fields together)
    // and enum values by meaning (lifecycle order), which reads better than A to Z.
  ],
  // Names the Apollo Federation spec fixes, which a subgraph cannot choose.
  ignore: {
    'fields-are-camel-cased': ['Query._service', 'Query._entities'],
    'types-are-capitalized': ['_Service'],
  },
};
