"""Community group buying (社区团购): leaders and pickup points, daily waves, purchase
orders and sorting lists, pickup with a code, and the leader's commission. The rules
are in docs/community.md."""
