// GraphQL Code Generator: TypeScript types for every operation in queries/, checked against
// the gateway's schema, and typed documents a client accepts in place of a gql`` tag.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../../schema/schema.graphql',
  documents: '../../queries/*.graphql',
  generates: {
    'codegen/generated/graphql.ts': {
      // typescript-operations writes the schema types the operations use (enums, inputs)
      // itself; the `typescript` plugin, which writes every type of the schema, is not needed.
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        scalars: { DateTime: 'string', JSON: 'unknown' },
        useTypeImports: true,
      },
    },
  },
};

export default config;
