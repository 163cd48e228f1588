// A user's card. In an app this file is the component and the babel (or SWC) Relay plugin
// replaces the graphql tag with the artifact relay-compiler writes to relay/__generated__;
// here the tags are relay-compiler's input and relay.test.mjs imports the artifacts.
import { graphql } from 'relay-runtime';

// @refetchable: relay-compiler writes UserCardRefetchQuery, `node(id: $id) { ...UserCard_user }`,
// which useRefetchableFragment sends to read this user again.
export const UserCard = graphql`
  fragment UserCard_user on User @refetchable(queryName: "UserCardRefetchQuery") {
    __typename
    id
    remoteId
    name
    role
    emails { email }
    organization { __typename id remoteId name }
    groups { __typename id remoteId name }
  }
`;
