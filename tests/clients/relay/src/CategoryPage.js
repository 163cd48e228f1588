// One category, named by the provider's id. TalentLMS numbers categories and users alike:
// category 23 and user 23 both have remoteId "23", and only their ids tell them apart.
import { graphql } from 'relay-runtime';

export const CategoryPage = graphql`
  query CategoryPageQuery($remoteId: ID!) {
    category(remoteId: $remoteId) {
      __typename
      id
      remoteId
      name
    }
  }
`;
