// The learner dashboard (queries/learner_dashboard_fragments.graphql) as Relay components
// write it: the page's query spreads each component's fragment.
import { graphql } from 'relay-runtime';

export const Dashboard = graphql`
  query DashboardQuery {
    users(first: 5) {
      nodes {
        __typename
        id
        remoteId
        ...UserCard_user
        enrollments {
          nodes {
            __typename
            id
            remoteId
            status
            progressPercent
            completedAt
            course { __typename id remoteId ...CourseCard_course }
          }
        }
      }
    }
  }
`;
